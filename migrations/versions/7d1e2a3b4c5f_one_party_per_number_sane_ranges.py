"""one party per ID number; sane ranges of areas and floors

1. The ID type code lists disagreed (app/vocab.py had 6 = 统一社会信用代码, rules/vocabularies.yaml
   has 6 = 组织机构代码 and 8 = 统一社会信用代码, as TD/T 1066): the demo data and the register
   editor saved credit codes under 6, recording a case saved them under 8, and the same organisation
   became two parties. Here parties with the same normalized number (case, spaces, hyphens and
   brackets aside) are merged into the oldest: the rows naming the others (right holders, mortgage
   parties, pre-notice parties) are pointed at it, a row that would then repeat one already there is
   folded into it (a holder's shares added up), and the others are deleted. Then a credit code
   (18 characters) declared as 6 becomes 8, on the register's parties and on the cases' parties.
   A unique index on the number keeps one party per number.
2. Areas and floors get sane ranges (models/property.py): 0 < unit area < 1,000,000 m², 0 < parcel
   area < 1,000,000,000 m², unit floor -10..200, building floors 1..200. PostgreSQL: CHECK
   constraints. SQLite: rebuilding these tables to add a CHECK (batch_alter_table's "move and copy")
   drops the parent table under foreign keys that are enforced on every connection (app/__init__.py),
   which SQLite refuses once other tables refer to its rows, and PRAGMA foreign_keys cannot be turned
   off inside the migration's transaction; so on SQLite the same conditions are triggers that abort
   with SQLite's own CHECK message ("CHECK constraint failed: <name>"), which app/errors.py puts into
   words like any other constraint.

Revision ID: 7d1e2a3b4c5f
Revises: ca1e7da2c0b1
Create Date: 2026-12-02 00:30:00

"""
import re
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from alembic import op


revision = '7d1e2a3b4c5f'
down_revision = 'ca1e7da2c0b1'
branch_labels = None
depends_on = None

# Written out here: a migration must not change when the app's code does later.
RANGES = {
    "ck_unit_area_range": ("unit", ("area",), "area > 0 AND area < 1000000"),
    "ck_unit_floor_range": ("unit", ("floor",), "floor BETWEEN -10 AND 200"),
    "ck_parcel_area_range": ("parcel", ("area",), "area > 0 AND area < 1000000000"),
    "ck_building_floors_range": ("building", ("floors",), "floors BETWEEN 1 AND 200"),
}
# (table, its key columns besides party_id): the rows that name a party.
REFERRING = (("right_holder", ("right_id",)), ("mortgage_party", ("mortgage_id", "role")),
             ("pre_notice_party", ("pre_notice_id", "role")))
USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def normalized(number):
    return re.sub(r"[\s\-()（）:：]", "", number or "").upper()


def _credit_codes_declared_as_6(conn):
    for table in ("party", "case_party"):
        rows = conn.execute(sa.text(f"SELECT id, id_number FROM {table} WHERE id_type = '6'")).all()
        for row_id, number in rows:
            if USCC.fullmatch(normalized(number)):
                conn.execute(sa.text(f"UPDATE {table} SET id_type = '8' WHERE id = :id"), {"id": row_id})


def merge_parties(conn):
    """Merge the parties sharing a normalized number into the oldest, then declare the credit codes
    under 8 (after the merge: the twin under 8 would otherwise collide); returns {merged id: kept id}."""
    groups = defaultdict(list)
    for party_id, number in conn.execute(sa.text("SELECT id, id_number FROM party ORDER BY id")).all():
        groups[normalized(number)].append(party_id)
    merged = {}
    for ids in groups.values():
        kept = ids[0]
        for gone in ids[1:]:
            for table, keys in REFERRING:
                _repoint(conn, table, keys, gone, kept)
            conn.execute(sa.text("DELETE FROM party WHERE id = :id"), {"id": gone})
            merged[gone] = kept
    _credit_codes_declared_as_6(conn)
    return merged


def _repoint(conn, table, keys, gone, kept):
    cols = ", ".join(keys)
    extra = ", share" if table == "right_holder" else ""
    for row in conn.execute(sa.text(f"SELECT id, {cols}{extra} FROM {table} WHERE party_id = :gone"),
                            {"gone": gone}).mappings().all():
        where = " AND ".join(f"{k} = :{k}" for k in keys)
        twin = conn.execute(sa.text(f"SELECT id{extra} FROM {table} WHERE party_id = :kept AND {where}"),
                            {"kept": kept, **{k: row[k] for k in keys}}).mappings().first()
        if twin is None:
            conn.execute(sa.text(f"UPDATE {table} SET party_id = :kept WHERE id = :id"), {"kept": kept, "id": row["id"]})
            continue
        if table == "right_holder" and row["share"] is not None and twin["share"] is not None:
            # One holder's two entries (at most the whole: a share is in (0, 1]).
            total = min(Decimal(str(row["share"])) + Decimal(str(twin["share"])), Decimal(1))
            conn.execute(sa.text("UPDATE right_holder SET share = :s WHERE id = :id")
                         .bindparams(sa.bindparam("s", type_=sa.Numeric(5, 4))), {"s": total, "id": twin["id"]})
        conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": row["id"]})


def upgrade():
    conn = op.get_bind()
    merge_parties(conn)
    op.create_index("uq_party_id_number", "party", ["id_number"], unique=True)
    if conn.dialect.name == "sqlite":
        for name, (table, columns, condition) in RANGES.items():
            cols = ", ".join(columns)
            for event, when in (("insert", "INSERT"), ("update", f"UPDATE OF {cols}")):
                op.execute(f"CREATE TRIGGER {name}_{event} BEFORE {when} ON {table} "
                           f"WHEN NOT ({' AND '.join(_new(condition, columns))}) "
                           f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END")
    else:
        for name, (table, _columns, condition) in RANGES.items():
            op.create_check_constraint(name, table, condition)


def _new(condition, columns):
    for c in columns:
        condition = re.sub(rf"\b{c}\b", f"NEW.{c}", condition)
    return [f"({condition})"]


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for name in RANGES:
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")
    else:
        for name, (table, _columns, _condition) in RANGES.items():
            op.drop_constraint(name, table, type_="check")
    op.drop_index("uq_party_id_number", table_name="party")
    # The merged parties stay merged: which rows were one party's twice cannot be told apart again.
