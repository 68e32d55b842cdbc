"""Holiday calendar years added in the configurator console (rules/calendar/holidays.yaml holds the
years shipped as files). Each save is a new version of its year; the active one counts."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Audited, utcnow


class CalendarYear(Audited, Model):
    __tablename__ = "calendar_year"
    __table_args__ = (UniqueConstraint("year", "version", name="uq_calendar_year_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [["2027-01-01", "2027-01-03"], ...]: the public holidays as spans (a single day is a span of one)
    holidays: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # ["2027-02-07", ...]: weekend days worked in place of a holiday (调休上班)
    workdays: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    author_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    author_name: Mapped[str] = mapped_column(String(128), nullable=False, default="system")
    note: Mapped[Optional[str]] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
