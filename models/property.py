"""The physical register: parcels (宗地), buildings (楼栋) and units (不动产单元)."""
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, Timestamps

UNIT_USES = ("residential", "non_residential", "parking")


class Parcel(Audited, Timestamps, Model):
    __tablename__ = "parcel"
    __table_args__ = (
        CheckConstraint("length(code) = 19", name="ck_parcel_code_len"),
        CheckConstraint("area >= 0", name="ck_parcel_area"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(19), unique=True, nullable=False)
    location: Mapped[str] = mapped_column(String(200), nullable=False)
    area: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    land_use: Mapped[Optional[str]] = mapped_column(String(40))

    def __str__(self):
        return f"{self.code} {self.location}"


class Building(Audited, Timestamps, Model):
    __tablename__ = "building"
    __table_args__ = (
        UniqueConstraint("parcel_id", "number", name="uq_building_number"),
        CheckConstraint("floors > 0", name="ck_building_floors"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(Integer, ForeignKey("parcel.id"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(4), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    floors: Mapped[int] = mapped_column(Integer, nullable=False)
    survey_number: Mapped[Optional[str]] = mapped_column(String(14), unique=True)
    developer_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"))
    parcel = relationship(Parcel, backref="buildings", lazy="joined")

    def __str__(self):
        return self.name


class Unit(Audited, Timestamps, Model):
    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("length(unit_code) = 28", name="ck_unit_code_len"),
        CheckConstraint("area >= 0", name="ck_unit_area"),
        CheckConstraint("use IN ('residential','non_residential','parking')", name="ck_unit_use"),
        UniqueConstraint("building_id", "room", name="uq_unit_room"),
        Index("ix_unit_building_floor_room", "building_id", "floor", "room"),  # a building's units, floor by floor
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    building_id: Mapped[int] = mapped_column(Integer, ForeignKey("building.id"), nullable=False, index=True)
    unit_code: Mapped[str] = mapped_column(String(28), unique=True, nullable=False)
    survey_number: Mapped[Optional[str]] = mapped_column(String(14), index=True)
    location: Mapped[str] = mapped_column(String(200), nullable=False)
    room: Mapped[str] = mapped_column(String(20), nullable=False)
    floor: Mapped[int] = mapped_column(Integer, nullable=False)
    area: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    use: Mapped[str] = mapped_column(String(20), nullable=False, default="residential")
    mortgaged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    pre_noticed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # 预售备案: the pre-sale contract is filed with the housing authority (细则 art. 75 excludes the unit
    # from a mortgage on the building under construction, as it does a pre-noticed one).
    presale_filed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    sealed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    objected: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    building = relationship(Building, backref="units", lazy="joined")

    def __str__(self):
        return f"{self.location}"
