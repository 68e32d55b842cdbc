"""Calendar years kept in the console: a year's public holidays and swapped working days, typed by the
configurator, validated, saved as a new version of that year (models.CalendarYear) and audited.

The holidays are typed one per line, a day or a span ("2027-02-06 至 2027-02-13"); the swapped
working days one per line. Every problem names its line, so the configurator fixes it in one pass."""
import datetime as dt
import re
from dataclasses import dataclass

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select

from app import audit
from app.extensions import db
from models import CalendarYear

_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_tables = set()   # database URLs known to have the calendar_year table


@dataclass(frozen=True)
class Year:
    holidays: frozenset
    workdays: frozenset


class YearInvalid(ValueError):
    """.problems: [(field, line, message)] in the reader's language."""

    def __init__(self, problems):
        super().__init__("; ".join(str(m) for _f, _l, m in problems))
        self.problems = problems


NOT_A_DATE = _l("'%(text)s' is not a date (write 2027-01-01, or a span 2027-01-01 至 2027-01-03)")
OTHER_YEAR = _l("%(day)s is not in %(year)s")
SPAN_BACKWARDS = _l("the span ends before it starts")
NOT_A_WEEKEND = _l("%(day)s is not a Saturday or Sunday: only a weekend day can be a swapped working day")
WORKDAY_IS_HOLIDAY = _l("%(day)s is also listed as a holiday")
NO_HOLIDAYS = _l("list the year's public holidays")
BAD_YEAR = _l("the year must be between 2000 and 2100")


def _say(entry, **params):
    """A catalogue entry above with its parameters (flask-babel's LazyString keeps the msgid first)."""
    return _l(entry._args[0], **params)


def _has_table():
    if not has_app_context():
        return False
    url = str(db.engine.url)
    if url not in _tables:
        if not inspect(db.engine).has_table("calendar_year"):
            return False
        _tables.add(url)
    return True


def active_years() -> dict:
    """{year: Year} of the console's active versions (read once per request or app context)."""
    if not _has_table():
        return {}
    memo = g.get("_calendar_years")
    if memo is None:
        memo = {}
        for row in db.session.scalars(select(CalendarYear).where(CalendarYear.active.is_(True))):
            days = set()
            for start, end in row.holidays:
                first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
                days.update(first + dt.timedelta(n) for n in range((last - first).days + 1))
            memo[row.year] = Year(frozenset(days), frozenset(dt.date.fromisoformat(d) for d in row.workdays))
        g._calendar_years = memo
    return memo


def parse(year, holidays_text, workdays_text):
    """([[start, end]], [day]) as ISO texts, or raise YearInvalid naming field and line."""
    problems, spans, days = [], [], []
    if not 2000 <= year <= 2100:
        raise YearInvalid([("year", 0, BAD_YEAR)])
    for n, line in enumerate((holidays_text or "").splitlines(), 1):
        if not line.strip():
            continue
        found = _dates(line, "holidays", n, problems)
        if found is None:
            continue
        start, end = found[0], found[-1]
        if end < start:
            problems.append(("holidays", n, SPAN_BACKWARDS))
        elif start.year != year and end.year != year:
            problems.append(("holidays", n, _say(OTHER_YEAR, day=start.isoformat(), year=year)))
        else:
            spans.append((start, end))
    holiday_days = {s + dt.timedelta(i) for s, e in spans for i in range((e - s).days + 1)}
    for n, line in enumerate((workdays_text or "").splitlines(), 1):
        if not line.strip():
            continue
        found = _dates(line, "workdays", n, problems)
        if found is None:
            continue
        for day in found:
            if day.year != year:
                problems.append(("workdays", n, _say(OTHER_YEAR, day=day.isoformat(), year=year)))
            elif day.weekday() < 5:
                problems.append(("workdays", n, _say(NOT_A_WEEKEND, day=day.isoformat())))
            elif day in holiday_days:
                problems.append(("workdays", n, _say(WORKDAY_IS_HOLIDAY, day=day.isoformat())))
            else:
                days.append(day)
    if not spans and not any(f == "holidays" for f, _n, _m in problems):
        problems.append(("holidays", 0, NO_HOLIDAYS))
    if problems:
        raise YearInvalid(problems)
    return [[s.isoformat(), e.isoformat()] for s, e in sorted(spans)], sorted(d.isoformat() for d in days)


def _dates(line, field, n, problems):
    texts = _DATE.findall(line)
    rest = _DATE.sub("", line).replace("至", "").replace("~", "").replace("-", "").replace("to", "").strip(" ,，、")
    if not texts or len(texts) > 2 or rest:
        problems.append((field, n, _say(NOT_A_DATE, text=line.strip()[:40])))
        return None
    try:
        return [dt.date.fromisoformat("-".join(f"{int(p):02d}" for p in t.split("-"))) for t in texts]
    except ValueError:
        problems.append((field, n, _say(NOT_A_DATE, text=line.strip()[:40])))
        return None


def save(year, holidays_text, workdays_text, user=None, note=None) -> CalendarYear:
    """Validate and store the year as its new active version (audited); the caller commits."""
    spans, days = parse(year, holidays_text, workdays_text)
    last = db.session.scalar(select(func.max(CalendarYear.version)).where(CalendarYear.year == year)) or 0
    for row in db.session.scalars(select(CalendarYear).where(CalendarYear.year == year, CalendarYear.active.is_(True))):
        row.active = False
    row = CalendarYear(year=year, version=last + 1, holidays=spans, workdays=days, active=True,
                       author_id=getattr(user, "id", None), author_name=getattr(user, "username", None) or "system",
                       note=(note or "")[:300] or None)
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, "calendar_saved", "CalendarYear", row.id, summary=f"{year} v{row.version}")
    g.pop("_calendar_years", None)
    return row


def versions(year) -> list:
    if not _has_table():
        return []
    return list(db.session.scalars(select(CalendarYear).where(CalendarYear.year == year)
                                   .order_by(CalendarYear.version.desc())))


def as_text(row):
    """A stored version as the form shows it (to start the next version from)."""
    holidays = "\n".join(s if s == e else f"{s} 至 {e}" for s, e in row.holidays)
    return holidays, "\n".join(row.workdays)
