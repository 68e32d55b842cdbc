"""Background jobs (batch print, large imports and exports, SMS): one row per job, whatever runs it
(a Celery worker or the in-process worker thread, app/jobs). The row is the only state: the pages
read progress and outcome from it, so every instance shows the same thing."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Scoped, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(Scoped, Model):
    __tablename__ = "job"
    # "我的任务" lists one user's jobs newest first; the Admin's list all of them by id.
    __table_args__ = (Index("ix_job_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=False)
    # The submitter's institution (None for registry staff): the institution scope confines reads to it.
    institution_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("institution.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    result_path: Mapped[Optional[str]] = mapped_column(String(255))   # relative to REGISTRY_DATA_DIR
    result_name: Mapped[Optional[str]] = mapped_column(String(200))   # the download's file name
    error: Mapped[Optional[str]] = mapped_column(Text)                # for the user, in their language
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    user = relationship("Operator", viewonly=True, lazy="selectin")   # who started it (shown to the Admin)

    @classmethod
    def scope_clause(cls, institution_id):
        return cls.institution_id == institution_id
