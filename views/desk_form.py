"""Saving the one case form of the desk (desk/case.html) as a whole: basic information, units, the
parties' rows, the new-party row and the same-as ticks, in one commit under the optimistic lock; and
what the system adds by itself at 提交 (the generated application form, the confirmation codes).

Routes live in desk_case.py; this module holds no route.
"""
from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app import jobs, rulebook
from app.extensions import db
from app.services import excel, materials, party_confirmation, pdf, verification
from app.validators import REGISTRY, ValidationFailed, id_number_of_type, party_id
from models import Case, CaseParty

from . import desk_common as dc

PENDING_PARTY = "_pending_party"   # form_data key: a new-party row typed but not complete yet


class Saved:
    """What save_all kept: field errors and typed values (shown again), the new-party row's state."""

    def __init__(self):
        self.errors, self.typed, self.party_errors, self.party_typed = {}, {}, {}, {}
        self.party_added = False


PARTY_KEYS = ("role", "kind", "name", "id_type", "id_number", "phone", "share", "party_id", "case_unit_id")


def save_all(case, business, form, commit_party=True):
    """Save every section the posted page holds into the draft, and commit; None when the page was stale.

    Only what the page posted is touched (a batch page shows a slice of the units; a test may post one
    section). Wrong values are kept as typed, with their errors: 提交 checks everything again. The
    new-party row becomes a party when it is complete and commit_party (an explicit action); otherwise it
    is kept in the draft as typed, so that an autosave never creates half a party."""
    saved = Saved()
    present = {f.field: form.get(f"case__{f.field}") for f in business.form.case if f"case__{f.field}" in form}
    if present:
        values, bad = excel.validate_values(business.form.case, {**_as_raw(case.form_data, business.form.case),
                                                                  **present})
        saved.errors.update({f"case__{k}": v for k, v in bad.items() if k in present})
        saved.typed.update({f"case__{k}": v for k, v in present.items()})
        case.form_data = {**(case.form_data or {}), **{k: values[k] for k in present}}
    for cu in case.units:
        posted = {f.field: form.get(f"unit__{cu.id}__{f.field}") for f in business.form.per_unit
                  if f"unit__{cu.id}__{f.field}" in form}
        if posted:
            values, bad = excel.validate_values(business.form.per_unit,
                                                {**_as_raw(cu.data, business.form.per_unit), **posted})
            saved.errors.update({f"unit__{cu.id}__{k}": v for k, v in bad.items() if k in posted})
            saved.typed.update({f"unit__{cu.id}__{k}": v for k, v in posted.items()})
            cu.data = {**(cu.data or {}), **{k: values[k] for k in posted}}
        if f"group__{cu.id}" in form:
            cu.group_name = form.get(f"group__{cu.id}") or None
    _save_party_rows(case, business, form, saved)
    for role, spec in business.form.parties.items():
        if spec.same_as and f"same__{role}__shown" in form:
            if f"same__{role}" in form:
                dc.sync_same_as(case, role, spec.same_as)
            elif dc.same_as_ticked(case, role, spec.same_as):
                dc.clear_role(case, role)   # unticked: the copies go, the clerk enters the real party
    _save_new_party(case, business, form, saved, commit_party)
    if not _commit(expected=form.get("version"), case=case, touch=True):
        return None
    return saved


def _as_raw(data, fields):
    """Stored values as a form would post them, so a partial post is validated with the rest."""
    out = {}
    for f in fields:
        v = (data or {}).get(f.field)
        out[f.field] = "" if v is None else ("true" if v is True else "false" if v is False else str(v))
    return out


