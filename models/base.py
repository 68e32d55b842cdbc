"""Shared column helpers and mixins for every aggregate."""
import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, literal
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class Scoped:
    """Rows an institution user sees only as far as their institution reaches (app/scope.py confines
    every statement with one criterion for all of these: each class's scope_clause())."""

    @classmethod
    def scope_clause(cls, institution_id):
        """What SQLAlchemy analyses the shared criterion on (Scoped itself): a clause that matches no row,
        so a model that forgot its own would show an institution nothing (fail closed); every Scoped
        model has its own (tests/test_request_overhead.py)."""
        return literal(0) == institution_id


class InstitutionOwned(Scoped):
    """Rows that belong to one institution: institution users see only their own (app/scope.py)."""

    @declared_attr
    def institution_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("institution.id"), index=True, nullable=False)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id


class Audited:
    """Inserts, updates and deletes of these rows are written to the audit log (app/audit.py)."""
