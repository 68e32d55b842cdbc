"""ab_user.list_settings_stamp: a fresh random stamp with each save of the user's 列设置

A list reads the user's column settings from a per-process cache keyed by (user, stamp): the stamp
comes with the signed-in user, who is read at every request anyway, so a list costs no statement for its
settings, and a save made through any instance is seen by every instance at its next request.

Revision ID: c4d8e2f6a1b3
Revises: 5e55104a0b13
Create Date: 2026-12-02 06:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'c4d8e2f6a1b3'
down_revision = '5e55104a0b13'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ab_user', sa.Column('list_settings_stamp', sa.String(16)))


def downgrade():
    op.drop_column('ab_user', 'list_settings_stamp')
