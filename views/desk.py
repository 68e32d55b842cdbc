"""The institution desk (业务申请 / 业务办公): choose a business, look the property up, start a case,
and follow one's cases (todo, done, rejected, re-apply). The case page is in desk_case.py, batch
entry (building table, Excel) in desk_batch.py.
"""
from functools import lru_cache

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload, selectinload

from app import frame, jobs, paging, rulebook
from app.errors import PAGES
from app.extensions import db
from app.fragments import with_slots
from app.rulebook import applicants, markers
from app.services import certificates, pdf
from app.translations_memo import locale_name
from app.url_memo import url_for_memo
from app.validators import ValidationFailed
from models import Case, CaseHistory, CaseUnit, Unit

from . import case_rows
from . import desk_common as dc
from . import exporting
from .base import posted_ids
from .desk_case import DeskCaseView, fire_event
from .downloads import file_response
from .jobs import start as start_job

PAGE_SIZE = 20


class DeskApplyView(BaseView):
    """业务申请: the businesses grouped by category, then the lookup page of one business."""
    route_base = "/desk/apply"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("desk/apply_index.html", groups=dc.businesses_by_category(), tx=dc.tx)

    @expose("/<key>/", methods=["GET", "POST"])
    @has_access
    def lookup(self, key):
        try:
            business = rulebook.get(key)
        except KeyError:
            return make_response(_("Unknown business"), 404)
        refused = _refused(self, business)
        if refused is not None:
            return refused
        keys = {k.field: (request.values.get(k.field) or "").strip() for k in business.lookup}
        candidates, error, status = None, None, 200
        if any(keys.values()) or request.method == "POST":
            try:
                candidates = rulebook.lookup.find_units(business, keys, institution_id=_institution_id())
                if not candidates:
                    error = _("Nothing on the register matches these keys")
            except ValidationFailed as exc:
                error, status = str(exc), 400
        if request.method == "POST" and candidates and len(candidates) == 1 and candidates[0].ok \
                and not business.batch:
            # The lookup found exactly the one unit the clerk means: start the case at once.
            return _start(business, keys, [candidates[0].unit.id], None,
                          url_for(".lookup", key=key, **keys))
        body = self.render_template("desk/lookup.html", business=business, keys=keys, candidates=candidates,
                                    error=error, tx=dc.tx)
        return make_response(body, status)

    @expose("/<key>/start", methods=["POST"])
    @has_access
    def start(self, key):
        try:
            business = rulebook.get(key)
        except KeyError:
            return make_response(_("Unknown business"), 404)
        refused = _refused(self, business, admin_may_look=False)
        if refused is not None:
            return refused
        unit_ids = posted_ids(request.form.getlist("unit_id"))
        back = url_for(".lookup", key=key, **{k.field: request.form.get(k.field, "") for k in business.lookup})
        if not unit_ids:
            flash(_("Tick at least one unit that can take this business"), "danger")
            return redirect(back)
        # Only units the typed keys found, and that passed the checks with those keys, may be added:
        # a crafted POST cannot skip the identity check of the lookup.
        keys = {k.field: request.form.get(k.field, "") for k in business.lookup}
        try:
            candidates = {c.unit.id: c for c in rulebook.lookup.find_units(business, keys,
                                                                            institution_id=_institution_id())}
        except ValidationFailed as exc:
            flash(str(exc), "danger")
            return redirect(back)
        refused = [uid for uid in unit_ids if uid not in candidates or not candidates[uid].ok]
        if refused:
            for uid in refused:
                c = candidates.get(uid)
                flash(f"{c.unit.location}: {'; '.join(map(str, c.reasons))}" if c else
                      _("Unit %(id)s was not found by this lookup", id=uid), "danger")
            return redirect(back)
        return _start(business, keys, unit_ids, request.form.get("group_name") or None, back)


def _start(business, keys, unit_ids, group_name, back):
    """Open the draft and fill in what the rules declare as defaults (app: desk_common.apply_defaults)."""
    from app.rulebook import workflow
    try:
        case = workflow.start_case(business.key, g.user, unit_ids, group_name=group_name)
        dc.apply_defaults(case, rulebook.for_case(case))
        db.session.commit()
    except workflow.WorkflowError as exc:
        db.session.rollback()
        for p in exc.problems or [str(exc)]:
            flash(str(getattr(p, "message", p)), "danger")
        return redirect(back)
    flash(_("Case %(number)s started", number=case.number), "success")
    return redirect(url_for("DeskCaseView.show", case_id=case.id))


def _refused(view, business, admin_may_look=True):
    """The 403 page saying why, when the user may not apply for the business (its applicants and
    applicant_kinds); the administrator may look a business up, never start one."""
    why = applicants.refusal(business, g.user)
    if why is None or admin_may_look and dc.is_admin():
        return None
    return make_response(view.render_template("errors/page.html", code=403, title=PAGES[403][0], text=why,
                                              plain=False), 403)


