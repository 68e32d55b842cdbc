"""Issued results (登记结果): the certificates and proofs a case obtained, one click from the case pages,
and an institution's list of them (a bank's 他项权证 / 不动产登记证明), searchable and exportable.

Who reads what is decided by the institution scope (app/scope.py) alone: an institution user reaches
only the documents of its own institution's cases, registry staff all of them. The public reach a
document only through the verification page, with the code printed on it.
"""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import paging
from app.extensions import db
from app.services import certificates
from models import Case, Certificate

from . import exporting
from .base import posted_ids
from .downloads import file_response

PAGE_SIZE = 20


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
                               lambda q, params: db.session.scalars(q.options(joinedload(Certificate.unit)), params).all(),
                               key="proofs", size=PAGE_SIZE)
        rows = page.rows
        cases = self._cases(rows)
        obligors = certificates.obligors(list(cases))
        offered = proof_columns()
        shown = exporting.chosen_columns("proofs", offered)
        args = {"q": request.args.get("q", ""), "kind": request.args.get("kind", "")}
        tools = exporting.tools("proofs", shown, offered, offered, url_for(".export", **args),
                                url_for(".columns_setting"))
        return self.render_template("proofs/index.html", rows=rows, total=page.total, pager=page,
                                    shown=shown, list_tools=tools,
                                    q=request.args.get("q", ""),
                                    kind=request.args.get("kind", ""), kinds=certificates.KIND,
                                    statuses=certificates.STATUS, cases=cases, obligors=obligors,
                                    code=certificates.verification_code)

    @expose("/export.xlsx")
    @has_access
    def export(self):
        """导出 Excel of the searched list (views/exporting.py: a job above REGISTRY_JOB_EXPORT_ROWS rows)."""
        params = {"q": request.args.get("q", "")[:200], "kind": request.args.get("kind", "")[:40]}
        back = url_for(".index", **params)
        params["columns"] = exporting.chosen_columns("proofs", proof_columns())
        return exporting.respond("proofs", params, self._query(), back)

    @expose("/columns", methods=["POST"])
    @has_access
    def columns_setting(self):
        exporting.save_columns("proofs", list(proof_columns()), request.form.getlist("column"))
        flash(_("Column settings saved"), "success")
        return redirect(exporting.back_to(url_for(".index")))

    @expose("/<cert_id>/pdf")
    @has_access
    def pdf(self, cert_id):
        return file_response(*certificates.download(self._certificate(cert_id), "pdf"))

    @expose("/<cert_id>/jpg")
    @has_access
    def jpg(self, cert_id):
        """The same document as one JPEG image (its pages top to bottom)."""
        return file_response(*certificates.download(self._certificate(cert_id), "jpg"))

    @staticmethod
    def _certificate(cert_id):
        ids = posted_ids([cert_id])
        # The scope answers "not found" for another institution's document: its existence is not revealed.
        cert = db.session.scalar(select(Certificate).where(Certificate.id == ids[0])) if ids else None
        if cert is None:
            abort(404)
        return cert

    @staticmethod
    def _cases(rows):
        """{case_id: case number shown (the official number once accepted)} for the listed documents."""
        ids = {c.case_id for c in rows if c.case_id}
        if not ids:
            return {}
        return {i: official or number for i, number, official in db.session.execute(
            select(Case.id, Case.number, Case.official_number).where(Case.id.in_(ids)))}


def proof_columns():
    """{column: heading} of the 证书/证明 list (列设置; the number is always shown)."""
    return {"number": _("Number"), "kind": _("Kind"), "code": _("Verification code"), "location": _("Location"),
            "holders": _("Holders"), "obligors": _("Mortgagor / obligor"), "case": _("Case number"),
            "issued_at": _("Issued at"), "status": _("Status")}


@exporting.exportable("proofs", _l("Certificates and proofs"), _l("Export of certificates and proofs"))
def _export(params):
    """The 证书/证明 list's rows (the signed-in user's scope) in its chosen columns, read in chunks: each
    chunk's cases and obligors in one query each."""
    offered = proof_columns()
    # the number is always shown (the lists keep it, whatever is ticked)
    columns = ["number"] + [c for c in params.get("columns") or list(offered) if c in offered and c != "number"]
    query = certificates.search(params.get("q", ""), params.get("kind", "")).options(joinedload(Certificate.unit))

    def rows():
        for chunk in exporting.in_chunks(query):
            cases = ProofView._cases(chunk)
            obligors = certificates.obligors(list(cases))
            for c in chunk:
                v = {"number": c.number, "kind": str(certificates.KIND.get(c.kind, c.kind)),
                     "code": certificates.verification_code(c.token), "location": c.unit.location,
                     "holders": c.holder_names, "obligors": obligors.get(c.case_id, ""),
                     "case": cases.get(c.case_id, ""), "issued_at": c.issued_at.strftime("%Y-%m-%d"),
                     "status": str(certificates.STATUS.get(c.status, c.status))}
                yield [v[k] for k in columns]
    return [offered[c] for c in columns], rows()


def register(appbuilder):
    appbuilder.add_view(ProofView, "Proofs", label=_l("Certificates and proofs"), icon="fa-certificate",
                        category="Office")
    # The case pages (desk and review) and the done list read the issued documents through these.
    current_app.jinja_env.globals.update(case_results=results_of, results_by_case=results_by_case)