def _save_party_rows(case, business, form, saved):
    """The inline rows of the parties already on the case: name, ID, phone and share as typed."""
    for p in list(case.parties):
        if f"party__{p.id}__name" not in form:
            continue
        spec = business.form.parties.get(p.role)
        typed = {k: (form.get(f"party__{p.id}__{k}", getattr(p, k) if k != "share" else
                              ("" if p.share is None else str(p.share))) or "").strip()
                 for k in ("name", "id_number", "phone", "share")}
        errors = _party_errors(spec, {**typed, "role": p.role, "kind": p.kind, "id_type": p.id_type}) if spec else {}
        for k, v in errors.items():
            saved.party_errors[f"party__{p.id}__{k}"] = v
            saved.party_typed[f"party__{p.id}__{k}"] = typed.get(k, "")
        if typed["name"]:
            p.name = typed["name"]
        number = _normalised(p.id_type, typed["id_number"])
        if number and number != p.id_number and not any(
                o is not p and o.role == p.role and o.id_number == number for o in case.parties):
            p.id_number = number
            party_confirmation.reset(p)   # a confirmation belongs to the person it was sent to
        if (typed["phone"] or None) != p.phone:   # kept even when wrong (its error says so); no code goes to it
            p.phone = typed["phone"][:20] or None
            party_confirmation.reset(p)
        if "share" not in errors:
            p.share = typed["share"] or None


def _save_new_party(case, business, form, saved, commit_party):
    if "role" not in form:
        return
    typed = {k: (form.get(k) or "").strip() for k in PARTY_KEYS}
    data = dict(case.form_data or {})
    if not (typed["name"] or typed["id_number"] or typed["phone"]):
        if data.pop(PENDING_PARTY, None) is not None:
            case.form_data = data
        return
    spec = business.form.parties.get(typed["role"])
    errors = _party_errors(spec, typed)
    party = None
    if typed["party_id"]:
        party = next((p for p in case.parties if str(p.id) == typed["party_id"]), None)
    elif spec and spec.max is not None and len([p for p in case.parties if p.role == typed["role"]]) >= spec.max:
        errors["name"] = _("At most %(n)d party(ies) in this role", n=spec.max)
    unit_id = _party_unit(case, business, spec, typed, errors)
    number = _normalised(typed["id_type"], typed["id_number"])
    if not errors and any(p.role == typed["role"] and p.id_number == number and p is not party
                          for p in case.parties):
        errors["id_number"] = _("This person is already a party in this role")
    if errors or not commit_party:
        # Kept as typed in the draft: a reload or another action shows it again.
        case.form_data = {**data, PENDING_PARTY: typed}
        if commit_party:
            saved.party_errors.update(errors)
            saved.party_typed.update(typed)
        return
    if party is None:
        party = CaseParty(case=case, role=typed["role"])
        case.parties.append(party)
    if party.id_number != number or party.phone != (typed["phone"] or None):
        party_confirmation.reset(party)  # a confirmation belongs to the person and number it was sent to
    party.kind = typed["kind"] or "person"
    party.name = typed["name"]
    party.id_type = typed["id_type"] or "1"
    party.id_number = number
    party.phone = typed["phone"] or None
    party.share = typed["share"] or None
    party.case_unit_id = unit_id
    data.pop(PENDING_PARTY, None)
    case.form_data = data
    saved.party_added = True


def _party_unit(case, business, spec, typed, errors):
    """The case unit a new party belongs to (rules: a per_unit role of a batch), or None for every unit."""
    if not typed.get("case_unit_id"):
        return None
    unit = next((cu for cu in case.units if str(cu.id) == typed["case_unit_id"]), None)
    if unit is None or spec is None or not (spec.per_unit and business.batch):
        errors["case_unit_id"] = _("Choose one of the case's units")
        return None
    return unit.id


def attach_generated(case, business):
    """The materials the system makes (the application form, 申请书) attached from the case as it is now:
    a previous generated file is replaced; a file the clerk uploaded (a signed scan) is left alone."""
    for spec in business.materials:
        if not spec.generated:
            continue
        name = dc.generated_filename(spec)
        files = [m for m in case.materials if m.material_key == spec.key]
        if any(m.filename != name for m in files):
            continue
        for m in files:
            materials.remove(case, m, editable=True)
        data = pdf.case_documents([dc.case_summary(case, business)], documents=("application",))
        materials.add(case, spec, name, data, dc.current_user_id(), editable=True)