def _institution_id():
    return getattr(g.user, "institution_id", None)


class DeskOfficeView(BaseView):
    """业务办公: my todo list, the cases I submitted, the rejected ones; batch print."""
    route_base = "/desk/office"
    default_view = "todo"

    def _list(self, which):
        """One keyset page of my cases (app/paging.py), newest first by `order` (never NULL in these lists)."""
        query, order = office_statement(which)
        page = paging.paginate(query, order, "desc", case_rows.fetch, key=which, size=PAGE_SIZE, nullable=False,
                               fetch_counted=case_rows.fetch_counted, params=office_params(which))
        rows = page.rows
        rejections = {}
        if which == "rejected" and rows:
            # The latest rejection of each listed case, in one query.
            for h in db.session.scalars(select(CaseHistory).where(
                    CaseHistory.case_id.in_([c.id for c in rows]), CaseHistory.reject_type.is_not(None))
                    .order_by(CaseHistory.id)):
                rejections[h.case_id] = h
        offered = office_columns(which)
        shown = exporting.chosen_columns(f"desk-{which}", offered)
        tools = exporting.tools(f"desk-{which}", shown, offered, offered,
                                url_for_memo("DeskOfficeView.export", which=which),
                                url_for_memo("DeskOfficeView.columns_setting", which=which))
        results = certificates.by_cases([c.id for c in rows]) if which == "done" else None

        def render_body(**slots):
            return render_template("desk/office_body.html", which=which, has_rows=bool(rows), **slots)
        body = with_slots(
            ("desk-office", which, bool(rows), locale_name(), request.script_root), render_body,
            total=page.total_html(), tools=tools, csrf=generate_csrf(), header=case_rows.header_html(which, shown),
            rows=case_rows.rows_html(which, case_rows.with_info(rows), shown, results, rejections),
            colspan=3 + len(shown), pager=page.pager_html())
        return frame.page(body)

    @expose("/todo")
    @has_access
    def todo(self):
        return self._list("todo")

    @expose("/done")
    @has_access
    def done(self):
        return self._list("done")

    @expose("/rejected")
    @has_access
    def rejected(self):
        return self._list("rejected")

    @expose("/<which>/export.xlsx", methods=["GET", "POST"])
    @has_access
    def export(self, which):
        """导出 Excel of one of my lists (views/exporting.py); posted with ticked cases: those alone (导出所选)."""
        if which not in OFFICE_LISTS:
            abort(404)
        query, _order = office_query(which)
        params = {"which": which, "columns": exporting.chosen_columns(f"desk-{which}", office_columns(which))}
        if request.method == "POST":
            params["ids"] = posted_ids(request.form.getlist("case_id"))[:1000]
            if not params["ids"]:
                flash(_("Tick the cases to export"), "danger")
                return redirect(url_for(f".{which}"))
            query = query.where(Case.id.in_(params["ids"]))
        return exporting.respond("desk", params, query, url_for(f".{which}"))

    @expose("/<which>/columns", methods=["POST"])
    @has_access
    def columns_setting(self, which):
        if which not in OFFICE_LISTS:
            abort(404)
        exporting.save_columns(f"desk-{which}", list(office_columns(which)), request.form.getlist("column"))
        flash(_("Column settings saved"), "success")
        return redirect(url_for(f".{which}"))

    @expose("/print", methods=["POST"])
    @has_access
    def print_many(self):
        ids = posted_ids(request.form.getlist("case_id"))[:200]
        cases = _cases_to_print(ids)
        if not cases:
            flash(_("Tick the cases to print"), "danger")
            return redirect(url_for(".todo"))
        if len(cases) > current_app.config["JOB_PRINT_CASES"]:  # many cases: a background job with progress
            return start_job("batch_print", {"case_ids": [c.id for c in cases]}, len(cases), url_for(".todo"))
        return file_response(pdf.case_documents([dc.case_summary(c, rulebook.for_case(c)) for c in cases]),
                             "cases.pdf")

    @expose("/reapply/<int:case_id>", methods=["POST"])
    @has_access
    def reapply(self, case_id):
        case = dc.load_case(case_id)
        return fire_event(case, request.form, url_for("DeskCaseView.show", case_id=case.id))


OFFICE_LISTS = ("todo", "done", "rejected")


@lru_cache(maxsize=None)
def office_statement(which):
    """(SELECT, order column) of one of my lists, built once, bound per request (office_params):
    待办 (cases I am to act on), 已办 (I submitted), 已驳回 (mine waiting in a rejected state)."""
    me = bindparam("me")
    if which == "todo":
        return select(Case).where(Case.executor_id == me), Case.updated_at
    if which == "done":
        return select(Case).where(Case.applicant_id == me, Case.submitted_at.is_not(None)), Case.submitted_at
    return select(Case).where(Case.applicant_id == me, Case.node.in_(bindparam("rejected", expanding=True))), \
        Case.updated_at


