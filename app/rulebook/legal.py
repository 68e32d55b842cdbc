"""The register's legal constraints, as named checks and field rules that the business files switch on.

Rules files say which constraint applies to which business and field (rules/*.yaml: a unit or case
check by name, a field's `only_when`, `earliest`, `years_ahead`, `max_years_after`, `basis`, a
check's `acknowledge`); this module says what each one means. Every refusal names the regulation it
comes from, in the words of the catalogue (translations/legal).
"""
import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app.roles import REVIEWER
from models.base import utcnow

from .language import current_locale
from .registry import CASE_CHECKS, case_check, effect, unit_check

PURCHASE_KINDS = ("1", "2")
ACKNOWLEDGED = "_acknowledged"    # case.form_data key: {check name: {"by": name, "at": iso time}}

ART75 = _l("Implementing Rules of the Interim Regulations on Real Estate Registration, art. 75")
GUARANTEE_LAW_35 = _l("former Guarantee Law of the PRC, art. 35")


def _loc():
    return current_locale()


def _label(vocabularies, name, code):
    """The word for a code in the given vocabularies (the case's pinned ones, or today's for an import)."""
    for item in (vocabularies or {}).get(name, []):
        if item.code == str(code):
            return _text(item.name)
    return "" if code is None else str(code)


def _text(text):
    return text.get(_loc()) if text is not None else ""


# ---- 细则 art. 75: what a mortgage on a building under construction may not take -----------------

def article75_reason(unit):
    """Why the unit cannot be in a 在建建筑物抵押 (a pre-noticed purchase, a filed pre-sale contract), or None."""
    if any(p.status == "current" and p.kind in PURCHASE_KINDS for p in unit.pre_notices):
        return str(_l("The unit carries a purchase pre-notice and cannot be mortgaged with the building under "
                      "construction (%(law)s)", law=ART75))
    if unit.presale_filed:
        return str(_l("The unit's pre-sale contract is filed and it cannot be mortgaged with the building under "
                      "construction (%(law)s)", law=ART75))
    return None


@unit_check("article75_excluded")
def article75_unit(unit, record, ctx):
    return article75_reason(unit)


@case_check("article75_excluded")
def article75_case(case, business):
    """The same at 提交: a unit may have been pre-noticed or filed since it was ticked."""
    return [f"{cu.unit.location}: {why}" for cu in case.units if (why := article75_reason(cu.unit))]


# ---- fields that apply under a condition (一般抵押 / 最高额抵押), date ranges -----------------------

def applies(field, data):
    """Whether a field belongs to the form given the other values (its `only_when`)."""
    only_when = getattr(field, "only_when", None)
    return not only_when or all(str((data or {}).get(k) or "") == str(v) for k, v in only_when.items())


def _condition_words(field, fields):
    """The labels of the fields the condition names ('抵押方式')."""
    parts = []
    for key, _wanted in field.only_when.items():
        other = next((f for f in fields if f.field == key), None)
        parts.append(_text(other.label) if other else key)
    return "、".join(parts)


def _basis(field):
    basis = getattr(field, "basis", None)
    return f"（{_text(basis)}）" if basis is not None else ""


def _as_date(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip()[:10])


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:   # 29 February
        return day.replace(year=day.year + years, day=28)


def field_problem(field, data, fields, today=None, vocabularies=None):
    """The legal constraint a filled-in field breaks, as a message, or None (blank values pass: `required`
    speaks for them). data holds the record's values, fields the record's field list (case or unit)."""
    value = (data or {}).get(field.field)
    if value in (None, ""):
        return None
    if not applies(field, data):
        other = next((f for f in fields if f.field in field.only_when), None)
        shown = ""
        if other is not None:
            shown = _label(vocabularies, other.vocabulary, (data or {}).get(other.field)) if other.vocabulary \
                else str((data or {}).get(other.field) or "")
        return str(_l("not filled in when %(condition)s is %(value)s%(basis)s",
                      condition=_condition_words(field, fields), value=shown or "—", basis=_basis(field)))
    if getattr(field, "type", None) != "date" or not any(
            getattr(field, k, None) is not None for k in ("earliest", "years_ahead", "max_years_after")):
        return None
    try:
        day = _as_date(value)
    except ValueError:
        return None   # the format check speaks for it
    today = today or dt.date.today()
    earliest = _as_date(field.earliest) if field.earliest else None
    latest = _add_years(today, field.years_ahead) if field.years_ahead is not None else None
    if (earliest and day < earliest) or (latest and day > latest):
        return str(_l("must be between %(earliest)s and %(latest)s", earliest=earliest.isoformat() if earliest else "—", latest=latest.isoformat() if latest else "—"))
    if field.max_years_after is not None and field.after and data.get(field.after) not in (None, ""):
        try:
            start = _as_date(data[field.after])
        except ValueError:
            return None
        if day > _add_years(start, field.max_years_after):
            other = next((f for f in fields if f.field == field.after), None)
            return str(_l("must be at most %(years)s years after %(other)s%(basis)s", years=field.max_years_after,
                          other=_text(other.label) if other else field.after, basis=_basis(field)))
    return None


