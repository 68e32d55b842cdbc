"""The registry's back office (预审/受理/审核/登簿): queues of cases waiting for a reviewer, by node,
and a case page where the reviewer fires the transitions the rules allow (with opinion and reject
type where the rules require them). Each queue row and the case page show the fee (应缴/已缴) and tax
status; the case page says before any button is pressed why a transition would be refused.
"""
from flask import flash, g, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import audit, dictionary, paging, rulebook
from app.rulebook import fees, legal, markers, workflow
from app.extensions import db
from models import Case, CaseUnit

from . import desk_common as dc
from . import exporting
from .desk_case import fire_event

PAGE_SIZE = 20
REVIEWER_ROLE = "RegistryReviewer"


def reviewer_nodes():
    """[(node, label)] of every state whose executor is the registry reviewer, in the rules' order."""
    seen = {}
    for b in rulebook.all_businesses():
        for name, state in b.workflow.states.items():
            if state.executor == REVIEWER_ROLE and name not in seen:
                seen[name] = dc.tx(state.label)
    return list(seen.items())


def waiting_cases(nodes):
    """The SELECT of the cases waiting for the registry at these nodes, oldest submission first."""
    return select(Case).where(Case.executor_role == REVIEWER_ROLE, Case.node.in_(nodes)) \
        .order_by(Case.submitted_at, Case.id)


def reviewer_queues():
    """[(node, label, count)] of the registry's queues: the ONE count behind the queue tabs and the
    reviewer's workbench, so the two can never disagree. Each count is capped (app/paging.py), all
    of them in one statement."""
    nodes = reviewer_nodes()
    counts = paging.capped_counts([waiting_cases([node]) for node, _label in nodes])
    return [(node, label, count) for (node, label), count in zip(nodes, counts)]


def _fetch_queue(query, params):
    """Units, payments and tax assessments of the whole page in one query each (no query per row)."""
    return db.session.scalars(query.options(selectinload(Case.units).joinedload(CaseUnit.unit),
                                            selectinload(Case.payments), selectinload(Case.tax_assessments)),
                              params).unique().all()


def queue_columns():
    """{column: heading} of a review queue (列设置; the number is always shown)."""
    return {"number": _("Number"), "business": _("Business"), "institution": _("Institution"),
            "property": _("Property"), "fees": _("Fees due / paid"), "tax": _("Deed tax"),
            "submitted_at": _("Submitted at"), "deadline": _("Deadline")}


@exporting.exportable("review", _l("Review queues"))
def queue_rows(params):
    """One queue's rows for its export, in its chosen columns, oldest submission first (fees as two
    columns, due and paid, so they stay numbers)."""
    offered = queue_columns()
    columns = ["number"] + [c for c in params.get("columns") or list(offered) if c in offered and c != "number"]
    query = waiting_cases([params.get("node", "")]).options(
        selectinload(Case.units).joinedload(CaseUnit.unit), selectinload(Case.payments),
        selectinload(Case.tax_assessments))
    headers = []
    for c in columns:
        headers += [_("Due (yuan)"), _("Paid (yuan)")] if c == "fees" else [offered[c]]

    def tax_words(case, business):
        t = dc.tax_status(case, business)
        if t is None:
            return ""
        if t.get("cleared"):
            return _("Tax cleared")
        return f"{_('Tax not cleared')} {t.get('total')}" if t.get("assessments") else _("Not assessed yet")

    def values(c):
        business = rulebook.for_case(c)
        v = {"number": [c.number], "business": [dc.tx(business.name)],
             "institution": [c.institution.name if c.institution else ""],
             "property": ["、".join(cu.unit.location for cu in c.units)], "submitted_at": [c.submitted_at],
             "deadline": [c.deadline or (_("To be determined") if c.accepted_at and not c.finished_at else None)]}
        if "fees" in columns:
            f = fee_status(c)
            v["fees"] = [f["due"], f["paid"]]
        if "tax" in columns:
            v["tax"] = [tax_words(c, business)]
        return v

    def rows():
        for chunk in exporting.in_chunks(query):
            for c in chunk:
                v = values(c)
                yield [x for k in columns for x in v[k]]
    return headers, rows()


def _fee_lines(case):
    from app.services import payment
    return payment.outstanding(case)[0]


def fee_status(case):
    """应缴/已缴 of a case from its rules' fees and its paid payment orders (case.payments)."""
    from app.services import payment
    _lines, due, paid = payment.outstanding(case)
    return {"due": due, "paid": paid, "settled": paid >= due}


def guard_problems(case, transition):
    """Why a transition would be refused now: its guards evaluated without firing it (no effects run).
    [(severity, message)]; a "critical" one disables the button."""
    try:
        problems = workflow.check(case, transition.event, transition.to[0])
    except workflow.WorkflowError as exc:
        return [("critical", p) for p in exc.problems]
    return [(p.severity, str(p.message)) for p in problems]


