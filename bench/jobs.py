"""Time the long work of issue 10's targets: a 10,000-row Excel import (a job), the certificate PDF, and a
batch print of 100 cases (a job, with its progress).

    python bench/jobs.py [--rows 10000] [--cases 100] [--url sqlite:////tmp/bench-jobs.db]

Uses its own database (default: a temporary SQLite file), migrated and seeded with the demo data, and
Flask's test client; jobs run on the in-process backend (`make run`'s), so the figures are the work's own,
from the submit to the job's "done" as the progress endpoint reports it.
"""
import argparse
import datetime as dt
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--url", default=f"sqlite:///{tempfile.mkdtemp()}/bench-jobs.db")
    args = parser.parse_args()
    os.environ["REGISTRY_DATABASE_URL"] = args.url
    os.environ.setdefault("REGISTRY_DATA_DIR", tempfile.mkdtemp(prefix="bench-jobs-files-"))

    from flask_migrate import upgrade
    from openpyxl import load_workbook
    from sqlalchemy import select

    from app import create_app, demo, rulebook, sync_security
    from app.extensions import db
    from app.rulebook import legal
    from app.services import numbering
    from models import Building, Case, CaseUnit, Certificate, Operator, Parcel, Unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    sync_security(app)
    key = "mortgage_first"
    with app.app_context():
        demo.seed()
        op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
        business = rulebook.get(key)

        def new_case(units):
            case = Case(number=numbering.case_number(), business_key=key, rules_version_id=business.version_id,
                        institution_id=op.institution_id, applicant_id=op.id, executor_id=op.id,
                        node=business.workflow.initial, form_data={})
            case.units.extend(CaseUnit(unit_id=u.id, data={}) for u in units)
            db.session.add(case)
            return case

        # A case over `rows` units of new buildings (1,000 units each): the Excel import's target.
        parcel = db.session.scalar(select(Parcel).order_by(Parcel.id))
        units = []
        for b in range(-(-args.rows // 1000)):
            building = Building(parcel_id=parcel.id, number=f"{80 + b:04d}", name=f"{parcel.location}{80 + b}栋", floors=100)
            db.session.add(building)
            db.session.flush()
            units += [Unit(building_id=building.id, unit_code=f"{parcel.code}F{80 + b:04d}{n:04d}",
                           location=f"{parcel.location}{80 + b}栋{n}室", room=str(n), floor=n // 10 + 1,
                           area=Decimal("90.00"), use="residential")
                      for n in range(1, min(1000, args.rows - 1000 * b) + 1)]
        db.session.add_all(units)
        db.session.flush()
        import_case = new_case(units)
        demo_units = db.session.scalars(select(Unit).where(Unit.unit_code.not_like(f"{parcel.code}F00%")).order_by(Unit.id).limit(1)).all()
        printed = [new_case(demo_units) for _ in range(args.cases)]
        db.session.commit()
        import_id, printed_ids = import_case.id, [c.id for c in printed]
        # A mortgage proof of bank A's over a demo unit, as 登簿 issues it.
        cert = Certificate(number=numbering.proof_number(), kind="proof", token=secrets.token_urlsafe(24),
                           unit_id=demo_units[0].id, case_id=printed[0].id, institution_id=op.institution_id,
                           holder_names=op.institution.name, content={"location": demo_units[0].location})
        db.session.add(cert)
        db.session.commit()
        cert_id = cert.id

    client = app.test_client()
    landed = client.post("/login/", data={"username": "bank_a_op", "password": demo.DEMO_PASSWORD},
                         follow_redirects=True)
    assert 'id="logout-form"' in landed.get_data(as_text=True), "bank_a_op could not sign in"

    def run_job(response):
        assert response.status_code == 302 and "/jobs/" in response.headers["Location"], response.status_code
        job_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        seen = 0
        while True:
            status = client.get(f"/jobs/{job_id}/status").get_json()
            seen += 1
            if status["finished"]:
                assert status["state"] == "done", status
                return status, seen
            time.sleep(0.05)

    # 1. The Excel import: the case's own template, every row filled, as the clerk uploads it.
    template = client.get(f"/desk/batch/{import_id}/template").data
    with app.test_request_context():
        fields = business.form.per_unit
        values = {f.field: (rulebook.vocabulary(f.vocabulary)[0].code if f.type == "choice" else
                            {"money": "250000.00", "date": "2046-06-30" if f.after else "2026-07-01",
                             "boolean": "否", "integer": 1}.get(f.type, "主债权及利息")) for f in fields}
        shown = [f for f in fields if legal.applies(f, values)]   # 一般抵押: no 最高债权额
    wb = load_workbook(io.BytesIO(template))
    ws = wb.active
    for row in range(3, ws.max_row + 1):
        for col, f in enumerate(fields, start=2):
            if f in shown:
                ws.cell(row=row, column=col, value=values[f.field])
    data = io.BytesIO()
    wb.save(data)
    t = time.perf_counter()
    status, polls = run_job(client.post(f"/desk/batch/{import_id}/import", content_type="multipart/form-data",
                                        data={"workbook": (io.BytesIO(data.getvalue()), "units.xlsx")}))
    took = time.perf_counter() - t
    print(f"Excel import, {args.rows} rows (a job): {took:.1f} s to done ({status['done']}/{status['total']}, "
          f"{polls} progress polls)")

    # 2. The certificate PDF, through its download route (QR, verification code, CJK font).
    times = []
    for _ in range(11):
        t = time.perf_counter()
        r = client.get(f"/proofs/{cert_id}/pdf")
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and r.data[:4] == b"%PDF", r.status_code
    print(f"certificate PDF: median {statistics.median(times[1:]):.0f} ms (first {times[0]:.0f} ms)")

    # 3. The batch print of N cases (a job above REGISTRY_JOB_PRINT_CASES).
    t = time.perf_counter()
    status, polls = run_job(client.post("/desk/office/print", data={"case_id": [str(i) for i in printed_ids]}))
    took = time.perf_counter() - t
    print(f"batch print, {args.cases} cases (a job): {took:.1f} s to done ({status['done']}/{status['total']}, "
          f"{polls} progress polls)")
    print(f"({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
