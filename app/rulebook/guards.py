"""Guards: what must hold before a transition fires. Each returns a list of Problem (empty = passes).

Problem.field names where to fix it: "<field>" for case fields, "<unit_id>:<field>" for per-unit
fields, "material:<key>", "party:<role>".
"""
import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app import validators
from app.services import tax

from . import fees, legal
from .language import current_locale
from .registry import CASE_CHECKS, Need, Problem, guard


def _loc():
    return current_locale()


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _as_date(value):
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def check_value(field, value, vocab_codes):
    """Type and named-validator check of one filled-in value; returns a message or None."""
    try:
        if field.type == "money":
            validators.money(value)
        elif field.type == "date":
            validators.date_value(value)
        elif field.type == "integer":
            int(str(value))
        elif field.type == "boolean" and not isinstance(value, bool) and str(value).lower() not in ("true", "false", "1", "0"):
            return str(_l("must be yes or no"))
        elif field.type == "choice" and str(value) not in vocab_codes(field.vocabulary):
            return str(_l("is not one of the allowed choices"))
        elif field.type == "id_number":
            validators.id_number(value)
        if field.validator:
            validators.REGISTRY[field.validator](value)
    except validators.ValidationFailed as exc:
        return str(exc)
    except (ValueError, InvalidOperation):
        return str(_l("has the wrong format"))
    return None


def check_fields(fields, data, vocabularies, prefix="", context=None):
    """Problems of the filled-in values; choices are checked against the vocabularies the case's
    rules version pinned (Business.vocabularies), not today's file. context: the values of the case
    form, which a per-unit field's conditions may name."""
    def codes(name):
        return {item.code for item in vocabularies.get(name, [])}

    out = []
    seen = {**(context or {}), **data}
    for f in fields:
        value = data.get(f.field)
        label = f.label.get(_loc())
        needed = f.required or (f.required_when and all(str(seen.get(k)) == str(v) for k, v in f.required_when.items()))
        if _blank(value):
            if needed and legal.applies(f, seen):
                out.append(Problem("critical", str(_l("%(label)s is required", label=prefix + label)), f.field))
            continue
        message = check_value(f, value, codes) or legal.field_problem(f, seen, fields, vocabularies=vocabularies)
        if message:
            out.append(Problem("critical", f"{prefix}{label}: {message}", f.field))
            continue
        if f.after and not _blank(data.get(f.after)):
            try:
                validators.date_range(_as_date(data[f.after]), _as_date(value))
            except validators.ValidationFailed as exc:
                out.append(Problem("critical", f"{prefix}{label}: {exc}", f.field))
            except ValueError:
                pass  # the other field reports its own format problem
    return out


@guard("form_complete")
def form_complete(case, business, transition):
    out = check_fields(business.form.case, case.form_data or {}, business.vocabularies)
    for cu in case.units:
        out += check_fields(business.form.per_unit, cu.data or {}, business.vocabularies,
                            prefix=f"{cu.unit.location} ", context=case.form_data or {})
    return out


def _ext(filename):
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


@guard("materials_complete")
def materials_complete(case, business, transition):
    out = []
    known = {m.key for m in business.materials}
    for spec in business.materials:
        files = [m for m in case.materials if m.material_key == spec.key]
        name = spec.name.get(_loc())
        if spec.required and not files:
            out.append(Problem("critical", str(_l("Required material missing: %(name)s", name=name)), f"material:{spec.key}"))
        if len(files) > spec.max_files:
            out.append(Problem("critical", str(_l("%(name)s: at most %(n)s files", name=name, n=spec.max_files)), f"material:{spec.key}"))
        for m in files:
            if _ext(m.filename) not in spec.accept:
                out.append(Problem("critical", str(_l("%(name)s: file %(file)s is not of an accepted type (%(types)s)",
                                                     name=name, file=m.filename, types=", ".join(spec.accept))),
                                   f"material:{spec.key}"))
    for m in case.materials:
        if m.material_key not in known:
            out.append(Problem("critical", str(_l("File %(file)s is filed under an unknown material", file=m.filename)),
                               f"material:{m.material_key}"))
    return out