class ReviewView(BaseView):
    route_base = "/review"
    default_view = "queue"

    @expose("/")
    @has_access
    def queue(self):
        queues = reviewer_queues()
        nodes = [(n, label) for n, label, _count in queues]
        counts = {n: count for n, _label, count in queues}
        node = request.args.get("node") or (nodes[0][0] if nodes else "")
        # One keyset page (app/paging.py); the badge's own count: the tab and its list never disagree.
        page = paging.paginate(waiting_cases([node]), Case.submitted_at, "asc", _fetch_queue, key=f"review-{node}",
                               size=PAGE_SIZE, total=counts.get(node, paging.Count(0, 0)))
        offered = queue_columns()
        shown = exporting.chosen_columns("review", offered)
        tools = exporting.tools("review", shown, offered, offered, url_for(".export", node=node),
                                url_for(".columns_setting"))
        return self.render_template("review/queue.html", nodes=nodes, node=node, cases=page.rows, pager=page,
                                    shown=shown, list_tools=tools,
                                    total=page.total, counts=counts,
                                    business_of=rulebook.for_case, tx=dc.tx, fees=fee_status, tax=dc.tax_status)

    @expose("/export.xlsx")
    @has_access
    def export(self):
        """导出 Excel of one queue (views/exporting.py: a job above REGISTRY_JOB_EXPORT_ROWS rows)."""
        node = request.args.get("node") or next((n for n, _label in reviewer_nodes()), "")
        params = {"node": node[:60], "columns": exporting.chosen_columns("review", queue_columns())}
        return exporting.respond("review", params, waiting_cases([node]), url_for(".queue", node=node))

    @expose("/columns", methods=["POST"])
    @has_access
    def columns_setting(self):
        exporting.save_columns("review", list(queue_columns()), request.form.getlist("column"))
        flash(_("Column settings saved"), "success")
        return redirect(exporting.back_to(url_for(".queue")))

    @expose("/case/<int:case_id>/")
    @has_access
    def case(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        try:
            reject_types = dictionary.choices("reject_types")  # 字典管理: enabled items, today's words
        except Exception:
            reject_types = []
        events = workflow.available_events(case, g.user)
        blockers = {t.event: guard_problems(case, t) for t in events}
        # Findings the rules let a reviewer acknowledge (an amount above the collateral's value): one
        # button each, before the transition they block.
        acks = {t.event: legal.pending_acknowledgments(case, business, t) for t in events}
        body = self.render_template(
            "review/case.html", case=case, business=business, tx=dc.tx,
            node_label=dc.state_label(business, case.node), events=events,
            parties=dc.parties_table(case, business), materials=dc.materials_table(case, business),
            display=dc.display, upper=dc.money_upper, flow_svg=dc.flowchart(case, business),
            id_type_label=dc.id_type_label, state_label=lambda n: dc.state_label(business, n),
            action_label=lambda a: dc.action_label(business, a), reject_label=dc.reject_label,
            reject_types=reject_types, tax=dc.tax_status(case, business), fees=fee_status(case),
            blockers=blockers, acks=acks, fee_lines=_fee_lines(case),
            fee_flags=[(n, str(fees.FLAGS[n]), bool(fees.flags(case).get(n))) for n in fees.flags_used(business)])
        return make_response(body)

    @expose("/case/<int:case_id>/acknowledge", methods=["POST"])
    @has_access
    def acknowledge(self, case_id):
        """The reviewer acknowledges a check's finding that the rules let go on with an acknowledgment."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        back = url_for(".case", case_id=case.id)
        name = request.form.get("check", "")
        allowed = {c for t in workflow.available_events(case, g.user)
                   for c, _messages in legal.pending_acknowledgments(case, business, t)}
        if name not in allowed or str(case.version) != request.form.get("version", ""):
            flash(_("Nothing to acknowledge here, or the case was changed meanwhile; reload and try again"), "danger")
            return redirect(back)
        legal.acknowledge(case, name, g.user)
        audit.record(db.session, "case_acknowledged", "Case", case.id, summary=f"{case.number}: {name}")
        db.session.commit()
        flash(_("Acknowledged; the case may go on"), "success")
        return redirect(back)

    @expose("/case/<int:case_id>/flag", methods=["POST"])
    @has_access
    def flag(self, case_id):
        """The reviewer marks a fact only the registry can state (a correction caused by its own error),
        on which a fee exemption depends; audited, and only while the case is not finished."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        name, on = request.form.get("flag", ""), request.form.get("value") == "1"
        if name not in fees.flags_used(business) or markers.is_final(business.workflow, case.node):
            flash(_("This mark cannot be changed on this case"), "danger")
            return redirect(url_for(".case", case_id=case.id))
        before = fees.flags(case)
        fees.flag(case, name, on)
        audit.record(db.session, "fee_flag_set" if on else "fee_flag_cleared", "Case", case.id,
                     summary=f"{case.number}: {name}", before=before, after=fees.flags(case))
        db.session.commit()
        flash(_("Saved"), "success")
        return redirect(url_for(".case", case_id=case.id))

    @expose("/case/<int:case_id>/materials/<int:material_id>")
    @has_access
    def material(self, case_id, material_id):
        from flask import send_file

        from app.services import materials
        case = dc.load_case(case_id)
        m = next((m for m in case.materials if m.id == material_id), None)
        if m is None:
            return make_response(_("Material file not found"), 404)
        resp = send_file(materials.file_path(m), mimetype=m.content_type, download_name=m.filename)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    @expose("/case/<int:case_id>/fire", methods=["POST"])
    @has_access
    def fire(self, case_id):
        case = dc.load_case(case_id)
        return fire_event(case, request.form, url_for(".case", case_id=case.id))


def register(appbuilder):
    appbuilder.add_view(ReviewView, "ReviewQueue", label=_l("Review queues"), icon="fa-gavel",
                        category="Review", category_label=_l("Registry review"))
