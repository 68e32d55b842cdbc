"""Calendar coverage: start-up and the rules console warn when this year or the next is missing from
the holiday calendar; deadlines that run into a missing year are 待核定, not silently computed; the
configurator adds the year in the console (validated, versioned, audited) and the deadlines settle.

2027 is deliberately not shipped in rules/calendar/holidays.yaml (its official notice is not known
here): the holidays typed below are test data."""
import datetime as dt
import logging
import types

import pytest
from sqlalchemy import select

from app.rulebook import effects
from app.services import workdays
from models import AuditLog, CalendarYear, Case
from tests import factories

TODAY = dt.date(2026, 12, 2)
HOLIDAYS_2027 = "2027-01-01 至 2027-01-03\n2027-02-07 至 2027-02-13\n"
WORKDAYS_2027 = "2027-02-06\n2027-02-20\n"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(workdays, "_today", lambda: TODAY)


def test_the_shipped_calendar_misses_next_year(app):
    with app.app_context():
        assert {2025, 2026} <= workdays.covered_years()
        assert workdays.missing_years() == [2027]


def test_start_up_warns_about_a_missing_year(app, caplog):
    # The test app's migrations (alembic's fileConfig) disable the loggers that existed then.
    was = app.logger.disabled
    app.logger.disabled = False
    try:
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            assert workdays.warn_missing_years(app, TODAY) == [2027]
    finally:
        app.logger.disabled = was
    assert any("does not cover 2027" in r.getMessage() and "待核定" in r.getMessage() for r in caplog.records)


def test_a_deadline_counted_into_a_missing_year_is_not_computed(app):
    with app.app_context():
        assert workdays.deadline(dt.date(2026, 12, 21), 5) == dt.date(2026, 12, 28)
        assert workdays.deadline(dt.date(2026, 12, 28), 5) is None


def test_acceptance_leaves_the_deadline_to_be_determined_and_the_pages_say_so(app, db, client, monkeypatch):
    class LateDecember(dt.date):
        @classmethod
        def today(cls):
            return cls(2026, 12, 28)

    monkeypatch.setattr(effects, "dt", types.SimpleNamespace(date=LateDecember, datetime=dt.datetime,
                                                             timedelta=dt.timedelta))
    case = factories.case(db, "bank_a_op", node="accepted")
    with app.test_request_context():
        from app import rulebook
        effects.assign_case_number(case, rulebook.get("mortgage_first"), None)
    case.accepted_at = dt.datetime(2026, 12, 28, 9, 0)
    case.executor_role, case.submitted_at = "RegistryReviewer", dt.datetime(2026, 12, 27, 9, 0)
    db.session.commit()
    assert case.deadline is None and case.official_number
    client.auth.login("reviewer")
    page = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert "待核定" in page.split('id="case-deadline"')[1][:300]
    queue = client.get("/review/?node=accepted").get_data(as_text=True)
    row = queue.split(case.number, 1)[1].split("</tr>", 1)[0]
    assert "待核定" in row


def test_the_console_warns_and_refuses_a_malformed_year_naming_each_line(db, client):
    client.auth.login("configurator")
    index = client.get("/rules/").get_data(as_text=True)
    assert 'id="calendar-warning"' in index and "节假日日历尚未包含 2027 年" in index
    bad = client.post("/rules/calendar/", data={"year": "2027", "holidays": "2027-01-01\n2027-13-01\n2026-10-01",
                                                 "workdays": "2027-02-08"}).get_data(as_text=True)
    problems = bad.split('id="calendar-problems"')[1].split("</div>")[0]
    assert "法定节假日 第 2 行" in problems and "'2027-13-01' 不是日期" in problems
    assert "法定节假日 第 3 行：2026-10-01 不在 2027 年内" in problems
    assert "调休上班日 第 1 行：2027-02-08 不是周六或周日" in problems
    assert "2026-10-01" in bad.split('id="holidays"')[1][:200], "what was typed is kept"
    assert db.session.scalar(select(CalendarYear).where(CalendarYear.year == 2027)) is None


def test_someone_without_the_configurator_role_cannot_add_a_year(db, client):
    client.auth.login("bank_a_op")
    client.post("/rules/calendar/", data={"year": "2027", "holidays": HOLIDAYS_2027, "workdays": WORKDAYS_2027})
    assert db.session.scalar(select(CalendarYear).where(CalendarYear.year == 2027)) is None


def test_adding_the_year_in_the_console_settles_the_pending_deadlines(app, db, client):
    case = factories.case(db, "bank_a_op", node="accepted", official_number="TESTOFF0000001")
    case.accepted_at, case.deadline = dt.datetime(2026, 12, 28, 9, 0), None
    db.session.commit()
    client.auth.login("configurator")
    saved = client.post("/rules/calendar/", data={"year": "2027", "holidays": HOLIDAYS_2027,
                                                  "workdays": WORKDAYS_2027, "note": "国办发明电〔2026〕"},
                        follow_redirects=True).get_data(as_text=True)
    assert "2027 年节假日已保存为第 1 版" in saved and 'id="calendar-warning"' not in saved
    db.session.expire_all()
    row = db.session.scalar(select(CalendarYear).where(CalendarYear.year == 2027, CalendarYear.active.is_(True)))
    assert row.version == 1 and row.author_name == "configurator" and ["2027-01-01", "2027-01-03"] in row.holidays
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar_saved", AuditLog.object_id == str(row.id)))
    # 12-29, 12-30, 12-31, then 2027-01-01..03 are holidays: 01-04 and 01-05 (not 01-04, as weekdays alone say).
    assert db.session.get(Case, case.id).deadline == dt.date(2027, 1, 5)
    with app.app_context():
        assert workdays.missing_years() == []
        assert not workdays.is_working_day(dt.date(2027, 1, 1)) and workdays.is_working_day(dt.date(2027, 2, 6))
    assert 'id="calendar-warning"' not in client.get("/rules/").get_data(as_text=True)
    again = client.post("/rules/calendar/", data={"year": "2027", "holidays": HOLIDAYS_2027 + "2027-05-01 至 2027-05-05",
                                                  "workdays": WORKDAYS_2027}, follow_redirects=True)
    assert "第 2 版" in again.get_data(as_text=True)
    db.session.expire_all()
    versions = db.session.scalars(select(CalendarYear).where(CalendarYear.year == 2027).order_by(CalendarYear.version)).all()
    assert [(v.version, v.active) for v in versions] == [(1, False), (2, True)]
