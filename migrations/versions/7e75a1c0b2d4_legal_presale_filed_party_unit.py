"""legal: a unit's pre-sale filing (预售备案, excluded from 在建 mortgages by 细则 art. 75) and the unit a
case party belongs to in a batch (the buyer of one unit in a batch purchase pre-notice)

Revision ID: 7e75a1c0b2d4
Revises: 5ea4c81d0e7a
Create Date: 2026-12-02 00:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7e75a1c0b2d4'
down_revision = '5ea4c81d0e7a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presale_filed', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_case_party_case_unit', 'case_unit', ['case_unit_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_case_party_case_unit_id', ['case_unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.drop_index('ix_case_party_case_unit_id')
        batch_op.drop_constraint('fk_case_party_case_unit', type_='foreignkey')
        batch_op.drop_column('case_unit_id')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('presale_filed')
