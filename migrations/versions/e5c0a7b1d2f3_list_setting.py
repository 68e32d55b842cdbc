"""列设置: the columns each user chose to see in a list (models/list_setting.py)

Revision ID: e5c0a7b1d2f3
Revises: d1c7a5e3b9f2
Create Date: 2026-12-02 03:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "e5c0a7b1d2f3"
down_revision = 'd1c7a5e3b9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "list_setting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("list_key", sa.String(length=80), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.UniqueConstraint("user_id", "list_key", name="uq_list_setting_user_list"),
    )


def downgrade():
    op.drop_table("list_setting")
