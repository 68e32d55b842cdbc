"""查档 for courts and other authorities, at the registry: staff enter the requesting authority, the number
of its document (协助查询通知书 ...) and the legal basis from the paper the authority brings; the proof and
the query record state them (app/services/archive_access.py)."""
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import validators
from app.extensions import db
from app.services import archive_access
from models import ArchiveQuery


class ArchiveAuthorityView(BaseView):
    route_base = "/archive-authority"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        if request.method == "POST":
            f = request.form
            try:
                proof = archive_access.authority_query(g.user, f.get("certificate_number"), f.get("requester"),
                                                       f.get("document_number"), f.get("basis"), f.get("purpose"))
                db.session.commit()
                flash(_("Archive proof %(number)s issued; the query has been recorded", number=proof.number),
                      "success")
                return redirect(url_for("PublicServiceView.archive_by_token", token=proof.token))
            except validators.ValidationFailed as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        recent = db.session.scalars(select(ArchiveQuery).where(ArchiveQuery.requester_kind == "authority")
                                    .order_by(ArchiveQuery.id.desc()).limit(20)).all()
        return self.render_template("public/archive_authority.html", recent=recent)


def register(appbuilder):
    appbuilder.add_view(ArchiveAuthorityView, "ArchiveAuthority", label=_l("Archive query for authorities"),
                        icon="fa-gavel", category="Office")
