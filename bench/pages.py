"""Seed a large register and time the key pages; prints median milliseconds and SQL statements per request.

    python bench/pages.py [--units 20000] [--cases 10000] [--url sqlite:////tmp/bench.db]

Uses its own database (default: a temporary SQLite file), migrated and seeded with the demo data
plus bulk rows, and Flask's test client (no network), so figures compare code, not the machine's
network stack.
"""
import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--url", default=f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    parser.add_argument("--explain", action="store_true", help="print the statements of each page, most frequent first")
    args = parser.parse_args()
    os.environ["REGISTRY_DATABASE_URL"] = args.url

    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from app import create_app, demo, sync_security
    from app.extensions import db
    from models import Case, Operator, Right

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    sync_security(app)
    with app.app_context():
        demo.seed()
        t0 = time.perf_counter()
        bulk_seed(db, args.units, args.cases)
        print(f"seeded {args.units} units and {args.cases} cases in {time.perf_counter() - t0:.1f} s")

    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, sql, *rest: statements.append(" ".join(sql.split())[:140]))
    client = app.test_client()
    with app.app_context():
        sample = db.session.scalar(select(Case).where(Case.number == "BENCH0000000000"))
        right = db.session.scalar(select(Right).limit(1))
        lookup = (f"/desk/apply/mortgage_first/?certificate_number={right.certificate_number}"
                  f"&holder_id_number={right.holders[0].party.id_number}")
        deep_cases, deep_queue = _deep_cursors(db, Case, Operator, select)
    pages = {
        "bank_a_op": ["/", "/caseview/list/", f"/caseview/list/?after={deep_cases}", "/mortgageview/list/",
                      "/desk/office/todo", "/desk/office/done", f"/desk/case/{sample.id}/", lookup],
        "reviewer": ["/", "/review/", f"/review/?node=pre_review&after={deep_queue}", "/unitview/list/",
                     "/unitview/list/?_flt_0_location=麓山", "/caseview/list/"],
        "public": ["/public/progress", "/appointments/"],
    }
    # 坐落 contains a term of 3+ characters: served by the trigram index (app/services/search.py).
    pages["reviewer"].append("/unitview/list/?_flt_2_location=12栋101室")
    print(f"{'user':<12}{'page':<42}{'median ms':>10}{'p90 ms':>9}{'SQL':>6}")
    for user, urls in pages.items():
        client.post("/login/", data={"username": user, "password": demo.DEMO_PASSWORD})
        for url in urls:
            client.get(url)  # warm-up: rules and templates are compiled once per process, not per request
            times, counts = [], []
            for _ in range(args.repeat):
                statements.clear()
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                counts.append(len(statements))
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            if args.explain:
                from collections import Counter
                for sql, n in Counter(statements).most_common(6):
                    print(f"      {n:>3} × {sql}")
            shown = url.split("after=")[0] + "after=<deep>" if "after=" in url else url
            print(f"{user:<12}{shown[:41]:<42}{statistics.median(times):>10.1f}{times[int(len(times) * .9) - 1]:>9.1f}"
                  f"{max(counts):>6}")
        client.post("/logout/")  # signing out is a POST


def _deep_cursors(db, Case, Operator, select):
    """The pager's cursors 4,000 rows down bank_a_op's case list (its page 201) and 1,000 rows down the
    pre-review queue (page 51): what 下一页 links to that deep, reached by an index seek."""
    from app import paging
    op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    case = db.session.scalar(select(Case).where(Case.institution_id == op.institution_id)
                             .order_by(Case.updated_at.desc(), Case.id.desc()).offset(3999).limit(1))
    waiting = db.session.scalar(select(Case).where(Case.executor_role == "RegistryReviewer", Case.node == "pre_review")
                                .order_by(Case.submitted_at, Case.id).offset(999).limit(1))
    return (paging.cursor_for("CaseView", Case.updated_at, "desc", case),
            paging.cursor_for("review-pre_review", Case.submitted_at, "asc", waiting))


BATCH = 20000
PREFIX = "430104009009GB09999"  # the bench parcel's code: every bulk unit code starts with it
PER_BUILDING = 500