def _id_type_label(vocabularies):
    """Names of ID types in messages, from the case's pinned code list."""
    names = {item.code: item.name.get(_loc()) for item in vocabularies.get("id_types", [])}
    return lambda code: names.get(str(code), str(code))


@guard("parties_complete")
def parties_complete(case, business, transition):
    out = []
    id_type_label = _id_type_label(business.vocabularies)
    for role, spec in business.form.parties.items():
        people = [p for p in case.parties if p.role == role]
        label = spec.label.get(_loc())
        if spec.per_unit and business.batch:   # each unit needs its own (or the case's shared) parties
            for cu in case.units:
                if len(legal.parties_of_unit(case, cu, role)) < spec.min:
                    out.append(Problem("critical", str(_l("%(unit)s: at least %(n)s %(label)s needed",
                                                          unit=cu.unit.location, n=spec.min, label=label)),
                                       f"party:{role}"))
        elif len(people) < spec.min:
            out.append(Problem("critical", str(_l("At least %(n)s %(label)s needed", n=spec.min, label=label)), f"party:{role}"))
        if spec.max is not None and len(people) > spec.max:
            out.append(Problem("critical", str(_l("At most %(n)s %(label)s allowed", n=spec.max, label=label)), f"party:{role}"))
        for p in people:
            try:
                validators.party_id(p.kind, p.id_type, p.id_number, allowed=spec.accepted_id_types(),
                                    label=id_type_label)
            except validators.ValidationFailed as exc:
                out.append(Problem("critical", f"{label} {p.name}: {exc}", f"party:{role}"))
    return out


@guard("parties_confirmed")
def parties_confirmed(case, business, transition):
    out = []
    for role, spec in business.form.parties.items():
        if not spec.confirm:
            continue
        for p in case.parties:
            if p.role == role and p.confirmed_at is None:
                out.append(Problem("critical", str(_l("%(label)s %(name)s has not confirmed the application",
                                                      label=spec.label.get(_loc()), name=p.name)), f"party:{role}"))
    return out


def fees_due(case, business):
    """Fee lines as the standard counts them (app/rulebook/fees.py) and their total."""
    return fees.breakdown(case, business, _loc())


@guard("fees_paid")
def fees_paid(case, business, transition):
    _lines, total = fees_due(case, business)
    paid = sum((p.amount for p in getattr(case, "payments", []) if p.status == "paid"), Decimal("0.00"))
    if paid < total:
        return [Problem("critical", str(_l("Fees of %(total)s yuan are not paid yet", total=total)), "fees")]
    return []


@guard("case_checks")
def case_checks(case, business, transition):
    out = []
    for chk in business.case_checks:
        severity, messages = legal.with_acknowledgment(chk, case, transition, CASE_CHECKS[chk.check](case, business))
        out += [Problem(severity, message) for message in messages]
    return out


@guard("has_units")
def has_units(case, business, transition):
    return [] if case.units else [Problem("critical", str(_l("The case has no unit")), "units")]


def _tax_needs(ctx):
    """The tax table names the per-unit price field and the buyers' role the check reads."""
    table = ctx.tax
    if table is None:
        return []
    return [Need("field", table.price_field, "tax/deed_tax.yaml price_field"),
            Need("role", table.buyer_role, "tax/deed_tax.yaml buyer_role")]


@guard("tax_cleared", needs=_tax_needs)
def tax_cleared(case, business, transition):
    """完税核验: the deed tax of every unit is paid at the tax bureau (app/services/tax.py)."""
    return [Problem("critical", str(_l("Recording is refused until the tax is cleared: %(unit)s: %(why)s",
                                      unit=cu.unit.location, why=why)), "tax")
            for cu, why in tax.problems(case, business.tax)]
