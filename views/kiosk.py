"""自助打证 kiosk (/kiosk): the registry's self-service terminal. The holder types the one-time code the desk
made (app/services/kiosk.py) and gets the case's certificates or proofs as one PDF, built by the certificate
PDF function. No account: the code is the authority, so attempts are rate-limited (app/limits.py, PUBLIC)
and every attempt, good or bad, is audited."""
from io import BytesIO

from flask import flash, make_response, request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pypdf import PdfReader, PdfWriter

from app.extensions import db
from app.services import certificates, kiosk

from .downloads import file_response


def _joined(pdfs) -> bytes:
    if len(pdfs) == 1:
        return pdfs[0]
    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(BytesIO(data)).pages:
            writer.add_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


class KioskView(BaseView):
    route_base = "/kiosk"
    default_view = "index"

    @expose("/", methods=["GET"])
    def index(self):
        return self.render_template("kiosk/index.html")

    @expose("/print", methods=["POST"])
    def redeem(self):
        try:
            case, certs = kiosk.redeem(request.form.get("code", ""))
        except kiosk.KioskError as exc:
            db.session.commit()   # the refused attempt stays in the audit log
            flash(str(exc), "danger")
            return make_response(self.render_template("kiosk/index.html"), 400)
        data = _joined([certificates.certificate_pdf(c) for c in certs])
        db.session.commit()       # spent and audited together with the PDF handed out
        response = file_response(data, f"{case.official_number or case.number}.pdf")
        response.headers["Cache-Control"] = "no-store"
        return response


def register(appbuilder):
    appbuilder.add_view_no_menu(KioskView)
    appbuilder.add_link("Kiosk", href="/kiosk/", label=_l("Self-service printing"), icon="fa-print", category="Query")
