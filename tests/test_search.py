"""Substring search through the trigram indexes (app/services/search.py): Chinese substrings of 坐落,
names and certificate numbers are found, through the index, within the institution scope, and the
index follows the base tables (SQLite triggers) from the migration's backfill on."""
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from app.services import search
from models import Certificate, Party, Unit
from tests.conftest import DATABASE_URL
from tests.test_proofs import _listed, _proof, login

ROOT = Path(__file__).resolve().parent.parent
LOCATION = "长沙市岳麓区桐梓坡路99号检索家园3栋1201室"


def _new_unit(db, location, n):
    building_id = db.session.scalar(select(Unit.building_id).order_by(Unit.id))
    unit = Unit(building_id=building_id, unit_code=f"430104009009GB00099F0099{n:04d}", location=location,
                room=f"检索{n}", floor=12, area=Decimal("89.50"), use="residential")
    db.session.add(unit)
    db.session.commit()
    return unit


def _unit_ids(db, term):
    return set(db.session.scalars(select(Unit.id).where(search.units_matching(term))))


@pytest.fixture(scope="module")
def unit_id(app):
    from app.extensions import db
    with app.app_context():
        return _new_unit(db, LOCATION, 1).id


@pytest.fixture(scope="module")
def proofs(app):
    from app.extensions import db
    with app.app_context():
        units = db.session.scalars(select(Unit).order_by(Unit.id.desc()).limit(2)).all()
        out = {"mine": _proof(db, "bank_a_op", units[0], "湘(2026)长沙市不动产证明第9200001号", "欧阳晓岚"),
               "theirs": _proof(db, "bank_b_op", units[1], "湘(2026)长沙市不动产证明第9200002号", "司马青衫")}
        return {k: c.number for k, c in out.items()}


def test_a_chinese_substring_of_the_location_finds_the_unit(db, unit_id):
    assert _unit_ids(db, "岳麓区桐梓坡路99号检索") == {unit_id}
    assert unit_id in _unit_ids(db, "桐梓")  # two characters: no trigram, the plain scan still finds it
    assert _unit_ids(db, "岳麓区桐梓坡路98号检索") == set()
    # The clause reads like any other: combined with more conditions, results stay exact.
    assert db.session.scalar(select(Unit.location).where(search.units_matching("检索家园"), Unit.id == unit_id)) \
        == LOCATION


def test_names_and_certificate_numbers_are_found(db, proofs):
    db.session.add(Party(kind="person", name="欧阳晓岚", id_type="1", id_number="43010419900307123X"))
    db.session.commit()
    names = db.session.scalars(select(Party.name).where(search.parties_matching("阳晓岚"))).all()
    assert names == ["欧阳晓岚"]
    assert "欧阳晓岚" in db.session.scalars(select(Party.name).where(search.parties_matching("晓岚"))).all()
    numbers = set(db.session.scalars(select(Certificate.number).where(search.certificates_matching("证明第92000"))))
    assert numbers == {proofs["mine"], proofs["theirs"]}
    assert db.session.scalars(select(Certificate.number).where(
        search.certificates_matching("第9200002号"))).all() == [proofs["theirs"]]


def test_search_terms_are_plain_text_for_the_index(db, unit_id):
    """FTS5 query syntax in a term (quotes, operators, stars) is searched for as typed, never parsed."""
    for term in ('"', '桐梓坡"路', "NEAR(桐梓 坡)", "桐梓坡*", "岳麓 OR 桐梓", "%桐梓%"):
        assert _unit_ids(db, term) == set(), term
    assert _unit_ids(db, "桐梓坡路99号检索家园3栋1201室") == {unit_id}


def test_a_bank_finds_its_proof_by_name_number_or_location_and_never_another_banks(client, proofs):
    login(client, "bank_a_op")
    for q in ("阳晓岚", "证明第9200001", "不动产证明第 9200001 号"):
        assert _listed(client.get("/proofs/", query_string={"q": q}).get_data(as_text=True)) == {proofs["mine"]}, q
    # Bank B's proof is there (bank B finds it below) but outside bank A's scope.
    for q in ("司马青衫", "证明第9200002", proofs["theirs"]):
        assert _listed(client.get("/proofs/", query_string={"q": q}).get_data(as_text=True)) == set(), q
    client.auth.logout()
    login(client, "bank_b_op")
    assert _listed(client.get("/proofs/", query_string={"q": "司马青衫"}).get_data(as_text=True)) == {proofs["theirs"]}


def test_the_unit_list_filters_by_location_through_the_index(client, unit_id):
    login(client, "reviewer")

    def rows(flt, value):
        html = client.get("/unitview/list/", query_string={f"_flt_{flt}_location": value}).get_data(as_text=True)
        return re.findall(r"检索家园3栋1201室", html)

    assert rows(2, "岳麓区桐梓坡路99号检索") and rows(2, "桐梓坡路99号检索") and rows(2, "检索")  # contains
    assert rows(0, "长沙市岳麓区桐梓坡路99号") and not rows(0, "岳麓区桐梓坡路99号")  # starts with
    assert rows(1, "家园3栋1201室") and not rows(1, "检索家园")  # ends with
    assert not rows(2, "桐梓坡路98号检索")


