"""Issued results (登记结果): the certificates and proofs a case obtained, one click from the case pages,
and an institution's list of them (a bank's 他项权证 / 不动产登记证明), searchable and exportable.

Who reads what is decided by the institution scope (app/scope.py) alone: an institution user reaches
only the documents of its own institution's cases, registry staff all of them. The public reach a
document only through the verification page, with the code printed on it.
"""
import datetime as dt

from flask import abort, current_app, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import jobs, paging
from app.extensions import db
from app.services import certificates, holder_documents
from models import Case, Certificate

from .base import posted_ids
from .downloads import XLSX, file_response
from .jobs import start as start_job

PAGE_SIZE = 20
EXPORT_LIMIT = 10000


def results_of(case):
    """What the case pages show of each issued document: number, verification code, PDF and QR."""
    return [_entry(c) for c in certificates.of_case(case.id)] if case is not None and case.id else []


def _entry(cert):
    link = certificates.verify_link(cert)
    return {"cert": cert, "number": cert.number, "code": certificates.verification_code(cert.token),
            "kind": str(certificates.KIND.get(cert.kind, cert.kind)),
            "status": str(certificates.STATUS.get(cert.status, cert.status)), "valid": cert.status == "valid",
            "location": cert.unit.location if cert.unit else "", "holders": cert.holder_names,
            "issued_at": cert.issued_at.strftime("%Y-%m-%d"), "link": link, "qr": certificates.qr_svg(link)}


def results_by_case(cases):
    """{case_id: [certificate]} for a list page (one query), for the 证书/证明 column."""
    return certificates.by_cases([c.id for c in cases])


class ProofView(BaseView):
    """证书/证明: my institution's issued documents; the PDF of one (for the case pages' link)."""
    route_base = "/proofs"
    default_view = "index"

    def _query(self):
        return certificates.search(request.args.get("q", ""), request.args.get("kind", ""))

    @expose("/")
    @has_access
    def index(self):
        # Newest first, one keyset page (app/paging.py), the count capped.
        page = paging.paginate(self._query(), Certificate.issued_at, "desc",
                               lambda q: db.session.scalars(q.options(joinedload(Certificate.unit))).all(),
                               key="proofs", size=PAGE_SIZE)
        rows = page.rows
        cases = self._cases(rows)
        obligors = certificates.obligors(list(cases))
        return self.render_template("proofs/index.html", rows=rows, total=page.total, pager=page,
                                    q=request.args.get("q", ""),
                                    kind=request.args.get("kind", ""), kinds=certificates.KIND,
                                    statuses=certificates.STATUS, cases=cases, obligors=obligors,
                                    code=certificates.verification_code)

    @expose("/export.xlsx")
    @has_access
    def export(self):
        q, kind = request.args.get("q", ""), request.args.get("kind", "")
        query = self._query()
        # Counted only up to the threshold: a large export becomes a job whatever its exact size.
        limit = current_app.config["JOB_EXPORT_ROWS"]
        if paging.capped_count(query, limit).capped:
            total = int(paging.capped_count(query, EXPORT_LIMIT))
            return start_job("export_proofs", {"q": q[:200], "kind": kind[:40]}, total,
                             url_for(".index", q=q, kind=kind))
        return file_response(_export(q, kind), _export_name(), XLSX)

    @expose("/<cert_id>/pdf")
    @has_access
    def pdf(self, cert_id):
        ids = posted_ids([cert_id])
        # The scope answers "not found" for another institution's document: its existence is not revealed.
        cert = db.session.scalar(select(Certificate).where(Certificate.id == ids[0])) if ids else None
        if cert is None:
            abort(404)
        data = certificates.certificate_pdf(cert)
        holder_documents.audit_download(cert, "pdf")  # every download of a document is on record
        return file_response(data, f"{cert.number}.pdf")

    @staticmethod
    def _cases(rows):
        """{case_id: case number shown (the official number once accepted)} for the listed documents."""
        ids = {c.case_id for c in rows if c.case_id}
        if not ids:
            return {}
        return {i: official or number for i, number, official in db.session.execute(
            select(Case.id, Case.number, Case.official_number).where(Case.id.in_(ids)))}


def _export_name():
    return f"proofs-{dt.date.today():%Y%m%d}.xlsx"


def _export(q, kind, progress=None) -> bytes:
    """The 证书/证明 list as a workbook (the signed-in user's scope), at most EXPORT_LIMIT rows."""
    rows = db.session.scalars(certificates.search(q, kind).options(joinedload(Certificate.unit))
                              .limit(EXPORT_LIMIT)).all()
    cases = ProofView._cases(rows)
    obligors = certificates.obligors(list(cases))
    headers = [_("Number"), _("Kind"), _("Verification code"), _("Location"), _("Unit code"), _("Holders"),
               _("Mortgagor / obligor"), _("Case number"), _("Issued at"), _("Status")]
    data = []
    for i, c in enumerate(rows, start=1):
        data.append([c.number, certificates.KIND.get(c.kind, c.kind), certificates.verification_code(c.token),
                     c.unit.location, c.unit.unit_code, c.holder_names, obligors.get(c.case_id, ""),
                     cases.get(c.case_id, ""), c.issued_at.strftime("%Y-%m-%d"),
                     certificates.STATUS.get(c.status, c.status)])
        if progress and i % 500 == 0:
            progress(i, len(rows))
    return certificates.workbook(headers, data)


@jobs.register("export_proofs", _l("Export of certificates and proofs"))
def export_job(job, params):
    return _export_name(), _export(params.get("q", ""), params.get("kind", ""), progress=job.progress)


def register(appbuilder):
    appbuilder.add_view(ProofView, "Proofs", label=_l("Certificates and proofs"), icon="fa-certificate",
                        category="Office")
    # The case pages (desk and review) and the done list read the issued documents through these.
    current_app.jinja_env.globals.update(case_results=results_of, results_by_case=results_by_case)
