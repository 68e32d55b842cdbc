"""Challenges handed out by the login page for a CA signature."""
import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import utcnow


class CaLoginNonce(Model):
    """Kept on the server, not in the (client-side) session cookie, where an old copy of the cookie
    would carry the nonce again: a row is deleted when a signature over it is checked (app/auth/ca.py)."""

    __tablename__ = "ca_login_nonce"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
