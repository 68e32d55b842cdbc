"""The registry's review of institution registrations (法人注册审核): approve or reject.

Approval activates the institution and its first administrator account; both decisions are
audited (the Institution row is Audited, the account change is recorded explicitly).
"""
from flask import abort, flash, redirect, send_from_directory, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from app import audit, roles
from app.auth.forms import ReviewForm
from app.extensions import db
from app.services import registration_documents
from models import Institution, Operator



class ReviewRegistrationView(BaseView):
    route_base = "/registrations"
    default_view = "pending"

    @expose("/")
    @has_access
    def pending(self):
        rows = db.session.scalars(select(Institution).where(Institution.status == "pending")
                                  .order_by(Institution.created_at)).all()
        return self.render_template("accounts/registrations.html", appbuilder=self.appbuilder, rows=rows)

    @expose("/<int:pk>/", methods=["GET", "POST"])
    @has_access
    def review(self, pk):
        inst = db.session.get(Institution, pk) or abort(404)
        admins = db.session.scalars(select(Operator).where(Operator.institution_id == inst.id)).all()
        form = ReviewForm()
        if inst.status == "pending" and form.validate_on_submit():
            approve = bool(form.approve.data)
            if not approve and not (form.opinion.data or "").strip():
                form.opinion.errors.append(_("Give the reason for the rejection"))
            else:
                self._decide(inst, admins, approve, form.opinion.data)
                return redirect(url_for(".pending"))
        documents = registration_documents.listing(inst.id)
        return self.render_template("accounts/registration_review.html", appbuilder=self.appbuilder,
                                    inst=inst, admins=admins, form=form, documents=documents)

    def _decide(self, inst, admins, approve, opinion):
        inst.status = "approved" if approve else "rejected"
        inst.review_opinion = opinion
        if approve:
            for admin in admins:
                if any(r.name == roles.INSTITUTION_ADMIN for r in admin.roles):
                    admin.active = True
                    audit.record(db.session, "activate_account", "Operator", admin.id,
                                 institution_id=inst.id, summary=admin.username)
        audit.record(db.session, "approve_registration" if approve else "reject_registration", "Institution",
                     inst.id, institution_id=inst.id, summary=(opinion or inst.name)[:300])
        db.session.commit()
        flash(_("The registration of %(name)s has been approved", name=inst.name) if approve
              else _("The registration of %(name)s has been rejected", name=inst.name), "success")
        if not approve:  # documents of registrations rejected long enough ago go (REJECTED_FILES_DAYS)
            registration_documents.purge_rejected()

    @expose("/<int:pk>/documents/<name>")
    @has_access
    def document(self, pk, name):
        folder = registration_documents.folder(pk)
        if name not in registration_documents.listing(pk):
            abort(404)
        return send_from_directory(folder, name, as_attachment=True)
