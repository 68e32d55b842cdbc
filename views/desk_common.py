"""Helpers shared by the desk and review views: reading a case with its rules, showing values.

Everything a business differs in is read from its rules (app.rulebook); nothing here names a
business.
"""
from flask import abort, g
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import dictionary, roles, rulebook
from app.rulebook import applicants, legal
from app.extensions import db
from app.rulebook import markers
from app.services import excel
from models import Case, CaseUnit


def lang():
    return str(get_locale() or "zh")[:2]


def tx(text):
    """A rules Text (zh/en) in the current language."""
    if text is None:
        return ""
    if hasattr(text, "get"):
        return text.get(lang()) or text.get("zh") or ""
    return str(text)


def load_case(case_id: int) -> Case:
    """The case with everything the page shows, in a fixed number of queries; 404 when out of scope."""
    case = db.session.scalar(
        select(Case).where(Case.id == case_id).options(
            selectinload(Case.units).joinedload(CaseUnit.unit), selectinload(Case.parties),
            selectinload(Case.materials), selectinload(Case.history)))
    if case is None:
        abort(404)
    return case


def is_draft(case, business) -> bool:
    """The applicant may still edit the case: its state is marked `editable` in the workflow."""
    return markers.is_editable(business.workflow, case.node)


def is_payable(case, business) -> bool:
    return markers.is_payable(business.workflow, case.node)


def state_label(business, node):
    state = business.workflow.states.get(node)
    return tx(state.label) if state else node


def action_label(business, action):
    """A history entry's action as the rules name the transition ("start" is the engine's own)."""
    if action == "start":
        return _("Started")
    for t in business.workflow.transitions:
        if t.event == action:
            return tx(t.label)
    return action


def money_upper(value):
    try:
        from app.services.money import to_chinese_upper
        return to_chinese_upper(value)
    except Exception:  # an unparsable draft value simply has no words
        return ""


def display(field, value):
    """A stored field value as the user reads it."""
    if value in (None, ""):
        return ""
    if field.type == "choice" and field.vocabulary:
        try:
            return rulebook.label(field.vocabulary, str(value)) or value
        except Exception:
            return value
    if field.type == "boolean":
        return _("Yes") if value is True or str(value).lower() in excel.TRUE else _("No")
    return value


def field_rows(fields, data, context=None):
    """The fields as printed: those that apply only (一般抵押 prints no 最高债权额); context holds the
    case's values a per-unit field's condition may name."""
    rows = []
    seen = {**(context or {}), **(data or {})}
    for f in fields:
        if not legal.applies(f, seen):
            continue
        value = (data or {}).get(f.field)
        rows.append({"label": tx(f.label), "value": display(f, value),
                     "upper": money_upper(value) if f.type == "money" and value not in (None, "") else ""})
    return rows


def vocab_options(field):
    """The codes the case's rules allow, in the words of the dictionary (字典管理)."""
    return [(code, dictionary.label(field.vocabulary, code)) for code in (excel.vocab_codes(field) or {})]


def reject_label(code):
    try:
        return rulebook.label("reject_types", code) or code
    except Exception:
        return code


def id_type_label(code):
    try:
        return rulebook.label("id_types", code) or code
    except Exception:
        return code


def materials_table(case, business):
    """The rules' material list with the files uploaded for each."""
    by_key = {}
    for m in case.materials:
        by_key.setdefault(m.material_key, []).append(m)
    return [{"spec": spec, "name": tx(spec.name), "description": tx(spec.description), "required": spec.required,
             "accept": spec.accept, "files": by_key.get(spec.key, [])} for spec in business.materials]


def parties_table(case, business):
    """Each party role of the rules with its parties, in the rules' order."""
    out = []
    for role, spec in business.form.parties.items():
        out.append({"role": role, "spec": spec, "label": tx(spec.label),
                    "parties": [p for p in case.parties if p.role == role]})
    return out