def test_the_unit_list_search_is_sent_to_the_index(app, client, unit_id):
    from app.extensions import db
    login(client, "reviewer")
    with app.app_context():
        engine = db.engine
    sent = []

    def record(conn, cursor, statement, *rest):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for flt in (0, 1, 2):  # starts with, ends with, contains
            client.get("/unitview/list/", query_string={f"_flt_{flt}_location": "桐梓坡路"})
        searches = [s for s in sent if "unit_fts" in s or "LIKE" in s.upper()]
        # each search: its page with the capped count in one statement (app/paging.py), ×3; a page with
        # no row counts on its own; every one of them through the index
        assert len([s for s in searches if "count(*)" in s]) >= 3, searches
        if engine.dialect.name == "sqlite":
            assert len(searches) >= 3 and all("unit_fts" in s for s in searches), searches
            sent.clear()
            client.get("/unitview/list/", query_string={"_flt_0_location": "桐梓"})  # too short for the index
            assert not [s for s in sent if "unit_fts" in s]
        else:
            assert len(searches) >= 3 and all("ILIKE" in s.upper() for s in searches), searches
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(db, clause):
    statement = select(Unit.id).where(clause).compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        return " | ".join(str(r[-1]) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    return " | ".join(r[0] for r in db.session.execute(text(f"EXPLAIN {statement}")))


def test_the_query_plan_uses_the_index(db):
    plan = _plan(db, search.units_matching("岳麓区桐梓"))
    if db.engine.dialect.name == "sqlite":
        assert re.search(r"SCAN unit_fts VIRTUAL TABLE INDEX \d+:M", plan), plan
        assert "SCAN unit " not in plan + " ", plan  # the base table is reached by its primary key only
        # Two characters make no trigram: the documented fallback scans the base table.
        assert "SCAN unit" in _plan(db, search.units_matching("桐梓")), "expected the plain scan"
    else:
        assert "Bitmap Index Scan on ix_unit_location_trgm" in plan, plan
    db.session.rollback()


def test_the_index_follows_inserts_updates_and_deletes_of_units(db):
    unit = _new_unit(db, "长沙市开福区同步路7号索引楼1201室", 2)
    assert _unit_ids(db, "开福区同步路7号") == {unit.id}
    unit.location = "长沙市天心区改名路8号索引楼1201室"
    db.session.commit()
    assert _unit_ids(db, "开福区同步路7号") == set()
    assert _unit_ids(db, "天心区改名路8号") == {unit.id}
    unit.sealed = True  # not a searched column: the entry stays as it is
    db.session.commit()
    assert _unit_ids(db, "天心区改名路8号") == {unit.id}
    db.session.delete(unit)
    db.session.commit()
    assert _unit_ids(db, "天心区改名路8号") == set()
    if db.engine.dialect.name == "sqlite":
        # FTS5 checks that its index holds exactly what the base tables hold (raises otherwise).
        for table in search.FTS_TABLES:
            db.session.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))
        db.session.rollback()


@pytest.mark.skipif(not DATABASE_URL.startswith("sqlite"), reason="the FTS5 backfill exists on SQLite only")
def test_the_migration_indexes_the_rows_already_there():
    url = f"sqlite:///{tempfile.mkdtemp()}/backfill.db"
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "run", "db"]
    subprocess.run(flask + ["upgrade", "c0de5ea1ed01"], cwd=ROOT, env=env, check=True, capture_output=True)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("INSERT INTO parcel (id, code, location, area, created_at, updated_at) "
                     "VALUES (1, '430104009009GB00001', '长沙市岳麓区', 1, '2026-01-01', '2026-01-01')")
        conn.execute("INSERT INTO building (id, parcel_id, number, name, floors, created_at, updated_at) "
                     "VALUES (1, 1, '0001', '1栋', 9, '2026-01-01', '2026-01-01')")
        conn.execute("INSERT INTO unit (id, building_id, unit_code, location, room, floor, area, use, mortgaged, "
                     "pre_noticed, sealed, objected, created_at, updated_at) VALUES (7, 1, "
                     "'430104009009GB00001F00010001', '长沙市岳麓区回填路1号1栋101室', '101', 1, 90, 'residential', "
                     "0, 0, 0, 0, '2026-01-01', '2026-01-01')")
    subprocess.run(flask + ["upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        found = conn.execute("SELECT rowid FROM unit_fts WHERE unit_fts MATCH '\"岳麓区回填路\"'").fetchall()
    assert found == [(7,)]
