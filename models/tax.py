"""Tax assessments (完税核验): the deed tax (契税) the tax bureau assesses per unit of a transfer case."""
import datetime as dt
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, InstitutionOwned, utcnow
from .case import Case
from .property import Unit


class TaxAssessment(Audited, InstitutionOwned, Model):
    __tablename__ = "tax_assessment"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_tax_assessment_amount"),
        CheckConstraint("status IN ('pending','cleared')", name="ck_tax_assessment_status"),
        UniqueConstraint("case_id", "unit_id", name="uq_tax_assessment_case_unit"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    buyers: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    receipt_number: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    cleared_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    case = relationship(Case, backref="tax_assessments")
    unit = relationship(Unit, lazy="joined")
