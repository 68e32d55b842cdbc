"""Working days for statutory time limits: Monday to Friday, minus public holidays, plus the weekend
days worked in their place, as listed in rules/calendar/holidays.yaml (data a configurator keeps)
and in the years a configurator adds in the console (models.CalendarYear, app/services/calendar_years.py).

A year counts as covered once its holidays are listed (in the file or the console). A deadline that
falls in, or is counted through, a year not covered is not computed: deadline() answers None and
the pages show 待核定 until the year is added."""
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Union

import yaml
from flask import current_app
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy.exc import SQLAlchemyError

from app.services import calendar_years


class _Span(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date
    end: dt.date

    @model_validator(mode="before")
    @classmethod
    def _from_to(cls, data):
        # YAML reads `from:`/`to:` fine, but `from` is a Python keyword.
        return {"start": data.get("from"), "end": data.get("to")} if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self


class Calendar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holidays: list[Union[dt.date, _Span]] = []
    workdays: list[dt.date] = []

    def holiday_set(self) -> frozenset:
        days = set()
        for item in self.holidays:
            if isinstance(item, dt.date):
                days.add(item)
            else:
                days.update(item.start + dt.timedelta(n) for n in range((item.end - item.start).days + 1))
        return frozenset(days)


class CalendarError(ValueError):
    pass


@lru_cache(maxsize=4)
def _load_file(path: str):
    try:
        cal = Calendar.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CalendarError(f"{path}: {exc}") from None
    holidays = cal.holiday_set()
    return holidays, frozenset(cal.workdays), frozenset(d.year for d in holidays)


def _load(path: str):
    """(holidays, swapped working days, covered years): the file's years, each replaced by the console's
    active version of that year when there is one."""
    holidays, workdays, years = _load_file(path)
    added = calendar_years.active_years()
    if not added:
        return holidays, workdays, years
    holidays = {d for d in holidays if d.year not in added}
    workdays = {d for d in workdays if d.year not in added}
    for entry in added.values():
        holidays |= entry.holidays
        workdays |= entry.workdays
    return frozenset(holidays), frozenset(workdays), years | frozenset(added)


def _path():
    return str(Path(current_app.config["RULES_DIR"]) / "calendar" / "holidays.yaml")


def _working(day, holidays, workdays):
    return day in workdays or (day.weekday() < 5 and day not in holidays)


def is_working_day(day: dt.date) -> bool:
    holidays, workdays, _years = _load(_path())
    return _working(day, holidays, workdays)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date n working days after start (start itself not counted)."""
    holidays, workdays, _years = _load(_path())
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if _working(day, holidays, workdays):
            n -= 1
    return day


def covered_years() -> frozenset:
    return _load(_path())[2]


def deadline(start: dt.date, n: int):
    """The statutory deadline n working days after start, or None (待核定) when the count runs through a
    year the calendar does not cover yet: counting it from weekdays alone would be silently wrong."""
    holidays, workdays, years = _load(_path())
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if day.year not in years:
            return None
        if _working(day, holidays, workdays):
            n -= 1
    return day


def _today():
    return dt.date.today()


def missing_years(today: dt.date | None = None) -> list:
    """The current and the next year, where the calendar does not list them yet."""
    today = today or _today()
    years = covered_years()
    return [y for y in (today.year, today.year + 1) if y not in years]


def warn_missing_years(app, today: dt.date | None = None) -> list:
    """Log a warning at start-up for each of this year and the next that the calendar does not cover."""
    with app.app_context():
        try:
            missing = missing_years(today)
        except (CalendarError, SQLAlchemyError) as exc:   # a broken calendar or an unreachable database
            app.logger.warning("holiday calendar not checked: %s", exc)
            return []
    for year in missing:
        app.logger.warning("The holiday calendar does not cover %s: deadlines falling in it are marked "
                           "待核定 (to be determined) until its public holidays are added "
                           "(rules console, /rules/calendar/)", year)
    return missing
