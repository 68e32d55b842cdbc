"""Unit checks (can this unit take the business?) and case checks (run on submit), by name."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import validators as v
from app.extensions import db
from models import Case, CaseUnit

from .lookup import record_for
from .registry import case_check, unit_check

PURCHASE_KINDS, MORTGAGE_KINDS = ("1", "2"), ("3", "4")


def _wrap(fn, *args):
    try:
        fn(*args)
    except v.ValidationFailed as exc:
        return str(exc)
    return None


def _current_right(unit):
    return next((r for r in unit.rights if r.status == "current"), None)


@unit_check("not_sealed")
def not_sealed(unit, record, ctx):
    return _wrap(v.unit_not_sealed, unit)


@unit_check("no_objection")
def no_objection(unit, record, ctx):
    return _wrap(v.unit_not_objected, unit)


@unit_check("not_mortgaged")
def not_mortgaged(unit, record, ctx):
    return _wrap(v.unit_not_mortgaged, unit)


@unit_check("has_current_ownership")
def has_current_ownership(unit, record, ctx):
    return None if _current_right(unit) else str(_l("The unit has no current ownership registration"))


@unit_check("no_current_ownership")
def no_current_ownership(unit, record, ctx):
    return str(_l("The unit already has an ownership registration")) if _current_right(unit) else None


@unit_check("has_pre_notice_purchase")
def has_pre_notice_purchase(unit, record, ctx):
    return _wrap(v.unit_has_pre_notice, unit, PURCHASE_KINDS)


@unit_check("no_pre_notice_purchase")
def no_pre_notice_purchase(unit, record, ctx):
    return _wrap(v.unit_has_no_pre_notice, unit, PURCHASE_KINDS)


@unit_check("no_pre_notice_mortgage")
def no_pre_notice_mortgage(unit, record, ctx):
    return _wrap(v.unit_has_no_pre_notice, unit, MORTGAGE_KINDS)


@unit_check("record_present")
def record_present(unit, record, ctx):
    """The looked-up record (mortgage, pre-notice ...) is current and belongs to this unit."""
    if record is None or getattr(record, "status", "current") != "current":
        return str(_l("No current registration matching the keys was found for the unit"))
    return None


@unit_check("record_held_by_applicant")
def record_held_by_applicant(unit, record, ctx):
    """Mortgages and mortgage pre-notices are acted on only by the mortgagee institution itself."""
    if record is None or getattr(record, "institution_id", None) != ctx.get("institution_id"):
        return str(_l("The registration is not held by your institution"))
    return None


@unit_check("identity_on_record")
def identity_on_record(unit, record, ctx):
    """The ID number typed in the lookup belongs to someone on the record (holder, obligee, mortgagee)."""
    if ctx.get("identity") is None:
        return None
    return _wrap(v.obligee_on_record, ctx["identity"], ctx.get("record_parties", []))


# amount_not_above_collateral lives with the other legal constraints (legal.py).


@case_check("rank_not_taken")
def rank_not_taken(case, business):
    out = []
    for cu in case.units:
        rank = cu.data.get("rank")
        if rank in (None, ""):
            continue
        acted_on = record_for(business, cu.unit, case.institution_id)  # a change keeps its own rank
        taken = {m.rank for m in cu.unit.mortgages
                 if m.status == "current" and m.case_id != case.id and m is not acted_on}
        if int(rank) in taken:
            out.append(str(_l("%(unit)s: mortgage rank %(rank)s is already taken", unit=cu.unit.location, rank=rank)))
    return out


@case_check("at_least_one_unit")
def at_least_one_unit(case, business):
    return [] if case.units else [str(_l("The case has no unit"))]


@case_check("shares_sum_to_one")
def shares_sum_to_one(case, business):
    out = []
    by_role = {}
    for p in case.parties:   # a party attached to one unit shares with that unit's parties only
        if p.share is not None:
            by_role.setdefault((p.role, getattr(p, "case_unit_id", None)), []).append(Decimal(p.share))
    for (role, _unit), shares in by_role.items():
        if sum(shares) != Decimal("1"):
            out.append(str(_l("Shares of the %(role)s parties must add up to 1", role=role)))
    return out


@case_check("units_not_in_other_open_case")
def units_not_in_other_open_case(case, business):
    open_nodes = [n for n, s in business.workflow.states.items() if not s.final and s.executor != "applicant"]
    ids = [cu.unit_id for cu in case.units]
    clash = db.session.scalars(select(CaseUnit).join(Case).where(
        CaseUnit.unit_id.in_(ids), Case.id != case.id, Case.business_key == case.business_key,
        Case.node.in_(open_nodes))).all()
    return [str(_l("%(unit)s is already in case %(number)s", unit=c.unit.location, number=c.case.number)) for c in clash]
