"""Finding the units a business acts on from the keys its rules name (lookup_record + lookup).

Each record kind says which key fields it needs; the loader checks a rules file names exactly
those. A candidate unit carries the record it was found through and the reasons it cannot be used.
"""
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app import validators
from app.extensions import db
from models import Building, Case, Institution, Mortgage, PreNotice, Right, Unit

from .language import current_locale
from .registry import RECORDS, UNIT_CHECKS, register_wide

ValidationFailed = validators.ValidationFailed


@dataclass
class Candidate:
    unit: Any
    record: Optional[Any]
    ok: bool
    reasons: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


@dataclass
class RecordKind:
    fields: tuple          # the lookup key fields, in the order number, identity
    find: Any              # fn(number) -> list of (unit, record)
    for_unit: Any          # fn(unit, institution_id) -> record or None (used when a case starts)
    parties: Any           # fn(record, unit) -> the parties the identity key must be among
    model: Any = None      # the record's model, whose columns a rules file may `prefill` from (None: no record)


def _norm(value):
    return (value or "").strip().upper()


def _current_right(unit):
    return next((r for r in unit.rights if r.status == "current"), None)


class _Org:
    """An institution seen as a party of a record (mortgagee, developer)."""
    def __init__(self, institution):
        self.id_number = institution.uscc if institution else ""
        self.name = institution.name if institution else ""


def _ownership_find(number):
    rights = db.session.scalars(select(Right).where(Right.certificate_number == number, Right.status == "current"))
    return [(r.unit, r) for r in rights]


RECORDS["ownership"] = RecordKind(
    ("certificate_number", "holder_id_number"), _ownership_find,
    lambda unit, inst: _current_right(unit),
    lambda rec, unit: [h.party for h in rec.holders] if rec else [], Right)


def _mortgage_find(number):
    rows = db.session.scalars(select(Mortgage).where(Mortgage.proof_number == number, Mortgage.status == "current"))
    return [(m.unit, m) for m in rows]


def _mortgage_for_unit(unit, inst):
    return next((m for m in unit.mortgages if m.status == "current" and m.institution_id == inst), None)


RECORDS["mortgage"] = RecordKind(
    ("proof_number", "mortgagee_id_number"), _mortgage_find, _mortgage_for_unit,
    lambda rec, unit: [_Org(rec.institution)] if rec else [], Mortgage)


def _pre_notice_kind(kinds, holder_role, by_institution):
    def find(number):
        rows = db.session.scalars(select(PreNotice).where(
            PreNotice.proof_number == number, PreNotice.status == "current", PreNotice.kind.in_(kinds)))
        return [(p.unit, p) for p in rows]

    def for_unit(unit, inst):
        return next((p for p in unit.pre_notices if p.status == "current" and p.kind in kinds
                     and (not by_institution or p.institution_id == inst)), None)

    def parties(rec, unit):
        if rec is None:
            return []
        people = [pp.party for pp in rec.parties if pp.role == holder_role]
        return people + ([_Org(rec.institution)] if by_institution and rec.institution else [])

    return find, for_unit, parties


RECORDS["pre_notice_mortgage"] = RecordKind(("proof_number", "mortgagee_id_number"),
                                            *_pre_notice_kind(("3", "4"), "obligee", True), PreNotice)
RECORDS["pre_notice_purchase"] = RecordKind(("proof_number", "obligee_id_number"),
                                            *_pre_notice_kind(("1", "2"), "obligee", False), PreNotice)


def _survey_find(number):
    building = db.session.scalar(select(Building).where(Building.survey_number == number))
    if building is not None:
        units = db.session.scalars(select(Unit).where(Unit.building_id == building.id).order_by(Unit.floor, Unit.room))
        return [(u, None) for u in units]
    return [(u, None) for u in db.session.scalars(select(Unit).where(Unit.survey_number == number))]


def _developer(unit):
    inst = db.session.get(Institution, unit.building.developer_id) if unit.building.developer_id else None
    return [_Org(inst)] if inst else []


RECORDS["building_survey"] = RecordKind(("survey_number", "obligor_id_number"), _survey_find,
                                        lambda unit, inst: None, lambda rec, unit: _developer(unit))


def _first_case_find(number):
    case = db.session.scalar(select(Case).where(or_(Case.number == number, Case.official_number == number)))
    if case is None:
        return []
    return [(cu.unit, _current_right(cu.unit)) for cu in case.units]


RECORDS["first_registration_case"] = RecordKind(
    ("case_number", "holder_id_number"), _first_case_find, lambda unit, inst: _current_right(unit),
    lambda rec, unit: [h.party for h in rec.holders] if rec else [], Right)


def clean_keys(business, keys):
    """Run each key through its named validator; the first bad key raises ValidationFailed."""
    out = {}
    for key in business.lookup:
        raw = (keys or {}).get(key.field)
        if raw in (None, ""):
            raise ValidationFailed(_l("Please enter %(label)s", label=key.label.get(current_locale())))
        if key.validator:
            try:
                raw = validators.REGISTRY[key.validator](raw)
            except ValidationFailed as exc:
                raise ValidationFailed(f"{key.label.get(current_locale())}: {exc}") from None
        out[key.field] = raw.strip() if isinstance(raw, str) else raw
    return out


def evaluate(business, unit, record, institution_id, identity=None):
    """Run the business's unit checks on one unit: (ok, critical reasons, warnings)."""
    kind = RECORDS[business.lookup_record]
    ctx = {"institution_id": institution_id, "identity": identity,
           "record_parties": kind.parties(record, unit)}
    reasons, warnings = [], []
    for chk in business.unit_checks:
        message = UNIT_CHECKS[chk.check](unit, record, ctx)
        if message:
            (reasons if chk.severity == "critical" else warnings).append(message)
    return not reasons, reasons, warnings


@register_wide
def find_units(business, keys, institution_id=None):
    """Candidates for the keys typed on the lookup form (validated first)."""
    keys = clean_keys(business, keys)
    kind = RECORDS[business.lookup_record]
    number_field, identity_field = kind.fields
    identity = _norm(keys[identity_field])
    out = []
    for unit, record in kind.find(keys[number_field]):
        if not _second_fact_holds(kind, unit, record, identity, institution_id):
            continue
        ok, reasons, warnings = evaluate(business, unit, record, institution_id, identity)
        out.append(Candidate(unit, record, ok, reasons + warnings if not ok else reasons, warnings))
    return out


def _second_fact_holds(kind, unit, record, identity, institution_id):
    """A number alone reveals nothing (the search is register-wide): the identity typed must be on the
    record. When it is an institution's credit code, which anyone can know, the record must also be
    held by the searching institution (a mortgage or mortgage pre-notice is found by its mortgagee only)."""
    matches = [p for p in kind.parties(record, unit) if _norm(p.id_number) == identity]
    if not matches:
        return False
    owner = getattr(record, "institution_id", None)
    if institution_id is not None and owner is not None and all(isinstance(p, _Org) for p in matches):
        return owner == institution_id
    return True


def record_for(business, unit, institution_id):
    return RECORDS[business.lookup_record].for_unit(unit, institution_id)
