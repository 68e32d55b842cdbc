"""The physical register: parcels (宗地), buildings (楼栋) and units (不动产单元)."""
import datetime as dt
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, Timestamps

UNIT_USES = ("residential", "non_residential", "parking")
# Sane ranges of the register (m², floors), held by the forms and, as CHECK constraints, by the database.
UNIT_AREA_MAX = 1_000_000          # a unit's area is below this (exclusive), and above 0
PARCEL_AREA_MAX = 1_000_000_000    # a parcel's area likewise (1,000 km²)
FLOOR_MIN, FLOOR_MAX = -10, 200    # a unit's floor (negative: underground)
BUILDING_FLOORS_MAX = 200          # a building has 1 to this many floors


class Parcel(Audited, Timestamps, Model):
    __tablename__ = "parcel"
    __table_args__ = (
        CheckConstraint("length(code) = 19", name="ck_parcel_code_len"),
        CheckConstraint("area >= 0", name="ck_parcel_area"),
        CheckConstraint(f"area > 0 AND area < {PARCEL_AREA_MAX}", name="ck_parcel_area_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(19), unique=True, nullable=False)
    location: Mapped[str] = mapped_column(String(200), nullable=False)
    area: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    land_use: Mapped[Optional[str]] = mapped_column(String(40))
    # GeoJSON Polygon in metres on the local plane (app/services/plans.py draws the 宗地图 from it).
    geometry: Mapped[Optional[str]] = mapped_column(Text)
    right_nature: Mapped[Optional[str]] = mapped_column(String(60))  # 权利性质, e.g. 出让/市场化商品房
    term_start: Mapped[Optional[dt.date]] = mapped_column(Date)  # 土地使用期限
    term_end: Mapped[Optional[dt.date]] = mapped_column(Date)

    def __str__(self):
        return f"{self.code} {self.location}"


class Building(Audited, Timestamps, Model):
    __tablename__ = "building"
    __table_args__ = (
        UniqueConstraint("parcel_id", "number", name="uq_building_number"),
        CheckConstraint("floors > 0", name="ck_building_floors"),
        CheckConstraint(f"floors BETWEEN 1 AND {BUILDING_FLOORS_MAX}", name="ck_building_floors_range"),
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
        CheckConstraint(f"area > 0 AND area < {UNIT_AREA_MAX}", name="ck_unit_area_range"),
        CheckConstraint(f"floor BETWEEN {FLOOR_MIN} AND {FLOOR_MAX}", name="ck_unit_floor_range"),
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
    # The unit's outline on its floor, GeoJSON Polygon in metres (the 分户图 is drawn from it).
    geometry: Mapped[Optional[str]] = mapped_column(Text)
    building = relationship(Building, backref="units", lazy="joined")

    def __str__(self):
        return f"{self.location}"
