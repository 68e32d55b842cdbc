"""legal: a unit's pre-sale filing (预售备案, excluded from 在建 mortgages by 细则 art. 75) and the unit a
case party belongs to in a batch (the buyer of one unit in a batch purchase pre-notice)

Revision ID: 7e75a1c0b2d4
Revises: 7b3e9d2c4a18
Create Date: 2026-12-02 00:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7e75a1c0b2d4'
down_revision = '7b3e9d2c4a18'
branch_labels = None
depends_on = None


# Columns are added in place, never by batch_alter_table's "move and copy": rebuilding unit or case_party
# on SQLite would drop their search triggers (migration 5ea4c81d0e7a).


def upgrade():
    op.add_column('unit', sa.Column('presale_filed', sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its REFERENCES clause in place (ALTER TABLE cannot add a constraint).
        op.execute('ALTER TABLE case_party ADD COLUMN case_unit_id INTEGER '
                   'REFERENCES case_unit (id) ON DELETE CASCADE')
    else:
        op.add_column('case_party', sa.Column('case_unit_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_case_party_case_unit', 'case_party', 'case_unit', ['case_unit_id'], ['id'],
                              ondelete='CASCADE')
    op.create_index('ix_case_party_case_unit_id', 'case_party', ['case_unit_id'], unique=False)


def downgrade():
    op.drop_index('ix_case_party_case_unit_id', table_name='case_party')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE case_party DROP COLUMN case_unit_id')
    else:
        op.drop_constraint('fk_case_party_case_unit', 'case_party', type_='foreignkey')
        op.drop_column('case_party', 'case_unit_id')
    op.drop_column('unit', 'presale_filed')
