"""indexes for every list and queue: each one's filter first, then its order

Revision ID: 1d3a5e7f9b20
Revises: c0de5ea1ed01
Create Date: 2026-12-01 22:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1d3a5e7f9b20'
down_revision = 'c0de5ea1ed01'
branch_labels = None
depends_on = None

# (name, table, columns): the same indexes the models declare in __table_args__.
INDEXES = [
    ("ix_case_file_updated_at", "case_file", ["updated_at"]),
    ("ix_case_file_institution_updated", "case_file", ["institution_id", "updated_at"]),
    ("ix_case_file_institution_submitted", "case_file", ["institution_id", "submitted_at"]),
    ("ix_case_file_institution_created", "case_file", ["institution_id", "created_at"]),
    ("ix_case_file_created_at", "case_file", ["created_at"]),
    ("ix_case_file_executor_updated", "case_file", ["executor_id", "updated_at"]),
    ("ix_case_file_applicant_submitted", "case_file", ["applicant_id", "submitted_at"]),
    ("ix_case_file_applicant_updated", "case_file", ["applicant_id", "updated_at"]),
    ("ix_case_file_queue", "case_file", ["executor_role", "submitted_at", "id"]),
    ("ix_case_file_queue_node", "case_file", ["executor_role", "node", "submitted_at", "id"]),
    ("ix_audit_log_institution_at", "audit_log", ["institution_id", "at"]),
    ("ix_sms_message_sent_at", "sms_message", ["sent_at"]),
    ("ix_payment_institution_paid", "payment", ["institution_id", "paid_at"]),
    ("ix_payment_status_paid", "payment", ["status", "paid_at"]),
    ("ix_certificate_institution_issued", "certificate", ["institution_id", "issued_at", "id"]),
    ("ix_certificate_issued", "certificate", ["issued_at", "id"]),
    ("ix_appointment_user_id_id", "appointment", ["user_id", "id"]),
    ("ix_unit_building_floor_room", "unit", ["building_id", "floor", "room"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
