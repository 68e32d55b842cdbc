"""one name field: a person's 姓名 whole in ab_user.first_name

Until now the surname sat in first_name and the given name in last_name (陈 / 晓东), and pages
joined them the wrong way round (晓东陈). From now on the whole name, as written, is first_name and
last_name is empty. The case histories kept the reversed join as a snapshot; they are put right too.

Revision ID: 3f1c2a9d7e40
Revises: b673cc9251eb
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f1c2a9d7e40'
down_revision = 'b673cc9251eb'
branch_labels = None
depends_on = None

users = sa.table("ab_user", sa.column("id", sa.Integer), sa.column("first_name", sa.String),
                 sa.column("last_name", sa.String))
history = sa.table("case_history", sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String))


def upgrade():
    conn = op.get_bind()
    for uid, first, last in conn.execute(sa.select(users.c.id, users.c.first_name, users.c.last_name)).all():
        first, last = (first or "").strip(), (last or "").strip()
        if last in ("", "-"):  # "-" is FAB's filler for a directory account without a surname
            name = first
        else:
            name = first + last  # surname (first_name) then given name (last_name): 陈晓东
        conn.execute(users.update().where(users.c.id == uid).values(first_name=name, last_name=""))
        # The history snapshot was last + first; only rows still holding exactly that are rewritten.
        if last not in ("", "-") and last + first != name:
            conn.execute(history.update().where(history.c.actor_id == uid, history.c.actor_name == last + first)
                         .values(actor_name=name))


def downgrade():
    # Nothing to undo: the previous code joins last_name + first_name, which with an empty last_name
    # is the whole name as written; splitting it again would guess wrong (欧阳, foreign names).
    pass
