"""What a list of cases shows of each case (业务办公's 待办/已办/已驳回, the home page's lists).

The cases are read as plain rows of the columns shown, with their units' 坐落 and their parties in one
query each for the whole page: hydrating each case with its units, their units and its parties as ORM
objects (some 90 objects a page) cost a third of 待办's time. Each row is paired with what it shows that
depends only on its rules version and node, worked out once per (version, node) per request."""
from collections import defaultdict

from flask import g
from sqlalchemy import select

from app import rulebook
from app.url_memo import row_link
from app.extensions import db
from app.rulebook import markers
from models import Case, CaseParty, CaseUnit, Unit

from . import desk_common as dc

COLUMNS = (Case.id, Case.number, Case.official_number, Case.business_key, Case.rules_version_id, Case.node,
           Case.updated_at, Case.submitted_at, Case.version)
UNITS_SHOWN = 2


def fetch(query):
    """The rows of `query` (a select(Case) with its filter, order and limit), as plain rows."""
    return db.session.execute(query.with_only_columns(*COLUMNS)).all()


def with_info(rows):
    """[(row, info)]: info holds the row's words (business, node), its first units' 坐落 and the parties
    who must confirm, with their confirmation."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    units = defaultdict(list)
    for case_id, location in db.session.execute(
            select(CaseUnit.case_id, Unit.location).join(Unit, Unit.id == CaseUnit.unit_id)
            .where(CaseUnit.case_id.in_(ids)).order_by(CaseUnit.case_id, CaseUnit.id)):
        units[case_id].append(location)
    parties = defaultdict(list)
    for party in db.session.execute(select(CaseParty.case_id, CaseParty.role, CaseParty.name, CaseParty.confirmed_at)
                                    .where(CaseParty.case_id.in_(ids)).order_by(CaseParty.case_id, CaseParty.id)):
        parties[party.case_id].append(party)
    out = []
    show = row_link("DeskCaseView.show", "case_id")
    for row in rows:
        same = per_business_and_node(rulebook.for_case(row), row.node)
        shown = units[row.id]
        out.append((row, {**same, "url": show(row.id), "units": ", ".join(shown[:UNITS_SHOWN]) + ("…" if len(shown) > UNITS_SHOWN else ""),
                          "confirm": [p for p in parties[row.id] if p.role in same["confirm_roles"]]}))
    return out


def per_business_and_node(business, node):
    """What a row shows that depends only on its rules version and node (and the signed-in user)."""
    memo = g.setdefault("_case_rows", {})
    key = (id(business), node)  # the Business objects live at least as long as the request
    if key not in memo:
        memo[key] = {
            "business": dc.tx(business.name), "node": dc.state_label(business, node),
            "confirm_roles": {role for role, spec in business.form.parties.items() if spec.confirm},
            "reapply": [t for t in markers.reapply_transitions(business.workflow, node)
                        if {r.name for r in g.user.roles} & set(t.roles)],
            "reapply_targets": lambda t: markers.reapply_targets(business.workflow, node, t),
            "state_label": lambda n: dc.state_label(business, n)}
    return memo[key]
