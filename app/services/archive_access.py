"""查档 with authority: who may read a unit's register entries, and the record every query leaves.

- A holder queries their own property from a real-name account (matched by the ID number checked at
  registration, app/services/holder_documents.real_name_id).
- An institution queries with the holder's written authorization (an uploaded PDF or scan, content
  checked like every upload, app/services/materials.check_upload) and states a purpose.
- Courts and other authorities come to the registry; staff enter the requester, the document number
  (e.g. 协助查询通知书 number) and the legal basis on the registry-side form.
Anything else is refused. Each accepted query writes an ArchiveQuery (requester, purpose, basis) next
to the archive proof it produced, the proof states the basis, and the holder can list who queried.
"""
import datetime as dt
import hashlib
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import audit, validators
from app.extensions import db
from app.services import files, materials, numbering
from app.services.certificates import register_snapshot
from app.services.holder_documents import is_party, real_name_id
from models import ArchiveProof, ArchiveQuery, Party, Right, RightHolder

AUTHORIZATION_ACCEPT = ("pdf", "jpg", "jpeg", "png")
PURPOSE_MIN, PURPOSE_MAX = 2, 200


class Refused(validators.ValidationFailed):
    """A query without authority; str() is the user-facing message."""


def _text(value, label, low=PURPOSE_MIN, high=PURPOSE_MAX):
    value = " ".join((value or "").split())
    if len(value) < low:
        raise Refused(_("Please enter the %(what)s", what=label))
    if len(value) > high:
        raise Refused(_("The %(what)s may be at most %(n)d characters", what=label, n=high))
    return value


def _current_right(certificate_number, holder=None):
    """The current right with that number; with `holder` (a condition on Party), only if such a party holds it."""
    number = validators.certificate_number(certificate_number)
    q = select(Right).where(Right.certificate_number == number, Right.status == "current")
    if holder is not None:
        q = q.join(RightHolder, RightHolder.right_id == Right.id).join(Party, Party.id == RightHolder.party_id) \
            .where(holder)
    return db.session.scalar(q.execution_options(skip_scope=True))


def _issue(right, *, kind, requester, user, purpose, basis, document_number=None, authorization_file=None):
    """The archive proof (stating requester, purpose and basis) and the query record, in the session."""
    today = dt.date.today()
    content = {**register_snapshot(right.unit), "requester": requester, "purpose": purpose, "basis": basis,
               "document_number": document_number}
    proof = ArchiveProof(number=f"CD{today:%Y%m%d}{numbering.next_value('archive:' + today.isoformat()):05d}",
                         token=secrets.token_urlsafe(24), unit_id=right.unit_id, requested_by=user.id,
                         institution_id=getattr(user, "institution_id", None), content=content)
    db.session.add(proof)
    db.session.flush()
    record = ArchiveQuery(unit_id=right.unit_id, archive_proof_id=proof.id, requester_kind=kind,
                          requester_name=requester[:120], requester_user_id=user.id,
                          institution_id=getattr(user, "institution_id", None), purpose=purpose, basis=basis[:400],
                          document_number=document_number, authorization_file=authorization_file)
    db.session.add(record)
    audit.record(db.session, "archive_query", "ArchiveProof", proof.id,
                 summary=f"{proof.number} {requester}: {basis}"[:300])
    db.session.flush()
    return proof


def holder_query(user, certificate_number, purpose=None) -> ArchiveProof:
    """The holder's own property: refused unless the account is real-name and one of the right's holders."""
    if real_name_id(user) is None:
        raise Refused(_("Only a real-name personal account can query its own property; institutions must "
                        "upload the holder's written authorization"))
    right = _current_right(certificate_number, is_party(user, Party))
    if right is None:
        raise Refused(_("This certificate is not held by you: only your own property can be queried"))
    purpose = " ".join((purpose or "").split())[:PURPOSE_MAX] or _("Own query")
    return _issue(right, kind="holder", requester=user.get_full_name(), user=user, purpose=purpose,
                  basis=_("Query by the holder in person (real-name account, ID number verified)"))


def institution_query(user, certificate_number, holder_id_number, purpose, upload) -> ArchiveProof:
    """An institution with the holder's written authorization and a stated purpose."""
    if not getattr(user, "institution_id", None):
        raise Refused(_("Only an institution account can query with a written authorization"))
    purpose = _text(purpose, _("purpose of the query"))
    if upload is None or not upload.filename:
        raise Refused(_("Upload the holder's written authorization"))
    max_bytes = current_app.config.get("MATERIAL_MAX_MB", materials.DEFAULT_MAX_MB) * 1024 * 1024
    data = upload.stream.read(max_bytes + 1)
    try:
        ext = materials.check_upload(upload.filename, data, AUTHORIZATION_ACCEPT, _("written authorization"),
                                     max_bytes)
    except materials.MaterialError as exc:
        raise Refused(str(exc)) from None
    holder_id = validators.id_or_uscc(holder_id_number)
    right = _current_right(certificate_number, Party.id_number == holder_id)
    if right is None:
        raise Refused(_("No current certificate with that number is held by the person with that ID number"))
    holder = next(h.party.name for h in right.holders if h.party.id_number == holder_id)
    stored = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    files.stage(db.session, authorization_folder() / stored, data)
    return _issue(right, kind="institution", requester=user.institution.name, user=user, purpose=purpose,
                  basis=_("Written authorization of the holder %(name)s", name=holder),
                  authorization_file=stored)


def authority_query(staff, certificate_number, requester, document_number, basis, purpose) -> ArchiveProof:
    """A court or other authority, entered at the registry by staff from the authority's document."""
    requester = _text(requester, _("requesting authority"), high=120)
    document_number = _text(document_number, _("document number"), high=80)
    basis = _text(basis, _("legal basis"), high=300)
    purpose = _text(purpose, _("purpose of the query"))
    right = _current_right(certificate_number)
    if right is None:
        raise Refused(_("No current certificate has that number"))
    return _issue(right, kind="authority", requester=requester, user=staff, purpose=purpose,
                  basis=_("%(basis)s (document %(number)s)", basis=basis, number=document_number),
                  document_number=document_number)


def authorization_folder() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "archive_authorizations"


def queries_about_holder(user, limit=50) -> list:
    """Who queried the property the real-name user holds now (newest first)."""
    if real_name_id(user) is None:
        return []
    units = select(Right.unit_id).join(RightHolder, RightHolder.right_id == Right.id) \
        .join(Party, Party.id == RightHolder.party_id).where(is_party(user, Party), Right.status == "current")
    return db.session.scalars(select(ArchiveQuery).where(ArchiveQuery.unit_id.in_(units))
                              .order_by(ArchiveQuery.created_at.desc(), ArchiveQuery.id.desc())
                              .execution_options(skip_scope=True).limit(limit)).all()


def queries_made_by(user, limit=20) -> list:
    """The queries this account made (institution accounts: their institution's, through the scope)."""
    q = select(ArchiveQuery).order_by(ArchiveQuery.id.desc()).limit(limit)
    if not getattr(user, "institution_id", None):
        q = q.where(ArchiveQuery.requester_user_id == user.id)
    return db.session.scalars(q).all()


def kind_label(kind):
    return {"holder": _("Holder in person"), "institution": _("Institution with authorization"),
            "authority": _("Court or other authority")}.get(kind, kind)
