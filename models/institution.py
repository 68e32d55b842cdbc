"""Institutions (banks, developers) and their operators (FAB users bound to an institution)."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, Scoped, Timestamps, utcnow

INSTITUTION_KINDS = ("bank", "developer", "other")
INSTITUTION_STATUSES = ("pending", "approved", "rejected", "disabled")
OPERATOR_STATUSES = ("active", "departed")


class Institution(Scoped, Audited, Timestamps, Model):
    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint("kind IN ('bank','developer','other')", name="ck_institution_kind"),
        CheckConstraint("status IN ('pending','approved','rejected','disabled')", name="ck_institution_status"),
        CheckConstraint("length(uscc) = 18", name="ck_institution_uscc_len"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="bank")
    uscc: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    legal_person: Mapped[str] = mapped_column(String(60), nullable=False)
    legal_person_id_number: Mapped[Optional[str]] = mapped_column(String(18))
    contact_name: Mapped[Optional[str]] = mapped_column(String(60))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(20))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    ca_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    review_opinion: Mapped[Optional[str]] = mapped_column(Text)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.id == institution_id

    def __str__(self):
        return self.name


class Operator(Scoped, User):
    """A platform account. Institution users carry institution_id; registry staff and the public do not."""

    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active", server_default="active")
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    id_number: Mapped[Optional[str]] = mapped_column(String(18))
    font_size: Mapped[Optional[str]] = mapped_column(String(8))
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    session_nonce: Mapped[Optional[str]] = mapped_column(String(32))
    # 数据权限 (app/scope.py): the operator's department and which of the institution's cases they see:
    # institution (all, the default), subtree (my department and below), department, own (only mine).
    department_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    data_scope: Mapped[Optional[str]] = mapped_column(String(16), default="institution")
    # a fresh random stamp at each save of the user's 列设置 (views/exporting.py caches them per (user, stamp);
    # random, not a counter: a database restored from a backup never meets a stamp cached before)
    list_settings_stamp: Mapped[Optional[str]] = mapped_column(String(16))
    institution = relationship(Institution, foreign_keys=[institution_id], lazy="joined")
    department = relationship("Department", primaryjoin="foreign(Operator.department_id) == Department.id")

    # A person's name is one field, written as it is (陈晓东, surname first, no space). FAB's User has
    # first_name and last_name (both NOT NULL): the whole 姓名 lives in first_name, last_name stays empty,
    # and get_full_name() below is the only way any page, PDF or history shows a person.
    def __init__(self, **kwargs):
        kwargs.setdefault("last_name", "")
        super().__init__(**kwargs)

    def get_full_name(self):
        """The person's name as written (FAB's navbar and relation columns call this too)."""
        return (self.first_name or "").strip() or self.username or ""

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id


class OperatorCertificate(Scoped, Audited, Model):
    """The X.509 certificate bound to an operator for CA login (one per operator)."""

    __tablename__ = "operator_certificate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), unique=True, nullable=False)
    institution_id: Mapped[int] = mapped_column(Integer, ForeignKey("institution.id"), index=True, nullable=False)
    pem: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(String(400), nullable=False)
    issuer: Mapped[str] = mapped_column(String(400), nullable=False)
    serial: Mapped[str] = mapped_column(String(80), nullable=False)
    not_before: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    not_after: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    bound_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    operator = relationship(Operator, backref="certificate")

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id
