"""The SMS outbox (local adapter's store) and one-time codes sent by SMS."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import utcnow


class SmsMessage(Model):
    __tablename__ = "sms_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    body: Mapped[str] = mapped_column(String(500), nullable=False)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="sent")
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class OneTimeCode(Model):
    """A hashed SMS code with expiry and a limited number of tries."""

    __tablename__ = "one_time_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[Optional[str]] = mapped_column(String(80))
    code_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    tries_left: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
