"""Cases (案卷): an institution's application for one business type and everything attached to it."""
import datetime as dt
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, InstitutionOwned, Scoped, Timestamps, utcnow
from .institution import Institution, Operator
from .property import Unit


class Case(Audited, InstitutionOwned, Timestamps, Model):
    __tablename__ = "case_file"
    # One index per list and queue: its filter first, then its order (tests/test_query_plans.py).
    __table_args__ = (
        Index("ix_case_file_updated_at", "updated_at"),  # the case list, unconfined
        Index("ix_case_file_institution_updated", "institution_id", "updated_at"),  # the case list, one institution
        Index("ix_case_file_institution_submitted", "institution_id", "submitted_at"),  # /pay/ of an institution
        Index("ix_case_file_institution_created", "institution_id", "created_at"),  # the workbench's monthly volume
        Index("ix_case_file_created_at", "created_at"),  # the workbench's monthly volume, unconfined
        # 待办, 已办, 已驳回: filter and order first; the institution last, so that the scope's
        # "institution_id = ?" and the capped count read the index alone (app/paging.py)
        Index("ix_case_file_executor_updated", "executor_id", "updated_at", "institution_id"),  # 待办
        Index("ix_case_file_applicant_submitted", "applicant_id", "submitted_at", "institution_id"),  # 已办
        Index("ix_case_file_applicant_updated", "applicant_id", "updated_at", "institution_id"),  # 已驳回
        Index("ix_case_file_queue", "executor_role", "submitted_at", "id"),  # the review queue
        Index("ix_case_file_queue_node", "executor_role", "node", "submitted_at", "id"),  # one review queue tab
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    official_number: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    business_key: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    rules_version_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("rule_version.id"))
    applicant_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    executor_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"), index=True)
    executor_role: Mapped[Optional[str]] = mapped_column(String(40))
    node: Mapped[str] = mapped_column(String(40), nullable=False, default="draft", index=True)
    form_data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    submitted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    accepted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    deadline: Mapped[Optional[dt.date]] = mapped_column()
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The filer's department when the case was created (app/departments.py); None: institution-wide,
    # seen only by operators whose data scope is the whole institution (cases from before departments).
    department_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    institution = relationship(Institution, lazy="joined")
    applicant = relationship(Operator, foreign_keys=[applicant_id], lazy="joined")
    executor = relationship(Operator, foreign_keys=[executor_id])
    units = relationship("CaseUnit", back_populates="case", cascade="all, delete-orphan", order_by="CaseUnit.id")
    parties = relationship("CaseParty", back_populates="case", cascade="all, delete-orphan", order_by="CaseParty.id")
    history = relationship("CaseHistory", back_populates="case", cascade="all, delete-orphan", order_by="CaseHistory.id")
    materials = relationship("Material", back_populates="case", cascade="all, delete-orphan", order_by="Material.id")

    # Optimistic locking: a stale edit or a double submit raises StaleDataError instead of overwriting.
    __mapper_args__ = {"version_id_col": version}

    def __str__(self):
        return self.number


class _CaseChild(Scoped):
    """Rows hanging off a case: institution users see them only through their own cases."""

    @classmethod
    def scope_clause(cls, institution_id):
        """EXISTS of the row's own case in the institution: one primary-key look-up per row read, where
        "case_id IN (every case id of the institution)" built that whole list first (50,000 ids: ~100 ms)."""
        from sqlalchemy import exists

        return exists().where(Case.id == cls.case_id, Case.institution_id == institution_id)


class CaseUnit(_CaseChild, Audited, Model):
    __tablename__ = "case_unit"
    __table_args__ = (UniqueConstraint("case_id", "unit_id", name="uq_case_unit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    group_name: Mapped[Optional[str]] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    case = relationship(Case, back_populates="units")
    unit = relationship(Unit, lazy="joined")


class CaseParty(_CaseChild, Audited, Model):
    """A party as entered on the case; confirmed_at is set when they confirm by SMS code."""

    __tablename__ = "case_party"
    __table_args__ = (
        UniqueConstraint("case_id", "role", "id_number", name="uq_case_party"),
        CheckConstraint("share IS NULL OR (share > 0 AND share <= 1)", name="ck_case_party_share"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="person")
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    id_type: Mapped[str] = mapped_column(String(8), nullable=False, default="1")
    id_number: Mapped[str] = mapped_column(String(40), nullable=False)
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    share: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 4))
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # The number on record the confirmation code went to (app/services/party_confirmation.py).
    confirmed_phone: Mapped[Optional[str]] = mapped_column(String(20))
    # In a batch, the unit this party belongs to (the buyer of one unit); None: every unit of the case.
    case_unit_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_unit.id", ondelete="CASCADE"),
                                                        index=True)
    case = relationship(Case, back_populates="parties")
    case_unit = relationship(CaseUnit)


class CaseHistory(_CaseChild, Model):
    __tablename__ = "case_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    node_from: Mapped[Optional[str]] = mapped_column(String(40))
    node_to: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    opinion: Mapped[Optional[str]] = mapped_column(Text)
    reject_type: Mapped[Optional[str]] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    case = relationship(Case, back_populates="history")


class Material(_CaseChild, Audited, Model):
    __tablename__ = "material"
    __table_args__ = (
        UniqueConstraint("case_id", "sha256", name="uq_material_hash"),
        CheckConstraint("size >= 0", name="ck_material_size"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    material_key: Mapped[str] = mapped_column(String(60), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_path: Mapped[str] = mapped_column(String(300), nullable=False)
    pages: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    uploaded_by: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    case = relationship(Case, back_populates="materials")
