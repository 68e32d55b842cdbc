"""login log, server-side sessions, departments and data scope

- login_log (登录日志): every sign-in attempt with account, IP, user agent, result and reason.
- user_session (在线用户): one row per signed-in session (the token's hash), ended by sign-out or
  by an administrator (强制下线).
- department: an institution's department tree; ab_user.department_id and ab_user.data_scope say
  which of the institution's cases an operator sees; case_file.department_id is the filer's
  department. Existing cases get none (NULL): they stay visible to whoever sees the whole
  institution (every existing account: data_scope defaults to "institution") and to their filer and
  holder, not to operators later narrowed to a department.
The new columns of ab_user and case_file carry no foreign key: adding one to an existing table on
SQLite means rebuilding it under enforced foreign keys (see 7d1e2a3b4c5f); app/departments.py refuses
to delete a department still named by an operator or a case.

Revision ID: 5e55104a0b13
Revises: a1b2c3d4e5f6
Create Date: 2026-12-02 03:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = '5e55104a0b13'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=True),
        sa.Column('result', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_log_at', 'login_log', ['at'])
    op.create_index('ix_login_log_user_id', 'login_log', ['user_id'])
    op.create_index('ix_login_log_ip', 'login_log', ['ip'])
    op.create_index('ix_login_log_result', 'login_log', ['result'])
    op.create_index('ix_login_log_username_at', 'login_log', ['username', 'at'])

    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('end_reason', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_user_session_user_id', 'user_session', ['user_id'])
    op.create_index('ix_user_session_open', 'user_session', ['ended_at', 'last_seen_at'])

    op.create_table(
        'department',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('path', sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institution.id']),
        sa.ForeignKeyConstraint(['parent_id'], ['department.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_department_institution_id', 'department', ['institution_id'])
    op.create_index('ix_department_parent_id', 'department', ['parent_id'])
    op.create_index('ix_department_path', 'department', ['path'])

    op.add_column('ab_user', sa.Column('department_id', sa.Integer(), nullable=True))
    op.add_column('ab_user', sa.Column('data_scope', sa.String(length=16), nullable=True))
    op.create_index('ix_ab_user_department_id', 'ab_user', ['department_id'])
    op.add_column('case_file', sa.Column('department_id', sa.Integer(), nullable=True))
    op.create_index('ix_case_file_department_id', 'case_file', ['department_id'])


def downgrade():
    op.drop_index('ix_case_file_department_id', table_name='case_file')
    op.drop_index('ix_ab_user_department_id', table_name='ab_user')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no table rebuild under the foreign keys.
    op.drop_column('case_file', 'department_id')
    op.drop_column('ab_user', 'data_scope')
    op.drop_column('ab_user', 'department_id')
    op.drop_table('department')
    op.drop_table('user_session')
    op.drop_table('login_log')