def office_params(which):
    # the rejected states come from the rules, which the console may change at any time
    return {"me": g.user.id, **({"rejected": rejected_nodes()} if which == "rejected" else {})}


def office_query(which):
    """office_statement with this request's values in it (an export's query)."""
    query, order = office_statement(which)
    return query.params(office_params(which)), order


_COLUMNS = {}


def office_columns(which):
    """{column: heading} a desk list offers (列设置; the number is always shown), made once per (list,
    language)."""
    key = (which, locale_name())
    if key not in _COLUMNS:
        _COLUMNS[key] = _office_columns(which)
    return dict(_COLUMNS[key])


def _office_columns(which):
    columns = {"number": _("Number"), "official_number": _("Registration number"), "business": _("Business"),
               "property": _("Property"), "node": _("Current node"), "parties": _("Parties confirmed")}
    if which == "done":
        columns["submitted_at"] = _("Submitted at")
    columns["updated_at"] = _("Updated")
    return columns


# An export reads every case of the list with its units and parties (views/case_rows.py reads a page).
EXPORT_LOADS = (lazyload(Case.institution), lazyload(Case.applicant),
                selectinload(Case.units).joinedload(CaseUnit.unit).lazyload(Unit.building), selectinload(Case.parties))


@exporting.exportable("desk", _l("My cases"))
def office_rows(params):
    """A desk list's rows for its export: the chosen columns, in the list's order (newest first)."""
    which = params.get("which") if params.get("which") in OFFICE_LISTS else "todo"
    offered = office_columns(which)
    # the number is always shown (the lists keep it, whatever is ticked)
    columns = ["number"] + [c for c in params.get("columns") or list(offered) if c in offered and c != "number"]
    query, order = office_query(which)
    if params.get("ids"):
        query = query.where(Case.id.in_(params["ids"]))
    query = query.order_by(order.desc(), Case.id.desc()).options(*EXPORT_LOADS)

    def values(c):
        i = case_rows.per_business_and_node(rulebook.for_case(c), c.node)
        return {"number": c.number, "official_number": c.official_number, "business": i["business"],
                "property": "、".join(cu.unit.location for cu in c.units), "node": i["node"],
                "parties": "、".join(p.name for p in c.parties if p.role in i["confirm_roles"]),
                "submitted_at": c.submitted_at, "updated_at": c.updated_at}

    def rows():
        for chunk in exporting.in_chunks(query):
            for c in chunk:
                v = values(c)
                yield [v[k] for k in columns]
    return [offered[c] for c in columns], rows()


def _cases_to_print(ids):
    # The scope drops other institutions' ids, so "none ticked" covers "none of mine ticked".
    return db.session.scalars(select(Case).where(Case.id.in_(ids)).options(
        selectinload(Case.units).joinedload(CaseUnit.unit), selectinload(Case.parties),
        selectinload(Case.materials)).order_by(Case.id)).unique().all() if ids else []


@jobs.register("batch_print", _l("Batch print"))
def batch_print_job(job, params):
    """The batch print of many cases (print_many above), as the submitting user: one PDF, with progress."""
    cases = _cases_to_print(params.get("case_ids") or [])
    if not cases:
        raise jobs.JobFailed(_("None of the ticked cases can be printed any more"))
    job.progress(0, len(cases))
    data = pdf.case_documents_in_steps([dc.case_summary(c, rulebook.for_case(c)) for c in cases],
                                       progress=job.progress)
    return "cases.pdf", data


def rejected_nodes():
    """States a rejected case waits in: those the workflows mark with `reapply_to`."""
    return sorted({n for b in rulebook.all_businesses() for n in markers.rejected_states(b.workflow)})


APPLY, OFFICE = "Apply", "Office"


def register(appbuilder):
    from flask import current_app

    from .desk_batch import DeskBatchView
    from .home import WorkbenchView
    from .review import register as register_review
    # Our hand-written forms carry the token whether or not CSRFProtect registered its global.
    current_app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    appbuilder.add_view(DeskApplyView, "DeskApply", label=_l("Apply for a business"), icon="fa-pencil",
                        category=APPLY, category_label=_l("Business application"))
    appbuilder.add_view(DeskOfficeView, "DeskTodo", label=_l("Todo"), icon="fa-inbox", category=OFFICE,
                        category_label=_l("Business office"))
    appbuilder.add_link("DeskDone", label=_l("Done"), href="/desk/office/done", icon="fa-check", category=OFFICE)
    appbuilder.add_link("DeskRejected", label=_l("Rejected"), href="/desk/office/rejected", icon="fa-reply",
                        category=OFFICE)
    appbuilder.add_view_no_menu(DeskCaseView)
    appbuilder.add_view_no_menu(DeskBatchView)
    appbuilder.add_view_no_menu(WorkbenchView)
    register_review(appbuilder)
