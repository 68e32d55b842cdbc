"""Beihai case steps: signed declarations (申明/承诺), utility transfer requests (水电气网过户),
self-service printing codes (自助打证).

Revision ID: b3e1a7c5d9f2
Revises: b7e3c1d9a2f4
Create Date: 2026-12-02 03:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'b3e1a7c5d9f2'
down_revision = 'b7e3c1d9a2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_declaration",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_party_id", sa.Integer(), sa.ForeignKey("case_party.id", ondelete="SET NULL")),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("id_number", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_case_declaration_case_id", "case_declaration", ["case_id"])
    op.create_index("ix_case_declaration_case_party_id", "case_declaration", ["case_party_id"])
    op.create_table(
        "utility_transfer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_number", sa.String(40)),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("ticket", sa.String(80)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(300)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('water','power','gas','network')", name="ck_utility_transfer_kind"),
        sa.CheckConstraint("status IN ('queued','sent','failed','skipped')", name="ck_utility_transfer_status"),
        sa.UniqueConstraint("case_id", "kind", name="uq_utility_transfer_case_kind"),
        sa.UniqueConstraint("reference", name="uq_utility_transfer_reference"),
    )
    op.create_index("ix_utility_transfer_case_id", "utility_transfer", ["case_id"])
    op.create_table(
        "kiosk_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("issued_by", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("spent_at", sa.DateTime()),
        sa.UniqueConstraint("code_hash", name="uq_kiosk_code_hash"),
    )
    op.create_index("ix_kiosk_code_case_id", "kiosk_code", ["case_id"])


def downgrade():
    op.drop_table("kiosk_code")
    op.drop_table("utility_transfer")
    op.drop_table("case_declaration")
