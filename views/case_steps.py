"""The Beihai steps on the institution desk's case page (views/templates/desk/_steps.html): 明细表 (paged page,
PDF, Excel), 水电气网过户 (send or skip; each request's status), 申明/承诺 signatures, the booking, and the
自助打证 code. What a business offers is read from its rules; nothing here names a business."""
from flask import current_app, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import audit, jobs, rulebook
from app.extensions import db
from app.services import declarations, detail_list, kiosk, utilities
from models import Appointment

from . import desk_common as dc
from .downloads import XLSX, file_response
from .jobs import start as start_job


def steps(case, business):
    """What the case page's steps panel shows (a Jinja global: the case page itself is not changed)."""
    declaration = business.declaration
    signed = declarations.signatures(case) if declaration is not None else []
    return {
        "declaration": declaration, "signatures": signed,
        "unsigned": declarations.problems(case, declaration) if declaration is not None else [],
        "utilities": utilities.offered(business), "utility_rows": utilities.rows(case) if business.utilities else [],
        "utility_kinds": utilities.KINDS, "utility_statuses": utilities.STATUSES,
        "recorded": case.finished_at is not None,
        "appointments": list(db.session.scalars(select(Appointment).where(Appointment.case_id == case.id)
                                                .order_by(Appointment.id))),
        "printable": kiosk.printable(case) if case.finished_at is not None else [],
        "kiosk_code": kiosk.latest(case),
    }


class DeskStepsView(BaseView):
    route_base = "/desk/case"

    # ---- 明细表 -----------------------------------------------------------------------------------
    @expose("/<int:case_id>/details")
    @has_access
    def details(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        size = max(10, int(current_app.config["DETAIL_PAGE_SIZE"]))
        try:
            number = int(request.args.get("page", "1"))
        except ValueError:
            number = 1
        rows, number, pages = detail_list.page(case, number, size)
        return self.render_template("desk/details.html", case=case, business_name=dc.tx(business.name),
                                    headers=detail_list.headers(), rows=rows, page=number, pages=pages,
                                    total=len(case.units))

    @expose("/<int:case_id>/details.pdf")
    @has_access
    def details_pdf(self, case_id):
        case = dc.load_case(case_id)
        data = detail_list.pdf_bytes(case)
        audit.record(db.session, "detail_list_printed", "Case", case.id, summary=case.number)
        db.session.commit()
        return file_response(data, f"明细表-{case.number}.pdf")

    @expose("/<int:case_id>/details.xlsx")
    @has_access
    def details_xlsx(self, case_id):
        case = dc.load_case(case_id)
        data = detail_list.workbook(case)
        audit.record(db.session, "detail_list_exported", "Case", case.id, summary=case.number)
        db.session.commit()
        return file_response(data, f"明细表-{case.number}.xlsx", XLSX)

    # ---- 水电气网过户 ---------------------------------------------------------------------------------
    @expose("/<int:case_id>/utilities", methods=["POST"])
    @has_access
    def utilities(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        back = url_for("DeskCaseView.show", case_id=case.id) + "#utilities"
        if not business.utilities:
            flash(_("This business has no utilities transfer"), "danger")
            return redirect(back)
        if case.finished_at is None:
            flash(_("The utilities can be transferred once the transfer is recorded"), "danger")
            return redirect(back)
        skip = request.form.get("action") == "skip"
        accounts = {kind: request.form.get(f"account__{kind}", "") for kind in business.utilities}
        queued = utilities.request(case, accounts, skip=skip)
        audit.record(db.session, "utilities_skipped" if skip else "utilities_requested", "Case", case.id,
                     summary=f"{case.number}: {'、'.join(r.kind for r in queued) or '-'}")
        if skip or not queued:
            db.session.commit()
            flash(_("The utilities transfer was skipped for now") if skip else _("Every utility was already transferred"),
                  "info")
            return redirect(back)
        return start_job(utilities.JOB, {"case_id": case.id}, len(queued), back)

    # ---- 自助打证 -------------------------------------------------------------------------------------
    @expose("/<int:case_id>/kiosk-code", methods=["POST"])
    @has_access
    def kiosk_code(self, case_id):
        case = dc.load_case(case_id)
        try:
            code = kiosk.issue(case, g.user)
        except kiosk.KioskError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("DeskCaseView.show", case_id=case.id) + "#kiosk")
        db.session.commit()
        # Shown here once, never stored readable nor put in a cookie (a flash message would be).
        response = make_response(self.render_template("desk/kiosk_code.html", case=case, code=code,
                                                      hours=current_app.config["KIOSK_CODE_HOURS"]))
        response.headers["Cache-Control"] = "no-store"
        return response


@jobs.register(utilities.JOB, _l("Utilities transfer (water, power, gas, network)"))
def utility_transfers_job(job, params):
    """Each queued request of the case, with retries; each outcome committed as it comes (a request the
    company accepted stays accepted whatever happens to the next one)."""
    from models import Case, UtilityTransfer
    case = db.session.get(Case, params["case_id"])
    if case is None:
        raise jobs.JobFailed(_("The case is not found"))
    todo = list(db.session.scalars(select(UtilityTransfer).where(UtilityTransfer.case_id == case.id,
                                                                 UtilityTransfer.status == "queued")))
    for i, row in enumerate(todo, start=1):
        utilities.deliver(row)
        audit.record(db.session, "utility_transfer_" + row.status, "Case", case.id,
                     summary=f"{case.number} {row.kind} {row.ticket or row.message or ''}"[:300])
        db.session.commit()
        job.progress(i, len(todo))
    failed = [str(utilities.KINDS[r.kind]) for r in todo if r.status == "failed"]
    if failed:
        raise jobs.JobFailed(_("Not transferred: %(kinds)s (the reasons are shown on the case)",
                               kinds="、".join(failed)))
    return None


def register(appbuilder):
    appbuilder.add_view_no_menu(DeskStepsView)
    from flask import current_app
    current_app.jinja_env.globals["case_steps"] = steps
