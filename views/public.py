"""Public services (业务查询): progress query, e-certificate verification, archive proofs (查档证明).

Progress and verification need no account but always two facts (a number and an ID number or a
verification code), so nobody can walk the register by guessing numbers.
"""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import captcha, rulebook, validators
from app.extensions import db
from app.services import archive_access, certificates, holder_documents
from app.services import progress as progress_query
from models import ArchiveProof, Case, CaseParty, Certificate, Party, Right, RightHolder
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
        """办理进度查询: by POST only (no ID in a URL), the case number + the last 4 characters of a party's ID
        number or an organisation's full name; the image captcha after PROGRESS_CAPTCHA_AFTER misses."""
        case = shown = None
        if request.method == "POST":
            number, fact = request.form.get("number", ""), request.form.get("party", "")
            if not number.strip() or not fact.strip():
                flash(_("Enter the case number and the last 4 characters of a party's ID number "
                        "or the organisation's full name"), "warning")
            elif progress_query.captcha_needed() and not captcha.check("progress", request.form.get("captcha")):
                flash(_("The characters in the picture were not entered correctly; please try again"), "warning")
            else:
                case, shown = progress_query.find(number, fact)
                if case is None:
                    progress_query.count_miss()
                    flash(_("No case matches that number and party information"), "warning")
        return self.render_template("public/progress.html", case=case, shown_number=shown,
                                    steps=_steps(case) if case else None,
                                    business=_business_name(case) if case else None,
                                    node=_node_label(case) if case else None,
                                    needs_captcha=progress_query.captcha_needed())

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
        data = certificates.archive_proof_pdf(proof)
        holder_documents.audit_download(proof, "pdf")
        return file_response(data, f"{proof.number}.pdf")


class PublicServiceArchiveView(BaseView):
    """查档 with authority (app/services/archive_access.py): a real-name holder queries their own property,
    an institution queries with the holder's written authorization and a purpose; anyone else is refused.
    Courts and other authorities are served at the registry (views/archive_authority.py)."""

    route_base = "/archive"
    default_view = "request_proof"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def request_proof(self):
        if request.method == "POST":
            try:
                if g.user.institution_id:
                    proof = archive_access.institution_query(
                        g.user, request.form.get("certificate_number"), request.form.get("id_number"),
                        request.form.get("purpose"), request.files.get("authorization"))
                else:
                    proof = archive_access.holder_query(g.user, request.form.get("certificate_number"),
                                                        request.form.get("purpose"))
                db.session.commit()
                flash(_("Archive proof %(number)s issued; the query has been recorded", number=proof.number),
                      "success")
                return redirect(url_for("PublicServiceView.archive_by_token", token=proof.token))
            except validators.ValidationFailed as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        holder_id = holder_documents.real_name_id(g.user)
        own = db.session.scalars(select(Right).join(RightHolder, RightHolder.right_id == Right.id)
                                 .join(Party, Party.id == RightHolder.party_id)
                                 .where(holder_documents.is_party(g.user, Party), Right.status == "current")
                                 .order_by(Right.id).limit(50)).all() if holder_id else []
        return self.render_template("public/archive_request.html", own=own, holder=bool(holder_id),
                                    institution=bool(g.user.institution_id),
                                    made=archive_access.queries_made_by(g.user),
                                    about=archive_access.queries_about_holder(g.user),
                                    kind_label=archive_access.kind_label)


class PublicServiceMineView(BaseView):
    """我的证照: the certificates and proofs of a real-name public user (app/services/holder_documents.py),
    with number, verification code, PDF and JPG; every download audited."""

    route_base = "/mine"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        docs = holder_documents.documents_of(g.user)
        return self.render_template("public/mine.html", docs=docs, real_name=bool(holder_documents.real_name_id(g.user)),
                                    code=certificates.verification_code, kinds=certificates.KIND,
                                    statuses=certificates.STATUS,
                                    about=archive_access.queries_about_holder(g.user),
                                    kind_label=archive_access.kind_label)

    @expose("/<int:cert_id>/pdf")
    @has_access
    def pdf(self, cert_id):
        return file_response(*certificates.download(holder_documents.owned(g.user, cert_id) or abort(404), "pdf"))

    @expose("/<int:cert_id>/jpg")
    @has_access
    def jpg(self, cert_id):
        return file_response(*certificates.download(holder_documents.owned(g.user, cert_id) or abort(404), "jpg"))


# The engine's own actions, in words, for a history entry whose business no longer names it.
ACTION_WORDS = {"start": _l("Started"), "submit": _l("Submitted"), "approve": _l("Approved"),
                "reject": _l("Returned"), "record": _l("Recorded"), "withdraw": _l("Withdrawn")}


def _steps(case):
    """The history as the public reads it: time, the step reached and the action, all in words."""
    try:
        business = rulebook.for_case(case)
        states, locale = business.workflow.states, rulebook.current_locale()
    except Exception:  # a retired business type: only the engine's own words are left
        business, states, locale = None, {}, None

    def step(key):
        state = states.get(key)
        return (state.label.get(locale) if state else None) or _("In progress")

    def action(key):
        label = action_label(business, key) if business else key
        return label if label != key else str(ACTION_WORDS.get(key, _("Handled")))

    return [{"at": h.at.strftime("%Y-%m-%d %H:%M"), "step": step(h.node_to), "action": action(h.action),
             "actor": h.actor_name} for h in case.history]


def _node_label(case):
    try:
        state = rulebook.for_case(case).workflow.states.get(case.node)
        return (state.label.get(rulebook.current_locale()) if state else None) or _("In progress")
    except Exception:
        return _("In progress")


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
    appbuilder.add_view(PublicServiceMineView, "MyCertificates", label=_l("My certificates"), icon="fa-id-card-o",
                        category="Query")
