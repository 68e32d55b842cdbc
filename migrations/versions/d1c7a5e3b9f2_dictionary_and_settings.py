"""字典管理 and 参数设置: dictionary types, items and versions; runtime settings

The rows are seeded at start-up (app/dictionary.py sync()), not here: the seeds are the rules files
and the models' enumerations as they are when the app starts.

Revision ID: d1c7a5e3b9f2
Revises: 7d1e2a3b4c5f
Create Date: 2026-12-02 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "d1c7a5e3b9f2"
down_revision = '7d1e2a3b4c5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dict_type",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("code", name="uq_dict_type_code"),
    )
    op.create_table(
        "dict_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type_id", sa.Integer(), sa.ForeignKey("dict_type.id"), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("label_zh", sa.String(200), nullable=False),
        sa.Column("label_en", sa.String(200), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("color", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("type_id", "code", name="uq_dict_item"),
    )
    op.create_index("ix_dict_item_type_id", "dict_item", ["type_id"])
    op.create_table(
        "dict_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type_code", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("author_name", sa.String(128), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("type_code", "version", name="uq_dict_version"),
    )
    op.create_index("ix_dict_version_type_code", "dict_version", ["type_code"])
    op.create_table(
        "registry_setting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_registry_setting_name"),
    )


def downgrade():
    op.drop_table("registry_setting")
    op.drop_index("ix_dict_version_type_code", table_name="dict_version")
    op.drop_table("dict_version")
    op.drop_index("ix_dict_item_type_id", table_name="dict_item")
    op.drop_table("dict_item")
    op.drop_table("dict_type")
