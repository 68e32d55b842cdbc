"""完税核验: send the payer to the tax bureau, ask the bureau whether the tax is paid, receive its signed callback;
and the sandbox tax bureau (a stand-in for the bureau's 税费联办 page), mounted only with REGISTRY_SANDBOX=1.

The payer reaches the bureau from the case page once the case is submitted (institution users for their own
cases; others after proving case number + party ID on the payment page). The adapter (app/services/tax.py)
declares the case and answers the bureau's payment address. Only a notification the adapter proves to be the
bureau's, or the bureau's own signed answer to a query, clears a tax: with the sandbox off no page of the app
can produce one.
"""
from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from app import rulebook
from app.extensions import csrf, db
from app.services import tax

from . import desk_common as dc
from .payment import case_within_reach


def _case(case_id):
    case = case_within_reach(case_id) or abort(404)
    business = rulebook.for_case(case)
    if not tax.applies(business):
        abort(404)
    return case, business


def _back(case):
    """Institution users go back to their case page, a party who proved the case to the payment page."""
    return redirect(url_for("DeskCaseView.show", case_id=case.id) if g.user.institution_id
                    else url_for("PublicServicePaymentView.index"))


class PublicServiceTaxView(BaseView):
    route_base = "/tax"
    default_view = "declare"

    @expose("/declare/<int:case_id>", methods=["POST"])
    @has_access
    def declare(self, case_id):
        """Declare the case to the bureau (it assesses the deed tax) and go to its payment page."""
        case, business = _case(case_id)
        if dc.is_draft(case, business) or business.workflow.states[case.node].final:
            flash(_("The tax is assessed once the application is submitted."), "warning")
            return _back(case)
        bureau = tax.adapter()
        try:
            bureau.assess(case, business.tax)
            url = bureau.bureau_url(case)
            db.session.commit()
        except tax.TaxError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return _back(case)
        return redirect(url)

    @expose("/check/<int:case_id>", methods=["POST"])
    @has_access
    def check(self, case_id):
        """完税核验: ask the bureau now whether the deed tax of the case is paid."""
        case, _business = _case(case_id)
        try:
            cleared = tax.adapter().status(case)
            db.session.commit()
        except tax.TaxError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return _back(case)
        flash(_("The tax bureau confirms the deed tax is paid") if cleared
              else _("The tax bureau has not received the deed tax yet"), "success" if cleared else "warning")
        return _back(case)

    @expose("/notify", methods=["POST"])
    def notify(self):
        """The bureau's callback: proven by the adapter, applied once. The sandbox's form (with return=1) goes back
        to the sandbox bureau page; the real bureau gets the JSON answer of app/services/signing.py."""
        sandbox_form = isinstance(tax.adapter(), tax.SandboxTax)
        back = sandbox_form and request.form.get("return") == "1"
        try:
            settled = tax.apply(tax.adapter().notified(request))
            db.session.commit()
        except tax.TaxError as exc:
            db.session.rollback()
            current_app.logger.warning("tax notification refused: %s", exc)
            if back:
                flash(str(exc), "danger")
                return redirect(url_for("PublicServicePaymentView.index"))
            return (str(exc), 400) if sandbox_form else (jsonify(code="FAIL", message=str(exc)), 400)
        if back:
            flash(_("Deed tax of %(amount)s yuan paid for assessment %(reference)s", amount=settled.amount,
                    reference=settled.reference), "success")
            return redirect(url_for("PublicServiceSandboxTaxView.bureau", case_id=settled.case_id))
        return "success" if sandbox_form else jsonify(code="OK", message="success")


class PublicServiceSandboxTaxView(BaseView):
    """The sandbox tax bureau (REGISTRY_SANDBOX=1 only): it assesses with the configurable default rates and
    answers a signed notification for the payer's browser to post back, as the bureau's server would."""
    route_base = "/tax/case"
    default_view = "bureau"

    def _page(self, case, business, notification=None, error=None):
        return self.render_template("tax/bureau.html", case=case, business=business, tx=dc.tx,
                                    summary=tax.summary(case), notification=notification, error=error,
                                    draft=dc.is_draft(case, business))

    @expose("/<int:case_id>", methods=["GET"])
    @has_access
    def bureau(self, case_id):
        """The bureau's page for a case: the assessment per unit (made on the first visit after submission)."""
        case, business = _case(case_id)
        error = None
        if not dc.is_draft(case, business) and not business.workflow.states[case.node].final:
            try:
                tax.SandboxTax().assess(case, business.tax)
                db.session.commit()
            except tax.TaxError as exc:
                db.session.rollback()
                error = str(exc)
        return self._page(case, business, error=error)

    @expose("/<int:case_id>", methods=["POST"])
    @has_access
    def pay(self, case_id):
        """The payer confirms payment of one assessment: the page answers with the bureau's signed notification."""
        case, business = _case(case_id)
        assessment = next((a for a in case.tax_assessments if a.reference == request.form.get("reference")), None)
        if assessment is None:
            flash(_("Unknown tax assessment"), "warning")
            return redirect(url_for(".bureau", case_id=case.id))
        notification = tax.SandboxTax().notification(assessment) if assessment.status == "pending" else None
        return self._page(case, business, notification=notification)


def register(appbuilder):
    appbuilder.add_view_no_menu(PublicServiceTaxView)
    csrf.exempt(PublicServiceTaxView.notify)
    if current_app.config.get("SANDBOX"):
        appbuilder.add_view_no_menu(PublicServiceSandboxTaxView)