def bulk_seed(db, units, cases, say=print):
    """Add `units` units (500 a building) and `cases` cases of the two demo banks, each case with one unit
    and one party (a mortgagor whose ID number is X + the case number's digits, for the progress query).
    Half of a bank's cases are in its operator's 待办, the other half wait in the registry's pre-review
    queue; updated_at goes back a second per case so the lists' order is the data's, not ties.

    Core inserts in big batches (COPY on PostgreSQL), no ORM unit of work: the point is data volume.
    Nothing here is audited or scoped (no request, no flush hooks); rows are as the migrations define them."""
    from sqlalchemy import select

    from app import rulebook
    from models import Building, Case, CaseParty, CaseUnit, Operator, Parcel, Unit
    version_id = rulebook.get("mortgage_first").version_id  # real cases keep the version they started with
    now = dt.datetime.now().replace(microsecond=0)
    t0 = time.perf_counter()
    parcel = Parcel(code=PREFIX, location="长沙市岳麓区压测路1号", area=Decimal("1"))
    db.session.add(parcel)
    db.session.flush()
    _insert(db, Building.__table__, [
        dict(parcel_id=parcel.id, number=f"{b + 1:04d}", name=f"压测{b + 1}栋", floors=50)
        for b in range(-(-units // PER_BUILDING))])
    buildings = db.session.scalars(select(Building.id).where(Building.parcel_id == parcel.id).order_by(Building.id)).all()
    for start in range(0, units, BATCH):
        _insert(db, Unit.__table__, [
            dict(building_id=buildings[n // PER_BUILDING], unit_code=f"{PREFIX}F{n // PER_BUILDING + 1:04d}{n % PER_BUILDING + 1:04d}",
                 location=f"长沙市岳麓区压测路1号{n // PER_BUILDING + 1}栋{n % PER_BUILDING + 1}室",
                 room=f"{n % PER_BUILDING + 1}", floor=n % PER_BUILDING // 10 + 1, area=Decimal("90.00"),
                 use="residential", mortgaged=False, pre_noticed=False, sealed=False, objected=False,
                 created_at=now, updated_at=now)
            for n in range(start, min(start + BATCH, units))])
        say(f"  units {min(start + BATCH, units)}/{units}  {time.perf_counter() - t0:.0f} s")
    ops = {u.username: u for u in db.session.scalars(select(Operator))}
    for start in range(0, cases, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, cases)):
            owner = ops["bank_a_op"] if n % 2 == 0 else ops["bank_b_op"]
            submitted = n % 4 >= 2  # half the cases wait in the registry's pre-review queue
            at = now - dt.timedelta(seconds=cases - n)
            rows.append(dict(number=f"BENCH{n:010d}", business_key="mortgage_first", rules_version_id=version_id,
                             institution_id=owner.institution_id,
                             applicant_id=owner.id, executor_id=None if submitted else owner.id,
                             executor_role="RegistryReviewer" if submitted else None,
                             node="pre_review" if submitted else "draft", submitted_at=at if submitted else None,
                             form_data={}, version=1, created_at=at, updated_at=at))
        _insert(db, Case.__table__, rows)
        say(f"  cases {min(start + BATCH, cases)}/{cases}  {time.perf_counter() - t0:.0f} s")
    unit_ids = db.session.scalars(select(Unit.id).join(Building).where(Building.parcel_id == parcel.id)
                                  .order_by(Unit.id)).all()
    case_ids = db.session.scalars(select(Case.id).where(Case.number.like("BENCH%")).order_by(Case.id)).all()
    numbered = list(enumerate(case_ids))
    for start in range(0, len(numbered), BATCH):
        chunk = numbered[start:start + BATCH]
        _insert(db, CaseUnit.__table__, [dict(case_id=c, unit_id=unit_ids[i % len(unit_ids)], data={})
                                         for i, c in chunk])
        _insert(db, CaseParty.__table__, [dict(case_id=c, role="mortgagor", kind="person", name="陈晓东",
                                               id_type="1", id_number=progress_id_number(i))
                                          for i, c in chunk])
    db.session.commit()
    say(f"  links and parties {len(case_ids)}  {time.perf_counter() - t0:.0f} s")


def progress_id_number(n):
    """The ID number of the party of bulk case n (BENCH + n): what the progress query asks with the number."""
    return f"X{n:017d}"


def _insert(db, table, rows):
    """Many rows at once: COPY on PostgreSQL, executemany elsewhere (SQLite's is a tight C loop)."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        import json
        # COPY skips the models' Python-side defaults (created_at ...): fill them in as the ORM would.
        defaults = {c.name: c.default.arg if c.default.is_scalar else c.default.arg(None)
                    for c in table.columns if c.default is not None and c.name not in rows[0]}
        rows = [{**defaults, **row} for row in rows] if defaults else rows
        columns = list(rows[0])
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in (row[c] for c in columns)])
        return
    connection.execute(table.insert(), rows)


if __name__ == "__main__":
    main()