def effective(business, case, cu):
    """The values a register record takes for one unit: the case's (per contract) and the unit's own,
    without the fields that do not apply (the amount of the other mortgage kind)."""
    data = {**(case.form_data or {}), **(cu.data or {})}
    for f in list(business.form.case) + list(business.form.per_unit):
        if not applies(f, data):
            data.pop(f.field, None)
    return {k: v for k, v in data.items() if not k.startswith("_") or k == "_record"}


# ---- the secured amount and the collateral value ------------------------------------------------

def _money(value):
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (ArithmeticError, InvalidOperation):
        return None


def _amount(data):
    return _money(data.get("secured_amount")) if applies_kind(data, "1") else _money(data.get("maximum_amount"))


def applies_kind(data, kind):
    return str(data.get("mortgage_kind") or "1") == kind


@case_check("amount_not_above_collateral")
def amount_not_above_collateral(case, business):
    """The secured amount (or, for 最高额, the maximum amount) within the collateral's value. An amount asked
    once per contract (a case field) is held against the value of all the units together."""
    out = []
    case_fields = {f.field for f in business.form.case}
    if {"secured_amount", "maximum_amount"} & case_fields:
        data = case.form_data or {}
        amount = _amount(data) or _money(data.get("secured_amount"))
        values = [_money((cu.data or {}).get("collateral_value")) for cu in case.units]
        value = _money(data.get("collateral_value")) or (sum(values) if values and None not in values else None)
        if amount is not None and value is not None and amount > value:
            out.append(str(_l("The secured amount (%(amount)s yuan) is above the collateral value (%(value)s yuan) "
                              "(%(law)s)", amount=amount, value=value, law=GUARANTEE_LAW_35)))
        return out
    for cu in case.units:
        data = {**(case.form_data or {}), **(cu.data or {})}
        amount = _amount(data) if "mortgage_kind" in data else (
            _money(data.get("secured_amount")) or _money(data.get("maximum_amount")))
        value = _money(data.get("collateral_value"))
        if amount is not None and value is not None and amount > value:
            out.append(f"{cu.unit.location}: " + str(_l(
                "The secured amount (%(amount)s yuan) is above the collateral value (%(value)s yuan) (%(law)s)",
                amount=amount, value=value, law=GUARANTEE_LAW_35)))
    return out


# ---- a reviewer's acknowledgment of a check the rules let pass with one ---------------------------

def acknowledged(case, check_name):
    return check_name in ((case.form_data or {}).get(ACKNOWLEDGED) or {})


def acknowledge(case, check_name, user):
    """Note that a reviewer has seen the check's finding and lets the case go on (audited by the caller)."""
    data = dict(case.form_data or {})
    done = dict(data.get(ACKNOWLEDGED) or {})
    done[check_name] = {"by": user.get_full_name(), "at": utcnow().isoformat(timespec="seconds")}
    data[ACKNOWLEDGED] = done
    case.form_data = data


def pending_acknowledgments(case, business, transition):
    """[(check name, messages)] the reviewer may acknowledge before this transition."""
    out = []
    for chk in business.case_checks:
        if chk.acknowledge and chk.acknowledge in transition.roles and not acknowledged(case, chk.check):
            messages = CASE_CHECKS[chk.check](case, business)
            if messages:
                out.append((chk.check, messages))
    return out


def with_acknowledgment(chk, case, transition, messages):
    """The severity and words of a check's findings when the rules let a role acknowledge them: none once
    acknowledged; a warning for the applicant (the reviewer decides); blocking for the role until it has."""
    if not chk.acknowledge or not messages:
        return chk.severity, messages
    if acknowledged(case, chk.check):
        return chk.severity, []
    who = str(_l("a registry reviewer")) if chk.acknowledge == REVIEWER else chk.acknowledge
    words = [str(_l("%(message)s; it may go on only when %(who)s acknowledges it", message=m, who=who))
             for m in messages]
    return ("critical" if chk.acknowledge in transition.roles else "warning"), words


# ---- the buyer of a pre-sale unit (Beihai flows) ------------------------------------------------

def pre_notice_buyers(unit):
    """The buyers of a unit: the obligees of its current purchase pre-notice or, once that is fulfilled
    (转本登记), of the latest fulfilled one; never the developer who sold it. None known: the clerk enters them."""
    notices = [p for p in unit.pre_notices if p.kind in PURCHASE_KINDS and p.status in ("current", "converted")]
    notices.sort(key=lambda p: (p.status == "current", p.id or 0))
    return [pp.party for pp in notices[-1].parties if pp.role == "obligee"] if notices else []


@effect("close_purchase_pre_notice")
def close_purchase_pre_notice(case, business, user):
    """The purchase pre-notice has served its end (预告登记转本登记): its buyer now holds the unit or the
    mortgage is on the buyer's own title; it is no longer current."""
    for cu in case.units:
        for p in cu.unit.pre_notices:
            if p.status == "current" and p.kind in PURCHASE_KINDS:
                p.status = "converted"
        cu.unit.pre_noticed = any(p.status == "current" for p in cu.unit.pre_notices)


def parties_of_unit(case, cu, role):
    """A role's parties for one unit: those attached to it and those of the whole case."""
    return [p for p in case.parties if p.role == role and getattr(p, "case_unit_id", None) in (None, cu.id)]
