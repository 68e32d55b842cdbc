"""完税核验: the sandbox tax bureau (a stand-in for the tax bureau's 税费联办 page) and its signed callback.

The payer reaches it from the case page once the case is submitted (institution users for their own
cases; others after proving case number + party ID on the payment page). The page assesses the deed
tax per unit (app/services/tax.py), the payer confirms payment per assessment, and the page posts the
bureau's signed notification to /tax/notify, exactly as the bureau's server would.
"""
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from app import rulebook
from app.extensions import csrf, db
from app.services import tax

from . import desk_common as dc
from .payment import case_within_reach


class PublicServiceTaxView(BaseView):
    route_base = "/tax"
    default_view = "bureau"

    def _case(self, case_id):
        case = case_within_reach(case_id) or abort(404)
        business = rulebook.for_case(case)
        if not tax.applies(business):
            abort(404)
        return case, business

    def _page(self, case, business, notification=None, error=None):
        return self.render_template("tax/bureau.html", case=case, business=business, tx=dc.tx,
                                    summary=tax.summary(case), notification=notification, error=error,
                                    draft=dc.is_draft(case, business))

    @expose("/case/<int:case_id>", methods=["GET"])
    @has_access
    def bureau(self, case_id):
        """The bureau's page for a case: the assessment per unit (made on the first visit after submission)."""
        case, business = self._case(case_id)
        error = None
        if not dc.is_draft(case, business) and not business.workflow.states[case.node].final:
            try:
                tax.adapter().assess(case)
                db.session.commit()
            except tax.TaxError as exc:
                db.session.rollback()
                error = str(exc)
        return self._page(case, business, error=error)

    @expose("/case/<int:case_id>", methods=["POST"])
    @has_access
    def pay(self, case_id):
        """The payer confirms payment of one assessment: the page answers with the bureau's signed notification."""
        case, business = self._case(case_id)
        assessment = next((a for a in case.tax_assessments if a.reference == request.form.get("reference")), None)
        if assessment is None:
            flash(_("Unknown tax assessment"), "warning")
            return redirect(url_for(".bureau", case_id=case.id))
        notification = tax.adapter().notification(assessment) if assessment.status == "pending" else None
        return self._page(case, business, notification=notification)

    @expose("/notify", methods=["POST"])
    def notify(self):
        """The bureau's callback: signature checked, applied once; answers plain text as the bureau expects."""
        back = request.form.get("return") == "1"
        try:
            settled = tax.settle(request.form.to_dict())
            db.session.commit()
        except tax.TaxError as exc:
            db.session.rollback()
            if back:
                flash(str(exc), "danger")
                return redirect(url_for("PublicServicePaymentView.index"))
            return str(exc), 400
        if back:
            flash(_("Deed tax of %(amount)s yuan paid for assessment %(reference)s", amount=settled.amount,
                    reference=settled.reference), "success")
            return redirect(url_for(".bureau", case_id=settled.case_id))
        return "success"


def register(appbuilder):
    appbuilder.add_view_no_menu(PublicServiceTaxView)
    csrf.exempt(PublicServiceTaxView.notify)
