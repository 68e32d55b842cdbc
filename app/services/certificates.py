"""E-certificates, proofs and archive proofs: their PDFs (with a verification QR code) and verification.

Verification needs the number and the verification code printed on the paper (the first 8
characters of the token) or the QR link carrying the whole token, so numbers alone cannot be
enumerated to read someone's register entries.
"""
import base64
import re
import secrets
from io import BytesIO

import segno
from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app import rulebook, validators
from app.extensions import db
from app.services import pdf
from app.services.search import case_parties_matching, certificates_matching, units_matching
from models import ArchiveProof, CaseParty, Certificate, Mortgage, PreNotice, Right, Unit

CODE_LENGTH = 8


def verification_code(token: str) -> str:
    return token[:CODE_LENGTH]


def qr_data_uri(text: str) -> str:
    buf = BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=4, border=2)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def find_certificate(number: str, code: str):
    """The certificate with that number whose verification code matches, or None."""
    try:
        number = validators.parse_certificate_number(number)
    except validators.ValidationFailed:
        return None
    cert = db.session.scalar(select(Certificate).where(Certificate.number == number).execution_options(skip_scope=True))
    if cert and secrets.compare_digest(verification_code(cert.token), (code or "").strip()):
        return cert
    return None


def by_token(model, token: str):
    return db.session.scalar(select(model).where(model.token == token).execution_options(skip_scope=True))


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate or proof in the national layout (app/services/certificate_pdf.py)."""
    from app.services import certificate_pdf as layout
    link = url_for("PublicServiceView.certificate_by_token", token=cert.token, _external=True)
    document = layout.certificate_document if cert.kind == "certificate" else layout.proof_document
    return document(cert, verification_code(cert.token), link)


def download(cert: Certificate, fmt: str) -> tuple[bytes, str, str]:
    """(content, file name, media type) of the certificate as "pdf" or "jpg"; every download is audited
    (who, which document, which format), in the request's transaction."""
    from app import audit
    data = certificate_jpg(cert) if fmt == "jpg" else certificate_pdf(cert)
    # The entry belongs to whoever downloaded (their institution, if any): a bank opening another's
    # certificate through its QR link must neither write into that institution's log nor see the
    # other's number in its own (the row id names the document).
    audit.record(db.session, "download_certificate", "Certificate", cert.id, summary=fmt.upper())
    db.session.commit()
    return data, f"{cert.number}.{fmt}", "image/jpeg" if fmt == "jpg" else "application/pdf"


def certificate_jpg(cert: Certificate) -> bytes:
    """The certificate's pages as one JPEG, top to bottom (rendered by poppler's pdftoppm)."""
    from app.services import rasterize
    return rasterize.pdf_to_jpg(certificate_pdf(cert))


def register_snapshot(unit: Unit) -> dict:
    """What the register holds for a unit right now (the content of an archive proof)."""
    rights = db.session.scalars(select(Right).where(Right.unit_id == unit.id, Right.status == "current")
                                .execution_options(skip_scope=True)).all()
    mortgages = db.session.scalars(select(Mortgage).where(Mortgage.unit_id == unit.id, Mortgage.status == "current")
                                   .execution_options(skip_scope=True)).all()
    notices = db.session.scalars(select(PreNotice).where(PreNotice.unit_id == unit.id, PreNotice.status == "current")
                                 .execution_options(skip_scope=True)).all()
    return {
        "unit_code": unit.unit_code, "location": unit.location, "area": str(unit.area), "use": unit.use,
        "sealed": unit.sealed, "objected": unit.objected,
        "rights": [{"number": r.certificate_number, "holders": [f"{h.party.name}（{h.share}）" for h in r.holders],
                    "registered_at": r.registered_at.date().isoformat()} for r in rights],
        "mortgages": [{"number": m.proof_number, "mortgagee": m.mortgagee_name, "kind": rulebook.label("mortgage_kinds", m.kind),
                       "amount": str(m.secured_amount or m.maximum_amount or ""), "rank": m.rank,
                       "term": f"{m.term_start.isoformat()} ~ {m.term_end.isoformat()}"} for m in mortgages],
        "pre_notices": [{"number": p.proof_number, "kind": rulebook.label("pre_notice_kinds", p.kind)} for p in notices],
    }


