"""open API: clients, idempotent requests, events, webhook endpoints and deliveries

Revision ID: a1b2c3d4e5f6
Revises: b3e1a7c5d9f2
Create Date: 2026-12-02 03:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = 'b3e1a7c5d9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("signing_key_sealed", sa.Text(), nullable=False),
        sa.Column("previous_secret_hash", sa.String(200)),
        sa.Column("previous_signing_key_sealed", sa.Text()),
        sa.Column("previous_expires_at", sa.DateTime()),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rotated_at", sa.DateTime()),
        sa.Column("revoked_at", sa.DateTime()),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("institution.id"), nullable=False),
    )
    op.create_index("ix_api_client_institution_id", "api_client", ["institution_id"])
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("api_client.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("client_id", "key", name="uq_api_idempotency"),
    )
    op.create_index("ix_api_idempotency_created_at", "api_idempotency", ["created_at"])
    op.create_table(
        "api_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id", ondelete="SET NULL")),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("institution.id"), nullable=False),
    )
    op.create_index("ix_api_event_institution_id", "api_event", ["institution_id"])
    op.create_index("ix_api_event_institution_event", "api_event", ["institution_id", "id"])
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("institution.id"), nullable=False),
    )
    op.create_index("ix_webhook_endpoint_institution_id", "webhook_endpoint", ["institution_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("endpoint_id", sa.Integer(), sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("api_event.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("error", sa.String(500)),
        sa.Column("next_attempt_at", sa.DateTime()),
        sa.Column("delivered_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("institution.id"), nullable=False),
    )
    op.create_index("ix_webhook_delivery_endpoint_id", "webhook_delivery", ["endpoint_id"])
    op.create_index("ix_webhook_delivery_institution_id", "webhook_delivery", ["institution_id"])
    op.create_index("ix_webhook_delivery_institution_delivery", "webhook_delivery", ["institution_id", "id"])


def downgrade():
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
    op.drop_table("api_event")
    op.drop_table("api_idempotency")
    op.drop_table("api_client")
