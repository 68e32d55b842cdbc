"""The Beihai steps kept with a case: signed declarations (申明/承诺), utility transfer requests
(水电气网过户) and self-service printing codes (自助打证)."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import utcnow
from .case import Case, CaseParty, _CaseChild


class CaseDeclaration(_CaseChild, Model):
    """A party's signature of the business's declaration: the exact text signed, its digest and the time.
    Kept when the party row goes (the case's record of what was signed), hence no cascade from the party."""
    __tablename__ = "case_declaration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    case_party_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_party.id", ondelete="SET NULL"),
                                                         index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    id_number: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)   # masked: the number the code went to
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    case = relationship(Case)
    party = relationship(CaseParty)


UTILITY_STATUSES = ("queued", "sent", "failed", "skipped")


class UtilityTransfer(_CaseChild, Model):
    """One transfer request to a utility company (水/电/气/网) for a recorded transfer."""
    __tablename__ = "utility_transfer"
    __table_args__ = (
        CheckConstraint("kind IN ('water','power','gas','network')", name="ck_utility_transfer_kind"),
        CheckConstraint("status IN ('queued','sent','failed','skipped')", name="ck_utility_transfer_status"),
        UniqueConstraint("case_id", "kind", name="uq_utility_transfer_case_kind"),
        UniqueConstraint("reference", name="uq_utility_transfer_reference"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    account_number: Mapped[Optional[str]] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(40), nullable=False)   # ours, the idempotency key
    ticket: Mapped[Optional[str]] = mapped_column(String(80))                        # the company's
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[Optional[str]] = mapped_column(String(300))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    case = relationship(Case)


class KioskCode(_CaseChild, Model):
    """A 自助打证 code: only its keyed digest is kept; spent on first use at the kiosk."""
    __tablename__ = "kiosk_code"
    __table_args__ = (UniqueConstraint("code_hash", name="uq_kiosk_code_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_by: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    spent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    case = relationship(Case)
