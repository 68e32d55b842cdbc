"""The open API's own rows (/api/v1, app/api): clients of an institution's systems, idempotent POSTs,
events, webhook endpoints and their deliveries."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, InstitutionOwned, utcnow
from .institution import Operator


class ApiClient(Audited, InstitutionOwned, Model):
    """One system of an institution (a bank's loan system). It acts through its own service account
    (operator_id: an InstitutionOperator of the institution that cannot sign in), so cases, history
    and the audit log name it. The secret is never stored: secret_hash (PBKDF2) checks it at the token
    endpoint; signing_key_sealed is the HMAC key derived from it, sealed under SECRET_KEY. After a
    rotation the previous secret keeps working until previous_expires_at."""

    __tablename__ = "api_client"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    operator_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    signing_key_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    previous_secret_hash: Mapped[Optional[str]] = mapped_column(String(200))
    previous_signing_key_sealed: Mapped[Optional[str]] = mapped_column(Text)
    previous_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_by: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    rotated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    operator = relationship(Operator, foreign_keys=[operator_id])

    def __str__(self):
        return self.name


class IdempotentRequest(Model):
    """The first answer to a POST with an Idempotency-Key, replayed for a repeat with the same body."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotency"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_client.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)   # sha256 of method, path and body
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    headers: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)


class ApiEvent(InstitutionOwned, Model):
    """Something an institution's systems may want to know (case.state_changed, case.rejected,
    certificate.issued, fee.due), written in the transaction that made it happen; pulled through
    /api/v1/events?after= and pushed to the webhook endpoints."""

    __tablename__ = "api_event"
    __table_args__ = (Index("ix_api_event_institution_event", "institution_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    case_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class WebhookEndpoint(Audited, InstitutionOwned, Model):
    """A URL of the institution's systems and the events it wants; secret_sealed signs the deliveries."""

    __tablename__ = "webhook_endpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    events: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class WebhookDelivery(InstitutionOwned, Model):
    """One event sent to one endpoint: attempts with exponential backoff until the receiver answers 2xx."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_institution_delivery", "institution_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(Integer, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_event.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending/delivered/failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    response_status: Mapped[Optional[int]] = mapped_column(Integer)
    response_body: Mapped[Optional[str]] = mapped_column(Text)
    error: Mapped[Optional[str]] = mapped_column(String(500))
    next_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    delivered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    endpoint = relationship(WebhookEndpoint)
    event = relationship(ApiEvent)
