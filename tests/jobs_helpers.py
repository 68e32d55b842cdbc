"""Shared by the job tests: cases to print or import into, and polling a job's status as the page does."""
import contextlib
import time
from decimal import Decimal

from sqlalchemy import select

from app import rulebook
from app.services import numbering
from models import Building, Case, CaseUnit, Operator, Parcel, Unit

KEY = "mortgage_first"


def operator(db, username):
    return db.session.scalar(select(Operator).where(Operator.username == username))


def cases_of(db, username, n, units_each=1):
    """n draft cases of the user's institution, each with a few demo units (for a batch print)."""
    business = rulebook.get(KEY)
    op = operator(db, username)
    units = db.session.scalars(select(Unit).order_by(Unit.id).limit(units_each)).all()
    made = []
    for _ in range(n):
        case = Case(number=numbering.case_number(), business_key=KEY, rules_version_id=business.version_id,
                    institution_id=op.institution_id, applicant_id=op.id, executor_id=op.id,
                    node=business.workflow.initial, form_data={})
        case.units.extend(CaseUnit(unit_id=u.id, data={}) for u in units)
        db.session.add(case)
        made.append(case)
    db.session.commit()
    return made


def case_with_new_units(db, username, n):
    """A draft case over n units of a new building (the demo register holds 312 units)."""
    parcel = db.session.scalar(select(Parcel).order_by(Parcel.id))
    building = Building(parcel_id=parcel.id, number="0099", name=f"{parcel.location}99栋", floors=n // 20 + 1)
    db.session.add(building)
    db.session.flush()
    business = rulebook.get(KEY)
    op = operator(db, username)
    case = Case(number=numbering.case_number(), business_key=KEY, rules_version_id=business.version_id,
                institution_id=op.institution_id, applicant_id=op.id, executor_id=op.id,
                node=business.workflow.initial, form_data={})
    for seq in range(1, n + 1):
        floor, r = (seq - 1) // 20 + 1, (seq - 1) % 20 + 1
        unit = Unit(building_id=building.id, unit_code=f"{parcel.code}F0099{seq:04d}",
                    location=f"{parcel.location}99栋{floor}{r:02d}室", room=f"{floor}{r:02d}", floor=floor,
                    area=Decimal("90.00"), use="residential")
        db.session.add(unit)
        db.session.flush()
        case.units.append(CaseUnit(unit_id=unit.id, data={}))
    db.session.add(case)
    db.session.commit()
    return business, case


def job_id_of(response):
    """The job page a submit redirected to (/jobs/<id>)."""
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    return int(location.rstrip("/").rsplit("/", 1)[1])


def wait_for(client, job_id, timeout=25.0):
    """Poll the status endpoint like app/static/js/jobs.js until the job has finished; returns the JSON."""
    end = time.monotonic() + timeout
    seen = []
    while True:
        r = client.get(f"/jobs/{job_id}/status")
        assert r.status_code == 200, r.status_code
        status = r.get_json()
        seen.append((status["done"], status["total"]))
        if status["finished"]:
            status["seen"] = seen
            return status
        assert time.monotonic() < end, f"job {job_id} did not finish: {status}"
        time.sleep(0.1)


@contextlib.contextmanager
def settings(app, **values):
    """Settings changed for the duration of a block (thresholds, the broker), then put back as they were."""
    before = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(before)
