"""Nonces of the outside services' signed notifications already received (replay protection, app/services/signing.py)."""
import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import utcnow


class UsedNonce(Model):
    __tablename__ = "used_nonce"
    __table_args__ = (UniqueConstraint("service", "nonce", name="uq_used_nonce_service_nonce"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(16), nullable=False)
    nonce: Mapped[str] = mapped_column(String(64), nullable=False)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
