"""The workflow engine: one engine runs every business type from its rules.

A transition checks the actor's role, the guards, records a history entry and applies the named
effects in ONE transaction. Case.version is SQLAlchemy's version column, so a concurrent change
or a double submit makes the UPDATE match no row and nothing is written.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app import audit, rulebook, roles as role_names
from app.extensions import db
from app.services import numbering
from models import Case, CaseHistory, CaseParty, CaseUnit, Institution, Unit
from models.base import utcnow

from . import applicants, legal, registry
from .guards import fees_due  # noqa: F401  (re-exported for the desk and payment views)
from .language import current_locale
from .lookup import evaluate, record_for
from .registry import Problem, WorkflowError, register_wide

__all__ = ["WorkflowError", "Problem", "start_case", "available_events", "check", "fire", "resume", "fees_due"]


def _role_names(user):
    return role_names.role_names(user)


def _same_institution(case, user):
    """Institution users act only on their own institution's cases (registry staff have none)."""
    roles = _role_names(user)
    if roles & role_names.INSTITUTION_ROLES and not roles & {role_names.ADMIN, role_names.REVIEWER}:
        return getattr(user, "institution_id", None) == case.institution_id
    return True


def _party_rows(business, units, user, institution):
    """Prefill the case's parties from the units' records, as each PartySpec.source says."""
    rows, seen = [], set()

    def add(role, kind, name, id_type, id_number, phone=None, share=None):
        if (role, id_number) in seen or not id_number:
            return
        seen.add((role, id_number))
        rows.append(CaseParty(role=role, kind=kind, name=name, id_type=id_type, id_number=id_number,
                              phone=phone, share=share))

    def add_party(role, p, share=None):
        add(role, p.kind, p.name, p.id_type, p.id_number, p.phone, share)

    for role, spec in business.form.parties.items():
        if spec.source == "applicant_institution":
            add(role, "organisation", institution.name, "8", institution.uscc, institution.contact_phone)
        for unit, record in units:
            if spec.source == "unit_holders":
                right = next((r for r in unit.rights if r.status == "current"), None)
                if right is not None:
                    for h in right.holders:
                        add_party(role, h.party, h.share if len(right.holders) > 1 else None)
                else:  # a pre-sale unit: the buyer on the purchase pre-notice is the holder-to-be
                    for pn in unit.pre_notices:
                        if pn.status == "current" and pn.kind in ("1", "2"):
                            for pp in pn.parties:
                                if pp.role == "obligee":
                                    add_party(role, pp.party)
            elif spec.source in ("unit_mortgagors", "unit_debtors", "unit_obligees", "unit_obligors") and record is not None:
                wanted = {"unit_mortgagors": ("mortgagor", "obligor"), "unit_debtors": ("debtor",),
                          "unit_obligees": ("obligee",), "unit_obligors": ("obligor",)}[spec.source]
                for rp in getattr(record, "parties", []):
                    if rp.role in wanted:
                        add_party(role, rp.party)
            elif spec.source == "pre_notice_buyers":   # the buyer, never the developer who sold
                for party in legal.pre_notice_buyers(unit):
                    add_party(role, party)
                    if spec.per_unit and business.batch and rows and rows[-1].id_number == party.id_number:
                        rows[-1].unit_id_hint = unit.id   # each unit's buyer on that unit (start_case links it)
            elif spec.source == "building_developer" and unit.building.developer_id:
                dev = db.session.get(Institution, unit.building.developer_id)
                add(role, "organisation", dev.name, "8", dev.uscc, dev.contact_phone)
    return rows


def _prefill(business, record):
    data = {}
    for f in business.form.per_unit:
        if f.prefill and record is not None and getattr(record, f.prefill, None) is not None:
            value = getattr(record, f.prefill)
            data[f.field] = value.isoformat() if hasattr(value, "isoformat") else (
                value if isinstance(value, bool) else str(value))
    return data


@register_wide
def start_case(business_key, user, unit_ids, group_name=None) -> Case:
    """Open a draft case for the units (each re-checked against the business's unit checks)."""
    business = rulebook.get(business_key)
    refused = applicants.refusal(business, user)
    if refused is not None:
        raise WorkflowError([refused])
    if not getattr(user, "institution_id", None):
        raise WorkflowError([_l("Only an institution's operator can apply")])
    unit_ids = list(dict.fromkeys(unit_ids or []))
    if not unit_ids:
        raise WorkflowError([_l("Choose at least one unit")])
    if len(unit_ids) > 1 and not business.batch:
        raise WorkflowError([_l("This business takes one unit per case")])
    units, problems = [], []
    for uid in unit_ids:
        unit = db.session.get(Unit, uid)
        if unit is None:
            problems.append(_l("Unit %(id)s does not exist", id=uid))
            continue
        record = record_for(business, unit, user.institution_id)
        ok, reasons, _warnings = evaluate(business, unit, record, user.institution_id)
        if not ok:
            problems += [f"{unit.location}: {r}" for r in reasons]
        units.append((unit, record))
    if problems:
        raise WorkflowError(problems)
    institution = user.institution
    initial = business.workflow.initial
    case = Case(number=numbering.case_number(), business_key=business.key, rules_version_id=business.version_id,
                institution_id=user.institution_id, applicant_id=user.id, executor_id=user.id, node=initial,
                form_data={})
    for unit, record in units:
        case.units.append(CaseUnit(unit_id=unit.id, group_name=group_name, data=_prefill(business, record)))
    by_unit = {cu.unit_id: cu for cu in case.units}
    for row in _party_rows(business, units, user, institution):
        if getattr(row, "unit_id_hint", None) is not None:
            row.case_unit = by_unit[row.unit_id_hint]
        case.parties.append(row)
    case.history.append(CaseHistory(node_from=None, node_to=initial, action="start", actor_id=user.id,
                                    actor_name=_actor_name(user)))
    db.session.add(case)
    db.session.flush()
    audit.record(db.session, "case_started", "Case", case.id, summary=f"{case.number} {business.key}")
    db.session.commit()
    return case


