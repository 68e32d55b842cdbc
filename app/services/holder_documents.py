"""我的证照: the certificates and proofs of a real-name public user, and their downloads.

A public account is real-name when it carries the ID number checked at registration (views/accounts.py,
app/validators.id_card; one account per number); a register party is the user when its ID number and
its name both match the account's. A certificate belongs to the
user when they are one of its right's holders (权利人); a proof when they are a party of the mortgage or
pre-notice it evidences, or of the case that issued it. Institution accounts never reach this list (their
documents are the institution's, app/scope.py). Every download is audited."""

from sqlalchemy import and_, or_, select, union

from app import audit
from app.extensions import db
from models import (CaseParty, Certificate, Mortgage, MortgageParty, Party, PreNotice, PreNoticeParty, Right,
                    RightHolder)


def real_name_id(user):
    """The verified ID number of a signed-in public user, or None (institution and staff accounts too)."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "institution_id", None):
        return None
    return (getattr(user, "id_number", None) or "").strip().upper() or None


def is_party(user, party_model):
    """A register party is the user when both the ID number and the name (as registered) match."""
    id_number = real_name_id(user)
    if id_number is None:
        return None
    return and_(party_model.id_number == id_number, party_model.name == user.get_full_name())


def _owned_clause(user):
    """The certificates and proofs the user holds or is a party of."""
    me = is_party(user, Party)
    holder = select(Right.certificate_number).join(RightHolder, RightHolder.right_id == Right.id) \
        .join(Party, Party.id == RightHolder.party_id).where(me)
    proofs = union(
        select(Mortgage.proof_number).join(MortgageParty, MortgageParty.mortgage_id == Mortgage.id)
        .join(Party, Party.id == MortgageParty.party_id).where(me),
        select(PreNotice.proof_number).join(PreNoticeParty, PreNoticeParty.pre_notice_id == PreNotice.id)
        .join(Party, Party.id == PreNoticeParty.party_id).where(me))
    case_of_party = select(CaseParty.case_id).where(is_party(user, CaseParty))
    return or_(and_(Certificate.kind == "certificate", Certificate.number.in_(holder)),
               and_(Certificate.kind == "proof", or_(Certificate.number.in_(proofs),
                                                     Certificate.case_id.in_(case_of_party))))


def documents_of(user) -> list:
    if real_name_id(user) is None:
        return []
    return db.session.scalars(select(Certificate).where(_owned_clause(user))
                              .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
                              .execution_options(skip_scope=True).limit(200)).all()


def owned(user, cert_id):
    """The user's own certificate or proof with that id, or None (someone else's is not revealed)."""
    if real_name_id(user) is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.id == cert_id, _owned_clause(user))
                             .execution_options(skip_scope=True))


def audit_download(document, fmt):
    """One audit entry per download of a certificate, proof or archive proof (who, when, which, which format).
    The row is named by its id only: a download through a token link may be another institution's document,
    and the downloader's own audit list must not show its number."""
    audit.record(db.session, "download_certificate", type(document).__name__, document.id, summary=fmt)
    db.session.commit()
