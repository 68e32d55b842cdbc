"""Appointment slots at the registry hall and the bookings made for them."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, utcnow


class AppointmentSlot(Model):
    __tablename__ = "appointment_slot"
    __table_args__ = (
        UniqueConstraint("office", "day", "start", name="uq_appointment_slot"),
        CheckConstraint("capacity >= 0", name="ck_slot_capacity"),
        CheckConstraint("finish > start", name="ck_slot_time"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office: Mapped[str] = mapped_column(String(100), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    start: Mapped[dt.time] = mapped_column(Time, nullable=False)
    finish: Mapped[dt.time] = mapped_column(Time, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=10)


class Appointment(Audited, Model):
    __tablename__ = "appointment"
    __table_args__ = (CheckConstraint("status IN ('booked','cancelled','done')", name="ck_appointment_status"),
                      Index("ix_appointment_user_id_id", "user_id", "id"))  # my appointments, newest first
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(Integer, ForeignKey("appointment_slot.id"), nullable=False, index=True)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id"))
    user_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    business_key: Mapped[Optional[str]] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="booked")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    slot = relationship(AppointmentSlot, backref="appointments", lazy="joined")
    case = relationship("Case")
