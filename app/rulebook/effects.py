"""Register effects of a transition, by name: what recording (登簿) and issuing (发证) change.

Each runs inside the engine's transaction. The record an effect creates or changes is noted in
CaseUnit.data["_record"] so that a later transition (issue) finds it.
"""
import datetime as dt
import secrets
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.services import numbering, workdays
from models import Certificate, Institution, Mortgage, MortgageParty, Party, PreNotice, PreNoticeParty, Right, RightHolder
from models.base import utcnow

from . import legal
from .lookup import record_for
from .registry import Option, WorkflowError, effect


def _dec(value):
    return Decimal(str(value)) if value not in (None, "") else None


def _date(value):
    return dt.date.fromisoformat(str(value)[:10]) if value not in (None, "") else None


def _party(cp):
    """The register's Party for a case party (created on first registration)."""
    # One number, one party: the number is written by its type's rule, so the type need not match too.
    row = db.session.scalar(select(Party).where(Party.id_number == cp.id_number))
    if row is None:
        row = Party(kind=cp.kind, name=cp.name, id_type=cp.id_type, id_number=cp.id_number, phone=cp.phone)
        db.session.add(row)
        db.session.flush()
    return row


def _roles(case, role):
    return [p for p in case.parties if p.role == role]


def _note(cu, record):
    cu.data = {**(cu.data or {}), "_record": {"type": type(record).__name__, "id": record.id}}


def _noted(cu):
    ref = (cu.data or {}).get("_record")
    if not ref:
        return None
    model = {"Mortgage": Mortgage, "PreNotice": PreNotice, "Right": Right}[ref["type"]]
    return db.session.get(model, ref["id"])


def _next_rank(unit):
    taken = {m.rank for m in unit.mortgages if m.status == "current"}
    return next(r for r in range(1, len(taken) + 2) if r not in taken)


def _mortgage_values(data):
    out = {}
    for attr, conv in (("kind", str), ("secured_amount", _dec), ("maximum_amount", _dec), ("collateral_value", _dec),
                       ("term_start", _date), ("term_end", _date), ("scope", str)):
        key = {"kind": "mortgage_kind", "scope": "guarantee_scope"}.get(attr, attr)
        if data.get(key) not in (None, ""):
            out[attr] = conv(data[key])
    if "transfer_restricted" in data:
        out["transfer_restricted"] = str(data["transfer_restricted"]).lower() in ("true", "1")
    return out


def _new_mortgage(case, business, cu):
    inst = case.institution
    # The contract's terms (asked once per case for a 在建 mortgage) with the unit's own; only the amount
    # of the mortgage's kind (一般: 被担保主债权数额, 最高额: 最高债权额) is recorded.
    values = _mortgage_values(legal.effective(business, case, cu))
    rank = int(cu.data["rank"]) if (cu.data or {}).get("rank") not in (None, "") else _next_rank(cu.unit)
    m = Mortgage(unit_id=cu.unit_id, institution_id=inst.id, mortgagee_name=inst.name, rank=rank,
                 proof_number=numbering.proof_number(), case_id=case.id, **values)
    for role in ("mortgagor", "debtor"):
        for cp in legal.parties_of_unit(case, cu, role):
            m.parties.append(MortgageParty(party_id=_party(cp).id, role=role))
    db.session.add(m)
    cu.unit.mortgaged = True
    db.session.flush()
    _note(cu, m)
    return m


@effect("create_mortgage", roles=("mortgagor",), stage="record")
def create_mortgage(case, business, user):
    for cu in case.units:
        _new_mortgage(case, business, cu)


def _current_mortgage(case, business, cu):
    m = record_for(business, cu.unit, case.institution_id)
    if m is None:
        raise WorkflowError([f"{cu.unit.location}: no current mortgage of the applicant to act on"])
    return m


def _amend(case, business, new_proof):
    for cu in case.units:
        m = _current_mortgage(case, business, cu)
        for attr, value in _mortgage_values(cu.data or {}).items():
            setattr(m, attr, value)
        if (cu.data or {}).get("rank") not in (None, ""):
            m.rank = int(cu.data["rank"])
        if new_proof:  # a change registration is evidenced by a new proof (不动产登记证明)
            m.proof_number = numbering.proof_number()
        _note(cu, m)


@effect("change_mortgage", stage="record")
def change_mortgage(case, business, user):
    _amend(case, business, new_proof=True)


@effect("correct_mortgage", stage="record")
def correct_mortgage(case, business, user):
    _amend(case, business, new_proof=True)


@effect("transfer_mortgage", roles=("assignee",), stage="record")
def transfer_mortgage(case, business, user):
    """The secured claim was assigned: the assignee (party role 'assignee') becomes the mortgagee."""
    assignee = (_roles(case, "assignee") or [None])[0]
    for cu in case.units:
        m = _current_mortgage(case, business, cu)
        if assignee is not None:
            inst = db.session.scalar(select(Institution).where(Institution.uscc == assignee.id_number))
            m.mortgagee_name = assignee.name
            m.institution_id = inst.id if inst else None
        m.proof_number = numbering.proof_number()
        _note(cu, m)


@effect("cancel_mortgage", stage="record")
def cancel_mortgage(case, business, user):
    for cu in case.units:
        m = _current_mortgage(case, business, cu)
        m.status, m.cancelled_at = "cancelled", utcnow()
        cu.unit.mortgaged = any(o.status == "current" and o.id != m.id for o in cu.unit.mortgages)
        _note(cu, m)


