"""Payment orders for registration fees (paid through the payment adapter)."""
import datetime as dt
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, InstitutionOwned, utcnow
from .case import Case


class Payment(Audited, InstitutionOwned, Model):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_payment_amount"),
        CheckConstraint("status IN ('pending','paid','refunded','cancelled')", name="ck_payment_status"),
        Index("ix_payment_institution_paid", "institution_id", "paid_at"),  # /pay/: an institution's paid orders
        Index("ix_payment_status_paid", "status", "paid_at"),  # paid orders, unconfined
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id"), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    provider_ref: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    paid_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # 线上 (through the payment adapter) or 线下 (paid at the counter, recorded by the registry).
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="online", server_default="online")
    case = relationship(Case, backref="payments")
