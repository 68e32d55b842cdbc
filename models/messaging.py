"""The SMS outbox (local adapter's store), the e-mail outbox and one-time codes sent by SMS.

No readable code is ever stored: a body carrying a code (app/services/verification.CodeBody) is kept
with the code masked; in sandbox mode the code is also kept sealed (encrypted under SECRET_KEY) for
the Admin's outbox page. Codes themselves are kept only as keyed hashes (OneTimeCode.code_hash).
"""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from .base import utcnow


# [reader]: set by app/services/verification.py, which knows who may see a sealed code (a model does not
# reach up into the services).
TEXT_READER = []


class SmsMessage(Model):
    __tablename__ = "sms_message"
    __table_args__ = (Index("ix_sms_message_sent_at", "sent_at"),)  # the outbox, newest first
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    body: Mapped[str] = mapped_column(String(500), nullable=False)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="sent")
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    sealed_code: Mapped[Optional[str]] = mapped_column(String(200))

    @validates("body")
    def _no_readable_code(self, key, value):
        """Whatever adapter stores the message, the code in it is masked (and sealed only in sandbox)."""
        if hasattr(value, "masked"):
            self.sealed_code = value.sealed()
            return value.masked
        return value

    @property
    def text(self):
        """The body as the signed-in staff member may read it (the code shown to a sandbox Admin only):
        app/services/verification.py says how (TEXT_READER); until it has, the masked body."""
        return TEXT_READER[0](self) if TEXT_READER else self.body


class EmailMessage(Model):
    """An e-mail as sent (SMTP) or, in sandbox mode, only recorded: notices such as a password reset."""

    __tablename__ = "email_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
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