@effect("create_pre_notice", stage="record", options={
    "pre_notice_kind": Option("code", "1", "pre_notice_kinds"), "amount_field": Option("field", "amount"),
    "obligee_role": Option("role", "obligee"), "obligor_role": Option("role", "obligor")})
def create_pre_notice(case, business, user):
    """Kind (TD/T 1066 预告登记种类) and the parties' roles come from the rules' effect_options."""
    opts = business.effect_options
    kind = opts.get("pre_notice_kind", "1")
    for cu in case.units:
        p = PreNotice(unit_id=cu.unit_id, kind=kind, proof_number=numbering.proof_number(), case_id=case.id,
                      institution_id=case.institution_id if kind in ("3", "4") else None,
                      amount=_dec((cu.data or {}).get(opts.get("amount_field", "amount"))))
        for role in ("obligee", "obligor"):   # a batch's buyers each on their own unit only
            for cp in legal.parties_of_unit(case, cu, opts.get(f"{role}_role", role)):
                p.parties.append(PreNoticeParty(party_id=_party(cp).id, role=role))
        db.session.add(p)
        cu.unit.pre_noticed = True
        db.session.flush()
        _note(cu, p)


def _close_pre_notice(case, business, cu, status):
    p = record_for(business, cu.unit, case.institution_id)
    if p is None:
        raise WorkflowError([f"{cu.unit.location}: no current pre-notice to act on"])
    p.status = status
    cu.unit.pre_noticed = any(o.status == "current" and o.id != p.id for o in cu.unit.pre_notices)
    return p


@effect("cancel_pre_notice", stage="record")
def cancel_pre_notice(case, business, user):
    for cu in case.units:
        _note(cu, _close_pre_notice(case, business, cu, "cancelled"))


@effect("convert_pre_notice", roles=("mortgagor",), stage="record")
def convert_pre_notice(case, business, user):
    """预抵押转现: the mortgage pre-notice becomes a mortgage with the same terms unless the form changes them."""
    for cu in case.units:
        p = _close_pre_notice(case, business, cu, "converted")
        if not (cu.data or {}).get("secured_amount") and p.amount is not None:
            cu.data = {**(cu.data or {}), "secured_amount": str(p.amount)}
        _new_mortgage(case, business, cu)


HOLDER = {"holder_role": Option("role", "obligee")}   # who becomes the holder of the new right


def _holders(case, business, cu):
    role = business.effect_options.get("holder_role", "obligee")
    people = legal.parties_of_unit(case, cu, role)
    if not people:
        raise WorkflowError([f"no party with role '{role}' to register as holder"])
    return people


def _new_right(case, business, cu):
    people = _holders(case, business, cu)
    right = Right(unit_id=cu.unit_id, certificate_number=numbering.certificate_number(), case_id=case.id,
                  share_mode="0" if len(people) == 1 else "2")
    even = (Decimal(1) / len(people)).quantize(Decimal("0.0001"))
    for i, cp in enumerate(people):
        share = cp.share or (Decimal(1) - even * (len(people) - 1) if i == 0 else even)
        right.holders.append(RightHolder(party_id=_party(cp).id, share=share))
    db.session.add(right)
    db.session.flush()
    _note(cu, right)
    return right


@effect("create_ownership", options=HOLDER, stage="record")
def create_ownership(case, business, user):
    for cu in case.units:
        _new_right(case, business, cu)


@effect("transfer_ownership", options=HOLDER, stage="record")
def transfer_ownership(case, business, user):
    for cu in case.units:
        for r in cu.unit.rights:
            if r.status == "current":
                r.status = "historical"
        for p in cu.unit.pre_notices:  # a purchase pre-notice is fulfilled by the transfer
            if p.status == "current" and p.kind in ("1", "2"):
                p.status = "converted"
        cu.unit.pre_noticed = any(p.status == "current" for p in cu.unit.pre_notices)
        _new_right(case, business, cu)


def _issue(case, kind):
    for cu in case.units:
        record = _noted(cu)
        if record is None:
            continue
        number = record.certificate_number if kind == "certificate" else record.proof_number
        if db.session.scalar(select(Certificate.id).where(Certificate.number == number)):
            continue  # issued already (a re-issue is its own business)
        holders = [h.party.name for h in getattr(record, "holders", [])] or \
                  [getattr(record, "mortgagee_name", None) or case.institution.name]
        db.session.add(Certificate(number=number, kind=kind, token=secrets.token_urlsafe(24), unit_id=cu.unit_id,
                                   case_id=case.id, institution_id=case.institution_id,
                                   holder_names="、".join(holders)[:400],
                                   content={"business_key": case.business_key, "location": cu.unit.location,
                                            "unit_code": cu.unit.unit_code, "record": cu.data.get("_record")}))


@effect("issue_certificate", stage="issue")
def issue_certificate(case, business, user):
    _issue(case, "certificate")


@effect("issue_proof", stage="issue")
def issue_proof(case, business, user):
    _issue(case, "proof")


@effect("assign_case_number")
def assign_case_number(case, business, user):
    """受理: the registry's case number, the acceptance time (rank time) and the statutory deadline."""
    if not case.official_number:
        case.official_number = numbering.official_case_number()
    case.accepted_at = utcnow()
    # None (待核定) when the count runs into a year the holiday calendar does not cover yet.
    case.deadline = workdays.deadline(dt.date.today(), business.time_limit.working_days)


@effect("finish")
def finish(case, business, user):
    case.finished_at = utcnow()