def find_archive_proof(number: str, code: str):
    proof = db.session.scalar(select(ArchiveProof).where(ArchiveProof.number == (number or "").strip())
                              .execution_options(skip_scope=True))
    if proof and secrets.compare_digest(verification_code(proof.token), (code or "").strip()):
        return proof
    return None


def archive_proof_pdf(proof: ArchiveProof) -> bytes:
    link = url_for("PublicServiceView.archive_by_token", token=proof.token, _external=True)
    return pdf.render("archive_proof.html", proof=proof, code=verification_code(proof.token),
                      qr=qr_data_uri(link), link=link)


# ---- read helpers for the case pages, the done list and the proof list -----------------------------
# Every query below runs through the institution scope (app/scope.py): an institution user reads only
# the documents its own cases obtained; registry staff read all.
KIND = {"certificate": _l("Real estate certificate"), "proof": _l("Registration proof")}
STATUS = {"valid": _l("Valid"), "revoked": _l("Revoked")}
OBLIGOR_ROLES = ("mortgagor", "obligor")


def verify_link(cert: Certificate) -> str:
    """The public verification page the QR code leads to (the same link the PDF prints)."""
    return url_for("PublicServiceView.certificate_by_token", token=cert.token, _external=True)


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG markup (no script, no data URI, so a strict CSP lets it through)."""
    return Markup(segno.make(text, error="m").svg_inline(scale=3, border=2, title=text))


def of_case(case_id: int) -> list:
    return db.session.scalars(select(Certificate).where(Certificate.case_id == case_id)
                              .options(joinedload(Certificate.unit)).order_by(Certificate.id)).all()


def by_cases(case_ids) -> dict:
    """{case_id: [certificate]} for a page of cases, in one query."""
    out = {}
    ids = [i for i in case_ids if i is not None]
    if ids:
        for cert in db.session.scalars(select(Certificate).where(Certificate.case_id.in_(ids)).order_by(Certificate.id)):
            out.setdefault(cert.case_id, []).append(cert)
    return out


def search(text: str = "", kind: str = ""):
    """The SELECT of the proof list: number, location (坐落) or a holder's / mortgagor's name contains `text`."""
    q = select(Certificate).join(Unit, Unit.id == Certificate.unit_id)
    if kind in KIND:
        q = q.where(Certificate.kind == kind)
    text = (text or "").strip()[:100]
    if text:
        # A typed number may carry full-width brackets or spaces (粤（2019）… 第 0007430 号).
        number = re.sub(r"\s+", "", text.replace("（", "(").replace("）", ")"))
        party = select(CaseParty.id).where(CaseParty.case_id == Certificate.case_id,
                                           case_parties_matching(text))
        q = q.where(or_(certificates_matching(text, number=number), units_matching(text),
                        party.exists()))
    return q.order_by(Certificate.issued_at.desc(), Certificate.id.desc())


def obligors(case_ids) -> dict:
    """{case_id: "name、name"}: the mortgagors / obligors of each case (the property's side), in one query."""
    out = {}
    ids = [i for i in case_ids if i is not None]
    if ids:
        rows = db.session.execute(select(CaseParty.case_id, CaseParty.name).where(
            CaseParty.case_id.in_(ids), CaseParty.role.in_(OBLIGOR_ROLES)).order_by(CaseParty.id)).all()
        for case_id, name in rows:
            names = out.setdefault(case_id, [])
            if name not in names:
                names.append(name)
    return {k: "、".join(v) for k, v in out.items()}


def workbook(headers, rows, progress=None, total=0) -> bytes:
    """A plain .xlsx: a bold header row, then one row per item, every value as text, streamed and
    formula-safe (app/services/excel.py: a value typed as '=HYPERLINK(...)' is shown as typed)."""
    from app.services import excel
    return excel.stream(headers, (["" if v is None else str(v) for v in values] for values in rows),
                        progress=progress, total=total)
