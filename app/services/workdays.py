"""Working days for statutory time limits: Monday to Friday, minus public holidays, plus the weekend
days worked in their place, as listed in rules/calendar/holidays.yaml (data a configurator keeps)."""
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Union

import yaml
from flask import current_app
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


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
def _load(path: str):
    try:
        cal = Calendar.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CalendarError(f"{path}: {exc}") from None
    return cal.holiday_set(), frozenset(cal.workdays)


def _path():
    return str(Path(current_app.config["RULES_DIR"]) / "calendar" / "holidays.yaml")


def is_working_day(day: dt.date) -> bool:
    holidays, workdays = _load(_path())
    return day in workdays or (day.weekday() < 5 and day not in holidays)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date n working days after start (start itself not counted)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
