"""Party confirmation (当事人确认) proves the party, not whoever holds the number the operator typed.

The code goes to the party's phone on record: the register's (Party, by document type and number), an
approved institution's contact phone (by credit code), or the party's own verified account (a public
account registered with that ID number, whose phone was proven by SMS at registration). The number the
operator types on the case is only a contact number, shown to the party in the message they approve.

A confirmation belongs to the number it was proven on: when the operator changes the party's number on
the case, or the number on record changes (register, account, institution), the confirmation resets and
the party must confirm again. Sends are capped per party as well as per phone (verification.py).
"""
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from app import roles
from app.extensions import db
from app.services import verification
from models import Case, CaseParty, Institution, Operator, Party
from models.base import utcnow

PURPOSE = "case_confirm"


def _scalars(stmt):
    # The proof channel is the registry's record, whoever asks: past the institution scope on purpose.
    return db.session.scalars(stmt.execution_options(skip_scope=True))


def phone_on_record(case_party):
    """The party's phone on record, or None."""
    number = (case_party.id_number or "").upper()
    held = next(iter(_scalars(select(Party.phone).where(Party.id_type == case_party.id_type,
                                                          Party.id_number == number))), None)
    if held:
        return held
    inst = next(iter(_scalars(select(Institution.contact_phone).where(Institution.uscc == number,
                                                                      Institution.status == "approved"))), None)
    if inst:
        return inst
    for account in _scalars(select(Operator).where(Operator.id_number == number, Operator.active.is_(True))):
        if account.phone and any(r.name == roles.PUBLIC for r in account.roles):
            return account.phone
    return None


def masked(phone):
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""


def _subject(case, case_party):
    return f"{case.number}:{case_party.id}"


def _record_or_refuse(case_party):
    phone = phone_on_record(case_party)
    if not phone:
        raise verification.CodeError(_(
            "%(name)s has no mobile number on record. The party can register on this platform with their ID "
            "number (their mobile is verified there), or have the registry record their mobile number.",
            name=case_party.name))
    return phone


def send(case, case_party):
    """Send the confirmation code to the phone on record; returns that phone. Raises CodeError."""
    phone = _record_or_refuse(case_party)
    from app.services import declarations
    declaration = declarations.declaration_of(case)
    template = _(
        "Case %(number)s, %(name)s, contact number %(contact)s: to confirm this registration application give "
        "the operator the code %(code)s (valid %(minutes)d minutes). If you did not apply, give it to no one.")
    if declarations.signs(declaration, case_party):   # the code signs the declaration too: say so
        template += _(" Giving the code also signs %(title)s as shown on the case.").replace(
            "%(title)s", "《" + declaration.title.zh.replace("%", "%%") + "》")
    verification.send_code(phone, PURPOSE, subject=_subject(case, case_party), body_template=template,
                           number=case.number, name=case_party.name, contact=masked(case_party.phone) or "-")
    return phone


def confirm(case, case_party, code):
    """Accept the code sent to the phone on record and mark the party confirmed. Raises CodeError."""
    phone = _record_or_refuse(case_party)
    verification.verify_code(phone, PURPOSE, code, subject=_subject(case, case_party))
    case_party.confirmed_at = utcnow()
    case_party.confirmed_phone = phone
    # The same code signs the business's 申明/承诺 when its rules declare one for the party's role.
    from app.services import declarations
    declarations.sign(case, case_party, masked(phone))


def reset(case_party):
    case_party.confirmed_at = None
    case_party.confirmed_phone = None


@event.listens_for(Session, "before_flush")
def _record_phone_changed(session, flush_context, instances):
    """A number on record that changes takes the confirmations proven on the old number with it. (One
    statement past the institution scope: the record's keeper changes it, the cases may be anyone's; the
    change of the number itself is what the audit log holds.)"""
    for obj in list(session.dirty):
        attr = {Party: "phone", Operator: "phone", Institution: "contact_phone"}.get(type(obj))
        if attr is None:
            continue
        history = inspect(obj).attrs[attr].history
        old_phone = history.deleted[0] if history.has_changes() and history.deleted else None
        key = obj.uscc if isinstance(obj, Institution) else obj.id_number
        if not old_phone or not key:
            continue
        session.execute(update(CaseParty).where(
            CaseParty.id_number == key.upper(), CaseParty.confirmed_phone == old_phone,
            CaseParty.case_id.in_(select(Case.id).where(Case.finished_at.is_(None))))
            .values(confirmed_at=None, confirmed_phone=None).execution_options(synchronize_session="fetch"))
