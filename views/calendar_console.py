"""业务规则配置 → 节假日: which years the holiday calendar covers (file or console), a warning for this
year and the next when missing, and a form to add a year's holidays and swapped working days
(validated, saved as a new version of the year, audited). Saving a year settles the deadlines that
waited for it (待核定)."""
import datetime as dt

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import audit, rulebook
from app.extensions import db
from app.services import calendar_years, workdays
from models import Case


def settle_pending_deadlines():
    """Compute the deadlines left 待核定 (accepted, open, no deadline) that the calendar now covers."""
    settled = 0
    for case in db.session.scalars(select(Case).where(Case.accepted_at.is_not(None), Case.deadline.is_(None),
                                                     Case.finished_at.is_(None))):
        day = workdays.deadline(case.accepted_at.date(), rulebook.for_case(case).time_limit.working_days)
        if day is not None:
            case.deadline = day
            audit.record(db.session, "deadline_settled", "Case", case.id, summary=f"{case.number}: {day.isoformat()}")
            settled += 1
    return settled


class RuleConsoleCalendarView(BaseView):
    route_base = "/rules/calendar"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        today = dt.date.today()
        year = request.values.get("year", type=int) or (workdays.missing_years(today) or [today.year + 1])[0]
        holidays, days, note, problems = "", "", "", []
        rows = calendar_years.versions(year)
        if rows:
            holidays, days = calendar_years.as_text(next((r for r in rows if r.active), rows[0]))
        if request.method == "POST":
            holidays, days = request.form.get("holidays", ""), request.form.get("workdays", "")
            note = (request.form.get("note") or "").strip()
            try:
                row = calendar_years.save(year, holidays, days, g.user, note)
                settled = settle_pending_deadlines()
                db.session.commit()
            except calendar_years.YearInvalid as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("The holidays of %(year)s are saved as version %(v)s; %(n)s deadlines were computed",
                        year=year, v=row.version, n=settled), "success")
                return redirect(url_for(".index", year=year))
        return self.render_template("rules/calendar.html", year=year, holidays=holidays, workdays=days, note=note,
                                    problems=problems, rows=rows, covered=sorted(workdays.covered_years()),
                                    missing=workdays.missing_years(today),
                                    labels={"holidays": _("Public holidays"), "workdays": _("Swapped working days"),
                                            "year": _("Year")})


def register(appbuilder):
    appbuilder.add_view(RuleConsoleCalendarView, "Rules calendar", label=_l("Holiday calendar"), icon="fa-calendar",
                        category="Rules")
