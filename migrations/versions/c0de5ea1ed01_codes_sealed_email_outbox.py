"""codes: SMS outbox keeps codes sealed, e-mail outbox, the number a party confirmed on

Revision ID: c0de5ea1ed01
Revises: c4f1a7e2d9b3
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0de5ea1ed01'
down_revision = 'c4f1a7e2d9b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_message_recipient'), ['recipient'], unique=False)
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_code', sa.String(length=200), nullable=True))
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_phone', sa.String(length=20), nullable=True))
    # Outbox bodies written before this revision may hold readable codes: they are not kept.
    op.execute("DELETE FROM sms_message WHERE purpose IN ('reset_password', 'register', 'case_confirm')")


def downgrade():
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.drop_column('confirmed_phone')
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('sealed_code')
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_message_recipient'))
    op.drop_table('email_message')
