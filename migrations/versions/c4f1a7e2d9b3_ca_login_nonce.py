"""CA login nonces kept on the server (single use)

Revision ID: c4f1a7e2d9b3
Revises: c4d2a7e91f30
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4f1a7e2d9b3'
down_revision = 'c4d2a7e91f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ca_login_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nonce')
    )
    with op.batch_alter_table('ca_login_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ca_login_nonce_issued_at'), ['issued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ca_login_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ca_login_nonce_issued_at'))
    op.drop_table('ca_login_nonce')
