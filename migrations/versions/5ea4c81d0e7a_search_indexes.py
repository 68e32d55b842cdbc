"""search: substring indexes for 坐落, names and certificate numbers

SQLite: FTS5 tables with the trigram tokenizer (needs SQLite >= 3.34), "external content" tables
that store only the index and read the text from the base table, kept in sync by triggers.
PostgreSQL: the pg_trgm extension and GIN trigram indexes, which serve ILIKE '%term%'.
Both are backfilled from the rows already there. app/services/search.py is what queries them.

A later migration that rebuilds one of these base tables on SQLite (batch_alter_table's
"move and copy") drops its triggers with the old table: it must create them again
(tests/test_search.py fails if they are missing).

Revision ID: 5ea4c81d0e7a
Revises: 1d3a5e7f9b20
Create Date: 2026-12-01 22:40:00

"""
import sqlite3

from alembic import op


# revision identifiers, used by Alembic.
revision = '5ea4c81d0e7a'
down_revision = '1d3a5e7f9b20'
branch_labels = None
depends_on = None

# base table -> the columns searched by substring (written out here: a migration must not change
# when the app's code does later).
SEARCHED = {
    "unit": ("location",),
    "party": ("name",),
    "case_party": ("name",),
    "certificate": ("number", "holder_names"),
}


def _sqlite_upgrade():
    if sqlite3.sqlite_version_info < (3, 34):
        raise RuntimeError(f"SQLite {sqlite3.sqlite_version} has no FTS5 trigram tokenizer; 3.34 or newer is needed")
    for table, columns in SEARCHED.items():
        fts, cols = f"{table}_fts", ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
                   f"tokenize='trigram')")
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
        # Only a change of the searched text (or the id) re-indexes: flipping a unit's flags does not.
        op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF id, {cols} ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # the backfill


def _postgresql_upgrade():
    # pg_trgm is a trusted extension (PostgreSQL >= 13): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in SEARCHED.items():
        for column in columns:
            # Building the index reads every existing row: that is the backfill.
            op.execute(f"CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops)")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in SEARCHED.items():
        if dialect == "sqlite":
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif dialect == "postgresql":
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
    # The pg_trgm extension stays: other objects of the database may use it.