def send_confirmation(case, party):
    """The code to the party's phone on record (app/services/party_confirmation.py); returns that phone.
    Raises verification.CodeError (no number on record, send caps, the gateway refused)."""
    return party_confirmation.send(case, party)


def unconfirmed(case, business):
    """The parties the rules ask to confirm who have not yet."""
    return [p for p in case.parties if (spec := business.form.parties.get(p.role)) is not None and spec.confirm
            and p.confirmed_at is None]


def send_all_confirmations(case, business, each=None):
    """A code to every party the rules ask to confirm who has not yet: (sent, the refusals as messages).
    each(i) is called after the i-th party (the background job commits and reports progress there)."""
    sent, refused = 0, []
    for i, p in enumerate(unconfirmed(case, business), start=1):
        try:
            send_confirmation(case, p)
            sent += 1
        except verification.CodeError as exc:
            refused.append(str(exc))
        if each:
            each(i)
    return sent, refused


@jobs.register("send_confirmations", _l("Confirmation codes by SMS"))
def send_confirmations_job(job, params):
    """The confirmation codes of many parties (at 提交), sent by a job so that a slow SMS gateway does not hold
    the request. The codes are made here, never stored in the job's params. Each message is committed
    once sent (a code that reached a phone must keep working); the refusals fail the job with their reasons."""
    case = db.session.get(Case, params.get("case_id"))
    if case is None:
        raise jobs.JobFailed(_("The case was not found"))
    business = rulebook.for_case(case)
    total = len(unconfirmed(case, business))
    job.progress(0, total)

    def each(i):
        db.session.commit()
        job.progress(i, total)
    sent, refused = send_all_confirmations(case, business, each=each)
    if refused:
        raise jobs.JobFailed("\n".join([_("Confirmation codes were sent to %(n)d party(ies)", n=sent)]
                                        + list(dict.fromkeys(refused))))
    return None


def _commit(case, expected=None, touch=False):
    """Commit with the optimistic lock: a stale page or concurrent edit is refused, not merged."""
    try:
        if expected and str(case.version) != str(expected):
            raise StaleDataError()
        if touch:
            from models.base import utcnow
            case.updated_at = utcnow()  # bumps the version so two tabs cannot both act on the old state
        db.session.commit()
        return True
    except StaleDataError:
        db.session.rollback()
        flash(_("The case was changed meanwhile; nothing was saved. Please reload and try again."), "danger")
        return False


def _normalised(id_type, number):
    """The number as its type writes it (USA 531234567, D2143569-X); as typed, upper-cased, when it is wrong."""
    try:
        return id_number_of_type(id_type or "1", number)
    except ValidationFailed:
        return (number or "").strip().upper()


def _party_errors(spec, typed):
    errors = {}
    if spec is None:
        errors["role"] = _("Choose a party role")
        return errors
    if not typed["name"]:
        errors["name"] = _("This field is required")
    try:
        party_id(typed.get("kind") or "person", typed.get("id_type") or "1", typed["id_number"],
                 allowed=spec.accepted_id_types(), label=dc.id_type_label)
    except ValidationFailed as exc:
        errors["id_number"] = str(exc)
    if typed["phone"] or spec.confirm:
        try:
            REGISTRY["mobile"](typed["phone"])
        except ValidationFailed as exc:
            errors["phone"] = str(exc)
    if typed["share"]:
        try:
            from decimal import Decimal
            share = Decimal(typed["share"])
            if not 0 < share <= 1:
                raise ValueError
        except Exception:
            errors["share"] = _("Share must be a number greater than 0 and at most 1")
    return errors
