"""查档 records: who queried which unit's register entries, for what purpose and on what basis.

Every archive query leaves one row, whoever asked (the holder, an institution with a written
authorization, a court or other authority through the registry's form); the holder can read the
rows about their property."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, Scoped, utcnow
from .certificate import ArchiveProof
from .property import Unit

REQUESTER_KINDS = ("holder", "institution", "authority")


class ArchiveQuery(Scoped, Audited, Model):
    __tablename__ = "archive_query"
    __table_args__ = (
        CheckConstraint("requester_kind IN ('holder','institution','authority')", name="ck_archive_query_kind"),
        Index("ix_archive_query_unit_created", "unit_id", "created_at"),  # a holder's "who queried my property"
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False)
    archive_proof_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("archive_proof.id"))
    requester_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    requester_name: Mapped[str] = mapped_column(String(120), nullable=False)
    requester_user_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    basis: Mapped[str] = mapped_column(String(400), nullable=False)
    document_number: Mapped[Optional[str]] = mapped_column(String(80))
    authorization_file: Mapped[Optional[str]] = mapped_column(String(120))  # stored name (sha256.ext)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    unit = relationship(Unit)
    proof = relationship(ArchiveProof)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id