def role_label(business, role):
    spec = business.form.parties.get(role)
    return tx(spec.label) if spec else role


# 权利人 side of the 申请书; every other role (obligor, mortgagor, debtor ...) is on the 义务人 side.
OBLIGEE_ROLES = ("obligee", "mortgagee", "assignee")


def looked_up_number(case, business, unit):
    """(label, number) of the certificate or proof the case's lookup found for the unit (the 不动产权证号
    of a transfer or mortgage, the 证明号 of a conversion), or ("", "") when its lookup has none."""
    from flask import current_app
    from app.rulebook import lookup
    try:
        record = lookup.record_for(business, unit, case.institution_id)
    except Exception:  # a lookup kind without a register record (survey number, case number)
        current_app.logger.debug("no looked-up record for unit %s", unit.id, exc_info=True)
        return "", ""
    number = getattr(record, "certificate_number", None) or getattr(record, "proof_number", None)
    key = next((k for k in business.lookup if k.field in ("certificate_number", "proof_number")), None)
    return (tx(key.label) if key else _("Certificate or proof number")), number or ""


def _unit_summary(case, business, cu):
    label, number = looked_up_number(case, business, cu.unit)
    return {"unit_code": cu.unit.unit_code, "area": cu.unit.area, "location": cu.unit.location,
            "use": rulebook.label("unit_uses", cu.unit.use) if cu.unit.use else "",
            "record_label": label, "record_number": number,
            "group": cu.group_name, "fields": field_rows(business.form.per_unit, cu.data, case.form_data)}


def _registration_type(business):
    try:
        return rulebook.label("registration_types", business.registration_type) or ""
    except Exception:
        return ""


def case_summary(case, business):
    """A plain dict for the printed documents (app/services/pdf.py)."""
    from flask import current_app
    return {
        "number": case.number, "official_number": case.official_number or "", "business_name": tx(business.name),
        "category": business.category, "registration_type": _registration_type(business),
        "authority": current_app.config.get("CERTIFICATE_AUTHORITY", ""),
        "date": (case.submitted_at or case.created_at).date().isoformat(),
        "institution": case.institution.name if case.institution else "",
        "applicant": case.applicant.get_full_name() if case.applicant else "",
        "case_fields": field_rows(business.form.case, case.form_data),
        "parties": [{"role": role_label(business, p.role), "name": p.name, "id_type": id_type_label(p.id_type),
                     "id_number": p.id_number, "share": p.share, "phone": p.phone or "",
                     "side": "obligee" if p.role in OBLIGEE_ROLES else "obligor"} for p in case.parties],
        "units": [_unit_summary(case, business, cu) for cu in case.units],
        "materials": [{"name": row["name"], "required": row["required"],
                       "files": [{"filename": f.filename, "pages": f.pages} for f in row["files"]]}
                      for row in materials_table(case, business)],
    }


def flowchart(case, business):
    """The state graph SVG of the business with the case's path highlighted (app/services/flowchart)."""
    from app.services import flowchart as fc
    try:
        return fc.render(business, case, locale=lang())
    except Exception:  # a drawing problem must not hide the case page
        return None


def current_user_id():
    return g.user.id if g.user and g.user.is_authenticated else None


def tax_status(case, business):
    """The tax check (完税核验) panel of the case pages, or None for a business whose rules do not use it."""
    from app.services import tax
    return tax.summary(case) if tax.applies(business) else None


# ---- what a new case starts with, declared in the business's rules --------------------------------

def default_value(field, today=None):
    """A field's declared default as stored in a draft ("today" is the day the case starts)."""
    import datetime as dt
    value = field.default
    if value is None:
        return None
    if field.type == "date" and value == "today":
        return (today or dt.date.today()).isoformat()
    return value if isinstance(value, bool) else str(value)


