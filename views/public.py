"""Public services (业务查询): progress query, e-certificate verification, archive proofs (查档证明).

Progress and verification need no account but always two facts (a number and an ID number or a
verification code), so nobody can walk the register by guessing numbers.
"""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import rulebook, validators
from app.extensions import db
from app.services import certificates
from models import ArchiveProof, Case, CaseParty, Certificate
from .desk_common import action_label
from .downloads import file_response


def _progress(number: str, id_number: str):
    number, id_number = (number or "").strip(), (id_number or "").strip().upper()
    if not number or not id_number:
        return None
    # Two look-ups, each by its unique index: `number = ? OR official_number = ?` reads the whole table on SQLite.
    case = db.session.scalar(select(Case).where(Case.number == number).execution_options(skip_scope=True)) or \
        db.session.scalar(select(Case).where(Case.official_number == number).execution_options(skip_scope=True))
    if case is None:
        return None
    party = db.session.scalar(select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.id_number == id_number)
                              .execution_options(skip_scope=True))
    return case if party else None


def _business_name(case):
    """The business as the case's own rules version names it (cached per version: no query)."""
    try:
        return rulebook.for_case(case).display_name
    except Exception:  # a retired business type still shows its key
        return case.business_key


class PublicServiceView(BaseView):
    route_base = "/public"
    default_view = "progress"

    @expose("/progress", methods=["GET", "POST"])
    def progress(self):
        """办理进度查询 by case number and the ID number of one of its parties."""
        case = history = None
        if request.values.get("number"):
            case = _progress(request.values.get("number"), request.values.get("id_number"))
            if case is None:
                flash(_("No case matches that number and ID number"), "warning")
            else:
                history = case.history
        business = _business_name(case) if case else None
        node = _node_label(case) if case else None
        return self.render_template("public/progress.html", case=case, history=history, business=business,
                                    node=node, action_label=_action_labeller(case))

    @expose("/certificate", methods=["GET", "POST"])
    def certificate(self):
        """电子证照查验: number + verification code printed on the certificate."""
        cert = None
        if request.method == "POST":
            cert = certificates.find_certificate(request.form.get("number"), request.form.get("code"))
            if cert is None:
                flash(_("No certificate matches that number and verification code"), "warning")
        return self.render_template("public/certificate.html", cert=cert)

    @expose("/certificate/<token>")
    def certificate_by_token(self, token):
        cert = certificates.by_token(Certificate, token) or abort(404)
        return self.render_template("public/certificate.html", cert=cert)

    @expose("/certificate/<token>/pdf")
    def certificate_pdf(self, token):
        cert = certificates.by_token(Certificate, token) or abort(404)
        return file_response(*certificates.download(cert, "pdf"))

    @expose("/certificate/<token>/jpg")
    def certificate_jpg(self, token):
        """The document as one JPEG, for whoever holds its QR link (the token), like the PDF."""
        cert = certificates.by_token(Certificate, token) or abort(404)
        return file_response(*certificates.download(cert, "jpg"))

    @expose("/archive/verify", methods=["GET", "POST"])
    def archive_verify(self):
        """查验查档结果: number + verification code of an archive proof."""
        proof = None
        if request.method == "POST":
            proof = certificates.find_archive_proof(request.form.get("number"), request.form.get("code"))
            if proof is None:
                flash(_("No archive proof matches that number and verification code"), "warning")
        return self.render_template("public/archive_verify.html", proof=proof)

    @expose("/archive/<token>")
    def archive_by_token(self, token):
        proof = certificates.by_token(ArchiveProof, token) or abort(404)
        return self.render_template("public/archive_verify.html", proof=proof)

    @expose("/archive/<token>/pdf")
    def archive_pdf(self, token):
        proof = certificates.by_token(ArchiveProof, token) or abort(404)
        return file_response(certificates.archive_proof_pdf(proof), f"{proof.number}.pdf")


class PublicServiceArchiveView(BaseView):
    """查档 for signed-in users: the holder's certificate number and ID number give an archive proof."""

    route_base = "/archive"
    default_view = "request_proof"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def request_proof(self):
        proof = None
        if request.method == "POST":
            try:
                proof = certificates.issue_archive_proof(request.form.get("certificate_number"),
                                                         request.form.get("id_number"), g.user)
                db.session.commit()
                return redirect(url_for("PublicServiceView.archive_by_token", token=proof.token))
            except validators.ValidationFailed as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        mine = db.session.scalars(select(ArchiveProof).where(ArchiveProof.requested_by == g.user.id)
                                  .order_by(ArchiveProof.id.desc()).limit(20)).all()
        return self.render_template("public/archive_request.html", mine=mine)


def _action_labeller(case):
    """History actions in words, as the case page shows them (never the transition's key)."""
    try:
        business = rulebook.for_case(case) if case else None
    except Exception:  # a retired business type: its keys are all there is
        business = None
    return (lambda a: action_label(business, a)) if business else (lambda a: a)


def _node_label(case):
    try:
        state = rulebook.for_case(case).workflow.states.get(case.node)
        return state.label.get(rulebook.current_locale()) if state else case.node
    except Exception:
        return case.node


def register(appbuilder):
    appbuilder.add_view(PublicServiceView, "Progress", href="/public/progress", label=_l("Progress query"),
                        icon="fa-search", category="Query", category_label=_l("Business query"))
    appbuilder.add_link("Guide", href="/guide/", label=_l("Service guide"), icon="fa-book", category="Query")
    appbuilder.add_link("VerifyCertificate", href="/public/certificate", label=_l("E-certificate verification"),
                        icon="fa-check-square-o", category="Query")
    appbuilder.add_link("VerifyArchive", href="/public/archive/verify", label=_l("Archive proof verification"),
                        icon="fa-check", category="Query")
    appbuilder.add_view(PublicServiceArchiveView, "ArchiveProof", label=_l("Archive query"), icon="fa-archive",
                        category="Query")
