"""paging: 待办 / 已办 / 已驳回 indexes carry the institution, so a bank's capped count reads the index alone

Revision ID: 7b3e9d2c4a18
Revises: 7b0b5a1e2c3d
Create Date: 2026-12-02 01:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b3e9d2c4a18'
down_revision = '7b0b5a1e2c3d'
branch_labels = None
depends_on = None

# (name, columns before, columns after): the lists' filter and order first, as before; the institution
# the scope adds ("institution_id = ?") last, read from the index instead of each row.
INDEXES = [
    ("ix_case_file_executor_updated", ["executor_id", "updated_at"], ["executor_id", "updated_at", "institution_id"]),
    ("ix_case_file_applicant_submitted", ["applicant_id", "submitted_at"],
     ["applicant_id", "submitted_at", "institution_id"]),
    ("ix_case_file_applicant_updated", ["applicant_id", "updated_at"], ["applicant_id", "updated_at", "institution_id"]),
]


def upgrade():
    for name, _before, after in INDEXES:
        op.drop_index(name, table_name="case_file")
        op.create_index(name, "case_file", after, unique=False)


def downgrade():
    for name, before, _after in reversed(INDEXES):
        op.drop_index(name, table_name="case_file")
        op.create_index(name, "case_file", before, unique=False)
