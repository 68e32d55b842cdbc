"""used nonce (replay protection of the outside services' notifications)

Revision ID: c4d2a7e91f30
Revises: 3f1c2a9d7e40
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2a7e91f30'
down_revision = '3f1c2a9d7e40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'nonce', name='uq_used_nonce_service_nonce')
    )
    with op.batch_alter_table('used_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_nonce_seen_at'), ['seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('used_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_nonce_seen_at'))
    op.drop_table('used_nonce')
