"""What a list of cases shows of each case (业务办公's 待办/已办/已驳回, the home page's lists).

The cases are read as plain rows of the columns shown, with their units' 坐落 and their parties in one
query each for the whole page: hydrating each case with its units, their units and its parties as ORM
objects (some 90 objects a page) cost a third of 待办's time. Each row is paired with what it shows that
depends only on its rules version and node, worked out once per (version, node) per request."""
from collections import defaultdict
from functools import lru_cache

from flask import g
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import Integer, bindparam, func, literal_column, null, select, type_coerce, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from app import paging, rulebook, scope
from app.url_memo import row_link
from app.extensions import db
from app.roles import role_names
from app.rulebook import markers
from app.translations_memo import locale_name
from models import Case, CaseParty, CaseUnit, Unit

from . import desk_common as dc

COLUMNS = (Case.id, Case.number, Case.official_number, Case.business_key, Case.rules_version_id, Case.node,
           Case.updated_at, Case.submitted_at, Case.version)
UNITS_SHOWN = 2


@lru_cache(maxsize=None)
def info_of(dialect):
    """The units' 坐落 and the parties of a page's cases (:ids), in ONE statement, built once per database
    kind: rows (case_id, kind "u"/"p", name: the unit's 坐落 or the party's name, role, confirmed_at, seq),
    in each case's order of units, then parties. PostgreSQL takes the ids as one array (= ANY): an
    expanded IN list is 40 parameters a page for SQLAlchemy to render and the driver to send one by one.
    A Core statement on the tables, so the scope layer (app/scope.py) does not confine it again: it
    reads only what hangs off the cases of `ids`, which the page's own confined statement found. Run
    through the ORM, with the scope's criteria on its three tables, it cost more than its rows."""
    def of_page(column):
        if dialect == "postgresql":
            return column == func.any(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))
    cu, u, cp = CaseUnit.__table__.c, Unit.__table__.c, CaseParty.__table__.c
    units = (select(cu.case_id, literal_column("'u'").label("kind"), u.location.label("name"),
                    type_coerce(null(), cp.role.type).label("role"),
                    type_coerce(null(), cp.confirmed_at.type).label("confirmed_at"), cu.id.label("seq"))
             .join(Unit.__table__, u.id == cu.unit_id).where(of_page(cu.case_id)))
    parties = select(cp.case_id, literal_column("'p'"), cp.name, cp.role, cp.confirmed_at, cp.id).where(
        of_page(cp.case_id))
    both = union_all(units, parties)
    return both.order_by(both.selected_columns.case_id, both.selected_columns.kind, both.selected_columns.seq) \
        .execution_options(skip_scope=True)


def fetch(query, params=None):
    """The rows of `query` (a select(Case) with its filter, order and limit), as plain rows."""
    return scope.rows(paging.derived(query, "case rows", lambda q: q.with_only_columns(*COLUMNS)), params)


def fetch_counted(query, count_column, params=None):
    """fetch() with the list's capped count read in the same statement (app/paging.py paginate)."""
    stmt = paging.derived(query, ("case rows", count_column), lambda q: q.with_only_columns(*COLUMNS, count_column))
    rows = scope.rows(stmt, params)
    return rows, rows[0].counted if rows else None


def with_info(rows):
    """[(row, info)]: info holds the row's words (business, node), its first units' 坐落 and the parties
    who must confirm, with their confirmation."""
    if not rows:
        return []
    units, parties = defaultdict(list), defaultdict(list)
    statement = info_of(db.session.get_bind().dialect.name)
    for row in db.session.execute(statement, {"ids": [r.id for r in rows]}).all():  # all at once, not row by row
        if row.kind == "u":
            units[row.case_id].append(row.name)
        else:
            parties[row.case_id].append(row)
    out = []
    show = row_link("DeskCaseView.show", "case_id")
    same_for = {}  # (rules version or business, node) -> per_business_and_node: a page has a few
    for row in rows:
        key = (row.rules_version_id or row.business_key, row.node)
        same = same_for.get(key)
        if same is None:
            same = same_for[key] = per_business_and_node(rulebook.for_case(row), row.node)
        shown = units[row.id]
        out.append((row, {**same, "url": show(row.id), "units": ", ".join(shown[:UNITS_SHOWN]) + ("…" if len(shown) > UNITS_SHOWN else ""),
                          "confirm": [p for p in parties[row.id] if p.role in same["confirm_roles"]]}))
    return out


def per_business_and_node(business, node):
    """What a row shows that depends only on its rules version and node (and the signed-in user)."""
    memo = g.setdefault("_case_rows", {})
    key = (id(business), node)  # the Business objects live at least as long as the request
    if key not in memo:
        words = {"business": dc.tx(business.name), "node": dc.state_label(business, node)}
        memo[key] = {
            **words, "html": {k: escape(v) for k, v in words.items()},  # escaped once, shown on many rows
            "confirm_roles": {role for role, spec in business.form.parties.items() if spec.confirm},
            "reapply": [t for t in markers.reapply_transitions(business.workflow, node)
                        if role_names(g.user) & set(t.roles)],
            "reapply_targets": lambda t: markers.reapply_targets(business.workflow, node, t),
            "state_label": lambda n: dc.state_label(business, n)}
    return memo[key]


