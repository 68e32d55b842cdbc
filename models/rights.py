"""Registered rights: ownership (不动产权), mortgages (抵押权) and pre-notices (预告登记)."""
import datetime as dt
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, Scoped, Timestamps, utcnow
from .party import Party
from .property import Unit

RIGHT_STATUSES = ("current", "historical")


class Right(Audited, Timestamps, Model):
    """Ownership of one unit, evidenced by a certificate (不动产权证书)."""

    __tablename__ = "ownership"
    __table_args__ = (
        CheckConstraint("status IN ('current','historical')", name="ck_right_status"),
        CheckConstraint("share_mode IN ('0','1','2','3')", name="ck_right_share_mode"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    certificate_number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    share_mode: Mapped[str] = mapped_column(String(1), nullable=False, default="0")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="current")
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id"))
    unit = relationship(Unit, backref="rights", lazy="joined")
    holders = relationship("RightHolder", back_populates="right", cascade="all, delete-orphan")

    def __str__(self):
        return self.certificate_number


class RightHolder(Audited, Model):
    __tablename__ = "right_holder"
    __table_args__ = (
        UniqueConstraint("right_id", "party_id", name="uq_right_holder"),
        CheckConstraint("share > 0 AND share <= 1", name="ck_right_holder_share"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    right_id: Mapped[int] = mapped_column(Integer, ForeignKey("ownership.id", ondelete="CASCADE"), nullable=False, index=True)
    party_id: Mapped[int] = mapped_column(Integer, ForeignKey("party.id"), nullable=False, index=True)
    share: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False, default=Decimal("1"))
    right = relationship(Right, back_populates="holders")
    party = relationship(Party, lazy="joined")


class Mortgage(Scoped, Audited, Timestamps, Model):
    """A mortgage on one unit; institution_id is the mortgagee when it is a platform institution."""

    __tablename__ = "mortgage"
    __table_args__ = (
        CheckConstraint("kind IN ('1','2')", name="ck_mortgage_kind"),
        CheckConstraint("status IN ('current','cancelled')", name="ck_mortgage_status"),
        CheckConstraint("secured_amount IS NULL OR secured_amount >= 0", name="ck_mortgage_secured"),
        CheckConstraint("maximum_amount IS NULL OR maximum_amount >= 0", name="ck_mortgage_maximum"),
        CheckConstraint("collateral_value IS NULL OR collateral_value >= 0", name="ck_mortgage_collateral"),
        CheckConstraint("term_end > term_start", name="ck_mortgage_term"),
        CheckConstraint("rank >= 1", name="ck_mortgage_rank"),
        # Two live mortgages on one unit never share a rank (domain.md).
        Index("uq_mortgage_unit_rank", "unit_id", "rank", unique=True,
              sqlite_where=text("status = 'current'"), postgresql_where=text("status = 'current'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    mortgagee_name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(1), nullable=False, default="1")
    secured_amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 2))
    maximum_amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 2))
    collateral_value: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 2))
    term_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    term_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    scope: Mapped[Optional[str]] = mapped_column(Text)
    transfer_restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    proof_number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="current")
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    cancelled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id"))
    unit = relationship(Unit, backref="mortgages", lazy="joined")
    institution = relationship("Institution", lazy="joined")
    parties = relationship("MortgageParty", back_populates="mortgage", cascade="all, delete-orphan")

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id

    def __str__(self):
        return self.proof_number


class MortgageParty(Audited, Model):
    __tablename__ = "mortgage_party"
    __table_args__ = (
        UniqueConstraint("mortgage_id", "party_id", "role", name="uq_mortgage_party"),
        CheckConstraint("role IN ('mortgagor','debtor')", name="ck_mortgage_party_role"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mortgage_id: Mapped[int] = mapped_column(Integer, ForeignKey("mortgage.id", ondelete="CASCADE"), nullable=False, index=True)
    party_id: Mapped[int] = mapped_column(Integer, ForeignKey("party.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    mortgage = relationship(Mortgage, back_populates="parties")
    party = relationship(Party, lazy="joined")


class PreNotice(Scoped, Audited, Timestamps, Model):
    """预告登记: kind 1 预售商品房买卖, 2 其它买卖, 3 预售商品房抵押权, 4 其它抵押权 (TD/T 1066)."""

    __tablename__ = "pre_notice"
    __table_args__ = (
        CheckConstraint("kind IN ('1','2','3','4')", name="ck_pre_notice_kind"),
        CheckConstraint("status IN ('current','cancelled','converted')", name="ck_pre_notice_status"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="ck_pre_notice_amount"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    kind: Mapped[str] = mapped_column(String(1), nullable=False)
    proof_number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="current")
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id"))
    unit = relationship(Unit, backref="pre_notices", lazy="joined")
    institution = relationship("Institution", lazy="joined")
    parties = relationship("PreNoticeParty", back_populates="pre_notice", cascade="all, delete-orphan")

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id

    def __str__(self):
        return self.proof_number


class PreNoticeParty(Audited, Model):
    __tablename__ = "pre_notice_party"
    __table_args__ = (
        UniqueConstraint("pre_notice_id", "party_id", "role", name="uq_pre_notice_party"),
        CheckConstraint("role IN ('obligee','obligor')", name="ck_pre_notice_party_role"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pre_notice_id: Mapped[int] = mapped_column(Integer, ForeignKey("pre_notice.id", ondelete="CASCADE"), nullable=False, index=True)
    party_id: Mapped[int] = mapped_column(Integer, ForeignKey("party.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    pre_notice = relationship(PreNotice, back_populates="parties")
    party = relationship(Party, lazy="joined")
