"""The audit log: who did what, when, from where, with the row's values before and after."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Scoped, utcnow


class AuditLog(Scoped, Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_institution_at", "institution_id", "at"),)  # an institution admin's log
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    username: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    object_type: Mapped[Optional[str]] = mapped_column(String(60), index=True)
    object_id: Mapped[Optional[str]] = mapped_column(String(40))
    summary: Mapped[Optional[str]] = mapped_column(String(300))
    before: Mapped[Optional[dict]] = mapped_column(JSON)
    after: Mapped[Optional[dict]] = mapped_column(JSON)

    # The person who acted, by account (sign-in entries have the account but no user id yet).
    # No foreign key: the log outlives the accounts it names.
    actor = relationship("Operator", primaryjoin="foreign(AuditLog.username) == Operator.username", viewonly=True,
                         lazy="selectin")

    @property
    def person(self):
        """Who acted, by name as written; the account when the person is gone or outside the viewer's scope."""
        return self.actor.get_full_name() if self.actor is not None else (self.username or "")

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id
