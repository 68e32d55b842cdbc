"""Sequence numbers (app/services/numbering.py) never collide and leave no gap, whoever asks at the same
instant: two processes taking a fresh day's numbers together, and two banks starting the day's first case
together over HTTP.

The processes run on the suite's database when it is PostgreSQL (REGISTRY_TEST_DATABASE_URL), where the
old update-then-insert collided on counter_pkey; otherwise on a SQLite file in WAL mode (the mode a
SQLite deployment with several processes runs in)."""
import datetime as dt
import multiprocessing
import re
import shutil
import threading

import pytest
from sqlalchemy import create_engine, delete, event, text

PROCESSES, PER_PROCESS = 2, 200


def _allocate(url, day, start, results):
    """One process: its own app, engine and session; every number taken in its own committed transaction."""
    from app import create_app
    from app.extensions import db
    from app.services import numbering
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "FAB_UPDATE_PERMS": False,
                      "REGISTRY_RATELIMIT_ENABLED": False})
    got, errors = [], []
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # connected before the start, so both really start together
        db.session.rollback()
        start.wait(timeout=120)
        for _ in range(PER_PROCESS):
            try:
                got.append(numbering.case_number(day))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the test, which fails on any
                db.session.rollback()
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        db.engine.dispose()
    results.put((got, errors))


@pytest.fixture
def database_url(app, tmp_path):
    from tests.conftest import DATABASE_URL, TMP
    if DATABASE_URL.startswith("postgresql"):
        return DATABASE_URL
    path = tmp_path / "numbering.db"
    shutil.copyfile(TMP / "snapshot.db", path)  # the migrated schema
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode=WAL").scalar() == "wal"
    engine.dispose()
    return f"sqlite:///{path}"


def test_two_processes_take_a_fresh_days_numbers_without_duplicate_gap_or_error(database_url):
    day = dt.date(2031, 1, 1)  # no case was ever numbered on that day: both start on a missing counter
    ctx = multiprocessing.get_context("spawn")  # no engine or connection inherited through a fork
    start, results = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [ctx.Process(target=_allocate, args=(database_url, day, start, results)) for _ in range(PROCESSES)]
    for w in workers:
        w.start()
    try:
        outcomes = [results.get(timeout=180) for _ in workers]
    finally:
        for w in workers:
            w.join(30)
            if w.is_alive():
                w.kill()
    errors = [e for _, errs in outcomes for e in errs]
    assert errors == []
    numbers = [n for got, _ in outcomes for n in got]
    assert all(re.fullmatch(r"WS20310101\d{5}", n) for n in numbers), numbers[:5]
    sequence = sorted(int(n[-5:]) for n in numbers)
    assert sequence == list(range(1, PROCESSES * PER_PROCESS + 1))  # no duplicate, no gap
    # Each process's own numbers rise: a number is never handed back out of order.
    assert all(got == sorted(got) for got, _ in outcomes)


def test_a_rolled_back_allocation_does_not_burn_a_number(app):
    from app.extensions import db
    from app.services import numbering
    day = dt.date(2031, 2, 1)
    with app.app_context():
        assert numbering.case_number(day) == "WS2031020100001"
        db.session.rollback()
        assert numbering.case_number(day) == "WS2031020100001"
        db.session.commit()
        assert numbering.payment_order_number(day) == "PAY20310201000001"  # another sequence, its own count
        assert numbering.case_number(day) == "WS2031020100002"
        db.session.commit()


def _found_for(monkeypatch, username, exclude=()):
    """A unit `username`'s bank can take a 抵押权首次登记 on, with the lookup keys that find it."""
    from app import rulebook
    from tests import test_desk
    monkeypatch.setattr(test_desk, "USERS", (username,))
    found = test_desk.find_applicable(rulebook.get("mortgage_first"), exclude)
    assert found and found[0] == username, f"no demo unit for {username}"
    return found[1], found[2].id


def test_two_banks_starting_the_days_first_case_together_both_get_a_case_with_distinct_numbers(
        app, db, client, monkeypatch):
    from models import Case, Counter
    keys_a, unit_a = _found_for(monkeypatch, "bank_a_op")
    keys_b, unit_b = _found_for(monkeypatch, "bank_b_op", exclude={unit_a})
    db.session.rollback()
    # A new day: its counter does not exist yet.
    db.session.execute(delete(Counter).where(Counter.name == f"case:{dt.date.today():%Y%m%d}"))
    db.session.commit()
    bank_a, bank_b = app.test_client(), app.test_client()
    for c, user in ((bank_a, "bank_a_op"), (bank_b, "bank_b_op")):
        c.auth = type(client.auth)(c)
        c.auth.login(user)

    # Both requests reach their first counter statement before either goes on, as two requests arriving
    # at the same instant do: whatever the allocation does next, it does it against the other.
    arrive, arrived = threading.Barrier(2, timeout=30), set()

    def together(conn, cursor, statement, *args):
        me = threading.current_thread().name
        if "counter" in statement.lower() and me.startswith("bank-") and me not in arrived:
            arrived.add(me)
            try:
                arrive.wait()
            except threading.BrokenBarrierError:
                pass

    outcome = {}

    def start(name, c, keys, unit_id):
        try:
            r = c.post("/desk/apply/mortgage_first/start", data={**keys, "unit_id": str(unit_id)})
            outcome[name] = (r.status_code, r.headers.get("Location", ""))
        except Exception as exc:  # noqa: BLE001 - TESTING propagates a 500 as the exception behind it
            outcome[name] = (500, f"{type(exc).__name__}: {exc}")

    engine = db.engine
    event.listen(engine, "before_cursor_execute", together)
    try:
        threads = [threading.Thread(target=start, name=f"bank-{n}", args=(n, c, k, u))
                   for n, c, k, u in (("a", bank_a, keys_a, unit_a), ("b", bank_b, keys_b, unit_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        event.remove(engine, "before_cursor_execute", together)
    assert {n: s for n, (s, _) in outcome.items()} == {"a": 302, "b": 302}, outcome
    ids = [int(re.search(r"/desk/case/(\d+)/", loc).group(1)) for _, loc in outcome.values()]
    numbers = sorted(db.session.get(Case, i).number for i in ids)
    assert numbers == [f"WS{dt.date.today():%Y%m%d}00001", f"WS{dt.date.today():%Y%m%d}00002"]
