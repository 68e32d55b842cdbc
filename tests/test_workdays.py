"""Statutory deadlines count working days from the holiday calendar in rules/calendar/holidays.yaml."""
import datetime as dt

import pytest

from app.services import workdays


@pytest.fixture(autouse=True)
def _context(app):
    with app.app_context():
        yield


def test_a_national_day_week_is_skipped_and_the_swapped_saturday_counts():
    # Accepted Tuesday 2026-09-29: 09-30 counts; 10-01..10-07 are holidays; Saturday 10-10 is worked.
    assert workdays.add_working_days(dt.date(2026, 9, 29), 1) == dt.date(2026, 9, 30)
    assert workdays.add_working_days(dt.date(2026, 9, 29), 2) == dt.date(2026, 10, 8)
    assert workdays.add_working_days(dt.date(2026, 9, 29), 4) == dt.date(2026, 10, 10)


def test_plain_weekends_are_not_working_days():
    assert workdays.add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday -> Monday
    assert not workdays.is_working_day(dt.date(2026, 11, 22))


def test_a_malformed_calendar_names_the_file(tmp_path, app):
    bad = tmp_path / "calendar"
    bad.mkdir()
    (bad / "holidays.yaml").write_text("holidays:\n  - {from: 2026-05-05, to: 2026-05-01}\n", encoding="utf-8")
    old = app.config["RULES_DIR"]
    app.config["RULES_DIR"] = str(tmp_path)
    try:
        with pytest.raises(workdays.CalendarError, match="holidays.yaml"):
            workdays.is_working_day(dt.date(2026, 5, 2))
    finally:
        app.config["RULES_DIR"] = old
