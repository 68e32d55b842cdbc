"""Issued documents: e-certificates and proofs (电子证照/证明) and archive proofs (查档证明)."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Scoped, utcnow
from .property import Unit


class Certificate(Scoped, Model):
    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint("kind IN ('certificate','proof')", name="ck_certificate_kind"),
        CheckConstraint("status IN ('valid','revoked')", name="ck_certificate_status"),
        Index("ix_certificate_institution_issued", "institution_id", "issued_at", "id"),  # 证书/证明 of an institution
        Index("ix_certificate_issued", "issued_at", "id"),  # 证书/证明, unconfined
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id"), index=True)
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    holder_names: Mapped[str] = mapped_column(String(400), nullable=False)
    content: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="valid")
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    unit = relationship(Unit)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id


class ArchiveProof(Scoped, Model):
    __tablename__ = "archive_proof"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    requested_by: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    content: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    unit = relationship(Unit)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id
