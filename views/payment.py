"""在线缴费: find a case's fees (own cases for institution users; case number + party ID for anyone),
confirm the order, pay at the provider (the local sandbox cashier), receive the signed notification."""
from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import csrf, db
from app.services import payment as payments
from models import Case, Payment

from .public import _progress

_PAYABLE = ("pre_review", "accepted", "approved")


def case_within_reach(case_id):
    """Institution users reach their own cases through the scope; others after proving number + party ID."""
    if case_id in session.get("pay_cases", []):
        return db.session.get(Case, case_id, execution_options={"skip_scope": True})
    return db.session.get(Case, case_id) if g.user.institution_id else None


class PublicServicePaymentView(BaseView):
    route_base = "/pay"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        found = None
        if request.method == "POST":
            found = _progress(request.form.get("number"), request.form.get("id_number"))
            if found is None:
                flash(_("No case matches that number and ID number"), "warning")
            else:
                session["pay_cases"] = (session.get("pay_cases", []) + [found.id])[-20:]
        own = []
        if g.user.institution_id:
            own = db.session.scalars(select(Case).where(Case.node.in_(_PAYABLE)).options(selectinload(Case.payments))
                                     .order_by(Case.submitted_at.desc()).limit(20)).all()
        rows = [(c, *payments.outstanding(c)) for c in ([found] if found else []) + own]
        paid = db.session.scalars(select(Payment).where(Payment.status == "paid").order_by(Payment.paid_at.desc())
                                  .limit(20)).all() if g.user.institution_id else []
        from app import rulebook
        from app.services import tax
        return self.render_template("payment/index.html", rows=rows, paid=paid,
                                    taxed=lambda c: tax.applies(rulebook.for_case(c)))

    @expose("/order/<int:case_id>", methods=["POST"])
    @has_access
    def order(self, case_id):
        case = case_within_reach(case_id) or abort(404)
        try:
            order = payments.create_order(case)
            db.session.commit()
        except payments.PaymentError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(url_for(".index"))
        return redirect(payments.adapter().checkout_url(order))

    @expose("/sandbox/<order>", methods=["GET", "POST"])
    @has_access
    def sandbox(self, order):
        """The sandbox provider's cashier: pick a channel and pay; it posts a signed notification back."""
        payment = db.session.scalar(select(Payment).where(Payment.order_number == order)
                                    .execution_options(skip_scope=True)) or abort(404)
        if case_within_reach(payment.case_id) is None:
            abort(404)
        notification = None
        if request.method == "POST" and payment.status == "pending":
            notification = payments.adapter().notification(payment, request.form.get("channel", "wechat"))
        return self.render_template("payment/sandbox.html", payment=payment, notification=notification)

    @expose("/notify", methods=["POST"])
    def notify(self):
        """The provider's callback: signature checked, applied once; answers plain text as providers expect."""
        try:
            settled = payments.settle(request.form.to_dict())
            db.session.commit()
        except payments.PaymentError as exc:
            db.session.rollback()
            if request.form.get("return") == "1":
                flash(str(exc), "danger")
                return redirect(url_for(".index"))
            return str(exc), 400
        if request.form.get("return") == "1":
            flash(_("Payment of %(amount)s yuan received for order %(order)s", amount=settled.amount,
                    order=settled.order_number), "success")
            return redirect(url_for(".index"))
        return "success"


def register(appbuilder):
    appbuilder.add_view(PublicServicePaymentView, "Payment", label=_l("Online payment"), icon="fa-credit-card",
                        category="Query")
    csrf.exempt(PublicServicePaymentView.notify)
