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
    from sqlalchemy import event, insert, select

    from app import create_app, demo, sync_security
    from app.extensions import db
    from models import Building, Case, CaseUnit, Operator, Parcel, Right, Unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    sync_security(app)
    with app.app_context():
        demo.seed()
        t0 = time.perf_counter()
        _bulk(db, args, Building, Parcel, Unit, Case, CaseUnit, Operator, insert, select)
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


def _bulk(db, args, Building, Parcel, Unit, Case, CaseUnit, Operator, insert, select):
    """Core inserts in batches: the point is data volume, not exercising the ORM's unit of work."""
    from app import rulebook
    version_id = rulebook.get("mortgage_first").version_id  # real cases keep the version they started with
    parcel = Parcel(code="430104009009GB09999", location="长沙市岳麓区压测路1号", area=Decimal("1"))
    db.session.add(parcel)
    db.session.flush()
    per_building = 500
    for b in range(args.units // per_building):
        building = Building(parcel_id=parcel.id, number=f"{b + 1:04d}", name=f"压测{b + 1}栋", floors=50)
        db.session.add(building)
        db.session.flush()
        db.session.execute(insert(Unit), [
            dict(building_id=building.id, unit_code=f"430104009009GB09999F{b + 1:04d}{i + 1:04d}",
                 location=f"长沙市岳麓区压测路1号{b + 1}栋{i + 1}室", room=f"{i + 1}", floor=i // 10 + 1,
                 area=Decimal("90.00"), use="residential", mortgaged=False, pre_noticed=False, sealed=False,
                 objected=False, created_at=dt.datetime.now(), updated_at=dt.datetime.now())
            for i in range(per_building)])
    ops = {u.username: u for u in db.session.scalars(select(Operator))}
    now = dt.datetime.now()
    for start in range(0, args.cases, 2000):
        rows = []
        for n in range(start, min(start + 2000, args.cases)):
            owner = ops["bank_a_op"] if n % 2 == 0 else ops["bank_b_op"]
            submitted = n % 4 >= 2  # half the cases wait in the registry's pre-review queue
            rows.append(dict(number=f"BENCH{n:010d}", business_key="mortgage_first", rules_version_id=version_id,
                             institution_id=owner.institution_id,
                             applicant_id=owner.id, executor_id=None if submitted else owner.id,
                             executor_role="RegistryReviewer" if submitted else None,
                             node="pre_review" if submitted else "draft", submitted_at=now if submitted else None,
                             form_data={}, version=1, created_at=now, updated_at=now))
        db.session.execute(insert(Case), rows)
    unit_ids = db.session.scalars(select(Unit.id).where(Unit.unit_code.like("430104009009GB09999%"))).all()
    case_ids = db.session.scalars(select(Case.id).where(Case.number.like("BENCH%")).order_by(Case.id)).all()
    db.session.execute(insert(CaseUnit), [dict(case_id=c, unit_id=unit_ids[i % len(unit_ids)], data={})
                                          for i, c in enumerate(case_ids)])
    db.session.commit()


if __name__ == "__main__":
    main()
