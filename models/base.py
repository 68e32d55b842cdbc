"""Shared column helpers and mixins for every aggregate."""
import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class InstitutionOwned:
    """Rows that belong to one institution: institution users see only their own (app/scope.py)."""

    @declared_attr
    def institution_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("institution.id"), index=True, nullable=False)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id


class Audited:
    """Inserts, updates and deletes of these rows are written to the audit log (app/audit.py)."""