def apply_defaults(case, business):
    """Fill what the clerk has not typed with the rules' defaults, and copy the parties of a role
    declared `same_as` another (the debtor is the mortgagor unless the clerk unticks it)."""
    case.form_data = {**{f.field: default_value(f) for f in business.form.case if f.default is not None},
                      **(case.form_data or {})}
    for cu in case.units:
        cu.data = {**{f.field: default_value(f) for f in business.form.per_unit if f.default is not None},
                   **(cu.data or {})}
    for role, spec in business.form.parties.items():
        if spec.same_as and not any(p.role == role for p in case.parties):
            sync_same_as(case, role, spec.same_as)


def same_as_ticked(case, role, source):
    """The tick "same as <source>" shows whether this role's parties are exactly the source's."""
    mine = {p.id_number for p in case.parties if p.role == role}
    return bool(mine) and mine == {p.id_number for p in case.parties if p.role == source}


def sync_same_as(case, role, source):
    """Make the role's parties copies of the source role's (name, ID and phone as on the source)."""
    from models import CaseParty
    wanted = {p.id_number: p for p in case.parties if p.role == source}
    for p in [p for p in case.parties if p.role == role]:
        if p.id_number not in wanted:
            case.parties.remove(p)
    have = {p.id_number: p for p in case.parties if p.role == role}
    for number, src in wanted.items():
        p = have.get(number)
        if p is None:
            case.parties.append(CaseParty(role=role, kind=src.kind, name=src.name, id_type=src.id_type,
                                          id_number=src.id_number, phone=src.phone))
        else:
            p.kind, p.name, p.id_type, p.phone = src.kind, src.name, src.id_type, src.phone


def clear_role(case, role):
    for p in [p for p in case.parties if p.role == role]:
        case.parties.remove(p)


# ---- materials: one drop zone, each file filed under its material by name -----------------------

def material_keywords(spec):
    """The words that file an upload under this material: the rules' keywords, else the words of its name."""
    import re
    if spec.keywords:
        return list(spec.keywords)
    return [w for w in re.split(r"[（）()、，,/\s及和与或]+", spec.name.zh) if len(w) >= 2]


def match_material(business, filename):
    """The material an uploaded file belongs to by its name (the longest keyword found wins), or None
    when no keyword is found or two materials tie."""
    import os
    stem = os.path.splitext(os.path.basename(filename or ""))[0].lower()
    best, best_len, tie = None, 0, False
    for spec in business.materials:
        found = max((len(w) for w in material_keywords(spec) if w.lower() in stem), default=0)
        if found > best_len:
            best, best_len, tie = spec, found, False
        elif found and found == best_len and spec is not best:
            tie = True
    return None if tie else best


def generated_filename(spec):
    return _("%(name)s (generated).pdf", name=tx(spec.name))


def only_when_attrs(field, data, context=None, prefix="", shown=False):
    """data-* attributes of a field's wrapper that apply only under a condition (desk/only_when.js shows
    or hides it as the condition's fields change), with `hidden` when it does not apply now."""
    from markupsafe import Markup, escape
    if not field.only_when:
        return Markup("")
    import json
    seen = {**(context or {}), **(data or {})}
    hidden = "" if shown or legal.applies(field, seen) else " hidden"   # an error is never hidden
    return Markup(f' data-only-when="{escape(json.dumps(field.only_when))}" data-prefix="{escape(prefix)}"{hidden}')


def is_admin():
    return roles.ADMIN in roles.role_names(g.user)


def businesses_by_category():
    """[(category label, [business])] in the rules' order, for the apply menu and the workbench."""
    groups = {}
    for b in rulebook.all_businesses():
        if g.user and g.user.is_authenticated and not (applicants.may_apply(b, g.user) or is_admin()):
            continue
        groups.setdefault(b.category, []).append(b)
    out = []
    for category, items in groups.items():
        try:
            label = rulebook.label("categories", category) or category
        except Exception:
            label = category
        out.append((label, items))
    return out
