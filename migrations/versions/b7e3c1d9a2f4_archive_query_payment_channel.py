"""archive query records (查档: requester, purpose, basis); payment channel (线上/线下)

Revision ID: b7e3c1d9a2f4
Revises: b7c3e9d14a02
Create Date: 2026-12-02 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e3c1d9a2f4'
down_revision = 'b7c3e9d14a02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('archive_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('archive_proof_id', sa.Integer(), nullable=True),
    sa.Column('requester_kind', sa.String(length=16), nullable=False),
    sa.Column('requester_name', sa.String(length=120), nullable=False),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.String(length=400), nullable=False),
    sa.Column('document_number', sa.String(length=80), nullable=True),
    sa.Column('authorization_file', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("requester_kind IN ('holder','institution','authority')", name='ck_archive_query_kind'),
    sa.ForeignKeyConstraint(['archive_proof_id'], ['archive_proof.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], ),
    sa.ForeignKeyConstraint(['requester_user_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('archive_query', schema=None) as batch_op:
        batch_op.create_index('ix_archive_query_unit_created', ['unit_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_query_institution_id'), ['institution_id'], unique=False)
    op.add_column('payment', sa.Column('channel', sa.String(length=16), server_default='online', nullable=False))


def downgrade():
    op.drop_column('payment', 'channel')  # plain ALTER TABLE ... DROP COLUMN: no rebuild under foreign keys
    with op.batch_alter_table('archive_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_query_institution_id'))
        batch_op.drop_index('ix_archive_query_unit_created')
    op.drop_table('archive_query')