def rows_html(which, pairs, shown, results=None, rejections=None):
    """The table rows of 待办 / 已办 / 已驳回, as HTML: worked out here, one string per row, not cell by
    cell in Jinja (each of a page's ~800 template pieces travelled up a chain of generators). Every
    value escaped; each cell carries its column's name (data-label, for the phone layout). shown: the
    columns the user chose (列设置, views/exporting.py); the number is always there."""
    labels = _labels(which)
    pdf = row_link("ProofView.pdf", "cert_id")
    reapply = row_link("DeskOfficeView.reapply", "case_id")
    token = escape(generate_csrf()) if which == "rejected" else ""
    out = []
    for c, i in pairs:
        official = f"<br><small>{escape(c.official_number)}</small>" \
            if c.official_number and "official_number" in shown else ""
        cells = [
            f'<td data-label=""><input type="checkbox" class="print-pick" name="case_id" value="{c.id}" form="batch-print-form"></td>',
            f'<td data-label="{labels["number"]}"><a href="{i["url"]}">{escape(c.number)}</a>{official}</td>']
        if "business" in shown:
            cells.append(f'<td data-label="{labels["business"]}">{i["html"]["business"]}</td>')
        if "property" in shown:
            cells.append(f'<td data-label="{labels["property"]}">{escape(i["units"])}</td>')
        if "node" in shown:
            cells.append(f'<td data-label="{labels["node"]}">{i["html"]["node"]}</td>')
        if "parties" in shown:
            parties = " ".join(f'<span class="{"status-ok" if p.confirmed_at else "status-wait"}">{escape(p.name)}</span>'
                               for p in i["confirm"]) or "—"
            cells.append(f'<td data-label="{labels["parties"]}">{parties}</td>')
        if which == "done":
            links = "".join(f'<a href="{pdf(r.id)}" target="_blank" class="result-pdf">{escape(r.number)}</a><br>'
                            for r in (results or {}).get(c.id, [])) or "—"
            cells.append(f'<td data-label="{labels["results"]}" class="case-results">{links}</td>')
        if "submitted_at" in shown:
            at = c.submitted_at.strftime("%Y-%m-%d %H:%M") if c.submitted_at else ""
            cells.append(f'<td data-label="{labels["submitted"]}">{at}</td>')
        forms = ""
        if which == "rejected":
            r = (rejections or {}).get(c.id)
            last = (f'<div class="rejection"><strong>{escape(dc.reject_label(r.reject_type))}</strong> '
                    f'{escape(r.opinion or "")}<br><small>{escape(r.actor_name)} · {r.at.strftime("%Y-%m-%d %H:%M")}'
                    f'</small></div>') if r else ""
            forms = "".join(_reapply_form(reapply(c.id), token, c.version, t, i) for t in i["reapply"])
            cells.append(f'<td data-label="{labels["last"]}">{last}</td>')
        elif "updated_at" in shown:
            cells.append(f'<td data-label="{labels["last"]}">{c.updated_at.strftime("%Y-%m-%d %H:%M")}</td>')
        cells.append(f'<td data-label="">{forms}</td>')
        out.append(f'<tr class="case-row" data-number="{escape(c.number)}">{"".join(cells)}</tr>')
    return Markup("\n".join(out))


_LABELS = {}


def _labels(which):
    """The column headings (escaped) of a list, made once per (list, language)."""
    key = (which, locale_name())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = _make_labels(which)
    return labels


def _make_labels(which):
    return {k: escape(v) for k, v in {
        "number": _("Number"), "business": _("Business"), "property": _("Property"), "node": _("Current node"),
        "parties": _("Parties confirmed"), "results": _("Certificates / proofs"), "submitted": _("Submitted at"),
        "last": _("Rejection") if which == "rejected" else _("Updated")}.items()}


def header_html(which, shown):
    """The <th> cells of the table rows_html fills, in its order."""
    labels = _labels(which)
    cells = ['<th><input type="checkbox" data-check-all=".print-pick" id="check-all"></th>', f'<th>{labels["number"]}</th>']
    cells += [f"<th>{labels[k]}</th>" for k in ("business", "property", "node", "parties") if k in shown]
    if which == "done":
        cells.append(f'<th>{labels["results"]}</th>')
    if "submitted_at" in shown:
        cells.append(f'<th>{labels["submitted"]}</th>')
    if which == "rejected" or "updated_at" in shown:
        cells.append(f'<th>{labels["last"]}</th>')
    cells.append("<th></th>")
    return Markup("".join(cells))


def _reapply_form(action, token, version, transition, info):
    targets = info["reapply_targets"](transition)
    if len(targets) > 1:
        options = "".join(f'<option value="{escape(n)}">{escape(info["state_label"](n))}</option>' for n in targets)
        target = f'<select name="target" class="form-control input-sm">{options}</select>'
    else:
        target = f'<input type="hidden" name="target" value="{escape(targets[0])}">'
    return (f'<form method="post" action="{action}" class="form-inline">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            f'<input type="hidden" name="event" value="{escape(transition.event)}">'
            f'<input type="hidden" name="version" value="{version}">{target}'
            f'<button class="btn btn-xs btn-primary">{escape(dc.tx(transition.label))}</button></form>')