def _actor_name(user):
    # The history keeps the name as it was when the person acted (names can change later).
    return user.get_full_name()


def _may_fire(case, transition, user):
    return bool(_role_names(user) & set(transition.roles)) and _same_institution(case, user)


@register_wide
def available_events(case, user) -> list:
    """Transitions this user may fire on the case now (the UI shows these as buttons)."""
    business = rulebook.for_case(case)
    return [t for t in business.workflow.transitions if case.node in t.from_ and _may_fire(case, t, user)]


def _transition(business, case, event):
    t = business.workflow.transition(event, case.node)
    if t is None:
        state = business.workflow.states.get(case.node)
        raise WorkflowError([_l("'%(event)s' is not possible while the case is at '%(node)s'", event=event,
                                node=state.label.get(current_locale()) if state else case.node)])
    return t


@register_wide
def check(case, event, target=None) -> list:
    """Every guard of the transition (and of its target), without firing: a complete checklist."""
    business = rulebook.for_case(case)
    t = _transition(business, case, event)
    problems = []
    for name in list(dict.fromkeys(t.guards + t.target_guards.get(target or t.to[0], []))):
        problems += registry.GUARDS[name](case, business, t)
    return problems


@register_wide
def fire(case, event, user, *, opinion=None, reject_type=None, target=None, expected_version=None) -> Case:
    business = rulebook.for_case(case)
    if expected_version is not None and int(expected_version) != case.version:
        raise WorkflowError([_l("The case was changed by someone else (or submitted twice); reload it and try again")])
    t = _transition(business, case, event)
    if not _may_fire(case, t, user):
        raise WorkflowError([_l("You may not do '%(event)s' on this case", event=t.label.get(current_locale()))])
    problems = []
    if t.requires_opinion and not (opinion or "").strip():
        problems.append(_l("An opinion is required"))
    if t.requires_reject_type and reject_type not in {v.code for v in business.vocabularies.get("reject_types", [])}:
        problems.append(_l("Choose a rejection type"))
    to = target or t.to[0]
    if to not in t.to:
        problems.append(_l("The case cannot go to '%(node)s' from here", node=to))
    if problems:
        raise WorkflowError(problems)
    blocking = [p for p in check(case, event, to) if p.severity == "critical"]
    effects = t.effects
    if blocking and t.wait is not None and not _blocking(case, business, t, to, skip=t.wait.guards):
        # Only the guards the rules let it wait for block: the case waits (e.g. 待确认) and resume()
        # completes the transition, effects included, once they pass.
        to, effects = t.wait.state, []
    elif blocking:
        raise WorkflowError(blocking)
    node_from = case.node
    try:
        _move(case, business, node_from, to)
        case.history.append(CaseHistory(node_from=node_from, node_to=to, action=event, actor_id=user.id,
                                        actor_name=_actor_name(user), opinion=opinion, reject_type=reject_type))
        for name in effects:
            registry.EFFECTS[name](case, business, user)
        audit.record(db.session, f"case_{event}", "Case", case.id, summary=f"{case.number}: {node_from} -> {to}")
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise WorkflowError([_l("The case was changed by someone else (or submitted twice); reload it and try again")]) from None
    except WorkflowError:
        db.session.rollback()
        raise
    except Exception:
        db.session.rollback()
        raise
    return case


def _blocking(case, business, t, to, skip=()):
    names = [n for n in dict.fromkeys(t.guards + t.target_guards.get(to, [])) if n not in skip]
    return [p for n in names for p in registry.GUARDS[n](case, business, t) if p.severity == "critical"]


@register_wide
def resume(case) -> bool:
    """Complete the transition a waiting case (a transition's `wait` state) waits for, when every guard
    now passes: called after whatever may unblock it (a party confirming). True when it moved."""
    business = rulebook.for_case(case)
    t = business.workflow.waiting_in(case.node)
    if t is None or _blocking(case, business, t, t.to[0]):
        return False
    node_from, to = case.node, t.to[0]
    try:
        _move(case, business, node_from, to)
        case.history.append(CaseHistory(node_from=node_from, node_to=to, action=t.event, actor_id=None,
                                        actor_name=str(_l("System"))))
        for name in t.effects:
            registry.EFFECTS[name](case, business, None)
        audit.record(db.session, f"case_{t.event}", "Case", case.id, summary=f"{case.number}: {node_from} -> {to}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return True


def _move(case, business, node_from, to):
    state = business.workflow.states[to]
    case.node = to
    if state.final:
        case.executor_id, case.executor_role = None, None
        case.finished_at = case.finished_at or utcnow()
    elif state.executor == "applicant":
        case.executor_id, case.executor_role = case.applicant_id, None
    else:
        case.executor_id, case.executor_role = None, state.executor
    was_applicant = business.workflow.states[node_from].executor == "applicant"
    if was_applicant and not state.final and state.executor != "applicant":
        case.submitted_at = utcnow()
