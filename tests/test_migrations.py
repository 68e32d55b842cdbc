"""Migrations alone build the schema from an empty database (the app never calls create_all)."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, inspect

from tests.conftest import DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {"institution", "ab_user", "party", "parcel", "building", "unit", "ownership", "right_holder", "mortgage",
            "mortgage_party", "pre_notice", "case_file", "case_unit", "case_party", "case_history", "material",
            "certificate", "payment", "appointment", "sms_message", "audit_log", "rule_version"}


def test_the_test_database_was_built_by_migrations(app):
    from app.extensions import db
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert EXPECTED <= tables
    assert "alembic_version" in tables


def test_upgrade_from_empty_then_downgrade_to_base_on_a_fresh_sqlite_file():
    url = f"sqlite:///{tempfile.mkdtemp()}/fresh.db"
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "run", "db"]
    subprocess.run(flask + ["upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert EXPECTED <= set(inspect(create_engine(url)).get_table_names())
    subprocess.run(flask + ["downgrade", "base"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}


def test_models_and_migrations_agree():
    """`flask db check`-style: autogenerate finds nothing to add on the migrated test database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_appbuilder import Model

    import models  # noqa: F401
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        # The search index tables (SQLite FTS5) are the migration's, as in migrations/env.py.
        from app.services.search import not_a_search_table
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": not_a_search_table}),
                                Model.metadata)
    assert [d for d in diff if d[0] in ("add_table", "add_column", "remove_table")] == []
