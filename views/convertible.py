"""可转现列表 on the institution desk: the bank's pre-mortgages whose building has its first registration,
ticked and converted in one go (the conversion business of the rules, started for the ticked units)."""
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.rulebook import applicants
from app.services import convertible

from . import desk_common as dc
from .base import posted_ids

PAGE_SIZE = 20


class DeskConvertibleView(BaseView):
    route_base = "/desk/convertible"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        conversion = convertible.business()
        try:
            number = max(1, int(request.args.get("page", "1")))
        except ValueError:
            number = 1
        total = convertible.count()
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(number, pages)
        inst = getattr(g.user, "institution_id", None)
        rows = [(p, *convertible.eligibility(conversion, p, inst)) for p in convertible.page(number, PAGE_SIZE)] \
            if conversion is not None else []
        refused = applicants.refusal(conversion, g.user) if conversion is not None else _("No business converts pre-notices")
        return self.render_template("desk/convertible.html", rows=rows, total=total, page=number, pages=pages,
                                    business_name=dc.tx(conversion.name) if conversion else "", refused=refused)

    @expose("/convert", methods=["POST"])
    @has_access
    def convert(self):
        from app import rulebook
        from app.rulebook import workflow
        back = url_for(".index")
        conversion = convertible.business()
        chosen = convertible.chosen(posted_ids(request.form.getlist("pre_notice_id")))
        if conversion is None or not chosen:
            flash(_("Tick at least one pre-notice to convert"), "danger")
            return redirect(back)
        unit_ids = [p.unit_id for p in chosen]
        groups = [unit_ids] if conversion.batch else [[u] for u in unit_ids]
        started = []
        try:
            for ids in groups:
                case = workflow.start_case(conversion.key, g.user, ids)
                dc.apply_defaults(case, rulebook.for_case(case))
                db.session.commit()
                started.append(case)
        except workflow.WorkflowError as exc:
            db.session.rollback()
            for p in exc.problems or [str(exc)]:
                flash(str(p), "danger")
            if not started:
                return redirect(back)
        flash(_("Case(s) %(numbers)s started for %(n)d unit(s)", numbers="、".join(c.number for c in started),
                n=sum(len(c.units) for c in started)), "success")
        return redirect(url_for("DeskCaseView.show", case_id=started[0].id) if len(started) == 1
                        else url_for("DeskOfficeView.todo"))


def register(appbuilder):
    appbuilder.add_view(DeskConvertibleView, "DeskConvertible", label=_l("Convertible pre-mortgages"),
                        icon="fa-exchange", category="Apply")
