"""Rule versions hold the whole business: rule_blob (shared parts by content address) and
rule_version.parts (which parts a version uses).

Revision ID: e1a9b0c7d5f2
Revises: 5ea4c81d0e7a
"""
import sqlalchemy as sa
from alembic import op

revision = "e1a9b0c7d5f2"
down_revision = "5ea4c81d0e7a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rule_blob",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("rule_version") as batch:
        batch.add_column(sa.Column("parts", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("rule_version") as batch:
        batch.drop_column("parts")
    op.drop_table("rule_blob")
