"""calendar years added in the console (holidays and swapped working days, versioned)

Revision ID: ca1e7da2c0b1
Revises: 7e75a1c0b2d4
Create Date: 2026-12-02 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ca1e7da2c0b1'
down_revision = '7e75a1c0b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('workdays', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=128), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'version', name='uq_calendar_year_version')
    )
    with op.batch_alter_table('calendar_year', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_year_year'), ['year'], unique=False)


def downgrade():
    with op.batch_alter_table('calendar_year', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_year_year'))
    op.drop_table('calendar_year')
