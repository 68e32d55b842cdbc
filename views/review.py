"""The registry's back office (预审/受理/审核/登簿): queues of cases waiting for a reviewer, by node,
and a case page where the reviewer fires the transitions the rules allow (with opinion and reject
type where the rules require them).
"""
from flask import g, make_response, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import rulebook
from app.extensions import db
from models import Case, CaseUnit

from . import desk_common as dc
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


class ReviewView(BaseView):
    route_base = "/review"
    default_view = "queue"

    @expose("/")
    @has_access
    def queue(self):
        nodes = reviewer_nodes()
        node = request.args.get("node") or (nodes[0][0] if nodes else "")
        page = max(0, request.args.get("page", 0, type=int))
        q = select(Case).where(Case.executor_role == REVIEWER_ROLE, Case.node == node)
        total = db.session.scalar(select(func.count()).select_from(q.subquery()))
        cases = db.session.scalars(q.options(selectinload(Case.units).joinedload(CaseUnit.unit))
                                   .order_by(Case.submitted_at, Case.id)
                                   .limit(PAGE_SIZE).offset(page * PAGE_SIZE)).unique().all()
        counts = dict(db.session.execute(select(Case.node, func.count()).where(
            Case.executor_role == REVIEWER_ROLE).group_by(Case.node)).all())
        return self.render_template("review/queue.html", nodes=nodes, node=node, cases=cases, total=total,
                                    page=page, pages=max(1, -(-total // PAGE_SIZE)), counts=counts,
                                    business_of=rulebook.for_case, tx=dc.tx)

    @expose("/case/<int:case_id>/")
    @has_access
    def case(self, case_id):
        from app.services import workflow
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        try:
            reject_types = [(i.code, dc.tx(i.name)) for i in rulebook.vocabulary("reject_types")]
        except Exception:
            reject_types = []
        body = self.render_template(
            "review/case.html", case=case, business=business, tx=dc.tx,
            node_label=dc.state_label(business, case.node), events=workflow.available_events(case, g.user),
            parties=dc.parties_table(case, business), materials=dc.materials_table(case, business),
            display=dc.display, upper=dc.money_upper, flow_svg=dc.flowchart(case, business),
            id_type_label=dc.id_type_label, state_label=lambda n: dc.state_label(business, n),
            action_label=lambda a: dc.action_label(business, a), reject_label=dc.reject_label,
            reject_types=reject_types, tax=dc.tax_status(case, business))
        return make_response(body)

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
