"""在线缴费: find a case's fees (own cases for institution users; case number + party ID for anyone),
confirm the order, pay at the provider, receive the provider's signed notification.

The sandbox cashier (a stand-in provider that signs notifications for whoever reaches the case) is mounted
only with REGISTRY_SANDBOX=1; otherwise no page of the app can produce a notification the app accepts."""
from flask import abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app import rulebook
from app.extensions import csrf, db
from app.rulebook import markers
from app.services import holder_documents
from app.services import payment as payments
from app.services import pdf
from app.services.money import to_chinese_upper
from models import Case, CaseParty, Payment

from .downloads import file_response
from .public import _progress



def payable_clause():
    """Cases in a state their business's workflow marks payable (businesses grouped by their states)."""
    groups = {}
    for b in rulebook.all_businesses():
        groups.setdefault(tuple(markers.payable_states(b.workflow)), []).append(b.key)
    return or_(*(and_(Case.business_key.in_(keys), Case.node.in_(states)) for states, keys in groups.items()
                 if states)) if groups else Case.id.is_(None)


def case_within_reach(case_id):
    """Institution users reach their own cases through the scope; a real-name public user the cases they are
    a party of; others after proving number + party ID."""
    if case_id in session.get("pay_cases", []):
        return db.session.get(Case, case_id, execution_options={"skip_scope": True})
    if g.user.institution_id:
        return db.session.get(Case, case_id)
    mine = own_cases_clause()
    return db.session.scalar(select(Case).where(Case.id == case_id, mine).execution_options(skip_scope=True)) \
        if mine is not None else None


def own_cases_clause():
    """The cases a real-name public user is a party of (matched by the ID number checked at registration)."""
    me = holder_documents.is_party(g.user, CaseParty)
    return None if me is None else Case.id.in_(select(CaseParty.case_id).where(me))


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
        own, paid = [], []
        mine = own_cases_clause()
        if g.user.institution_id or mine is not None:
            # 待缴: the institution's own payable cases (the scope), or those a real-name person is a party of.
            due = select(Case).where(payable_clause()).options(selectinload(Case.payments))
            paid_q = select(Payment).where(Payment.status == "paid")
            if mine is not None:
                due = due.where(mine).execution_options(skip_scope=True)
                paid_q = paid_q.join(Case, Case.id == Payment.case_id).where(mine).execution_options(skip_scope=True)
            own = db.session.scalars(due.order_by(Case.submitted_at.desc()).limit(20)).all()
            # 已缴: the paid orders, online and offline.
            paid = db.session.scalars(paid_q.order_by(Payment.paid_at.desc()).limit(20)).all()
        rows = [(c, *payments.outstanding(c)) for c in ([found] if found else []) + [c for c in own if c != found]]
        from app.services import tax
        return self.render_template("payment/index.html", rows=rows, paid=paid, channels=payments.CHANNELS,
                                    taxed=lambda c: tax.summary(c) if tax.applies(rulebook.for_case(c)) else None)

    @expose("/order/<int:case_id>", methods=["POST"])
    @has_access
    def order(self, case_id):
        case = case_within_reach(case_id) or abort(404)
        if not markers.is_payable(rulebook.for_case(case).workflow, case.node):
            flash(_("The fees of this case cannot be paid at its current step"), "warning")
            return redirect(url_for(".index"))
        try:
            order = payments.create_order(case)
            db.session.commit()
            checkout = payments.adapter().checkout_url(order)
        except payments.PaymentError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(url_for(".index"))
        return redirect(checkout)

    @expose("/receipt/<int:payment_id>")
    @has_access
    def receipt(self, payment_id):
        """缴费凭证 (PDF): the lines the order was made of, each with its legal basis."""
        payment = db.session.scalar(select(Payment).where(Payment.id == payment_id, Payment.status == "paid")
                                    .execution_options(skip_scope=True)) or abort(404)
        case = case_within_reach(payment.case_id) or abort(404)
        business = rulebook.for_case(case)
        data = {"order_number": payment.order_number, "case_number": case.official_number or case.number,
                "paid_at": payment.paid_at.strftime("%Y-%m-%d %H:%M"), "payer": case.institution.name,
                "business": business.name.get(rulebook.current_locale()), "lines": payment.items,
                "amount": payment.amount, "amount_words": to_chinese_upper(payment.amount),
                "provider_ref": payment.provider_ref}
        return file_response(pdf.render("receipt.html", r=data), f"receipt-{payment.order_number}.pdf")

    @expose("/notify", methods=["POST"])
    def notify(self):
        """The provider's callback: proven by the adapter, applied once. The sandbox's form (with return=1) goes
        back to the payment page; the real provider gets the JSON answer of app/services/signing.py."""
        sandbox_form = isinstance(payments.adapter(), payments.SandboxPayment)
        back = sandbox_form and request.form.get("return") == "1"
        try:
            settled = payments.apply(payments.adapter().notified(request))
            db.session.commit()
        except payments.PaymentError as exc:
            db.session.rollback()
            current_app.logger.warning("payment notification refused: %s", exc)
            if back:
                flash(str(exc), "danger")
                return redirect(url_for(".index"))
            return (str(exc), 400) if sandbox_form else (jsonify(code="FAIL", message=str(exc)), 400)
        if back:
            flash(_("Payment of %(amount)s yuan received for order %(order)s", amount=settled.amount,
                    order=settled.order_number), "success")
            return redirect(url_for(".index"))
        return "success" if sandbox_form else jsonify(code="OK", message="success")


class PublicServiceSandboxCashierView(BaseView):
    """The sandbox provider's cashier (REGISTRY_SANDBOX=1 only): pick a channel and pay; it answers with a
    signed notification for the payer's browser to post back, as a provider's server would."""
    route_base = "/pay/sandbox"
    default_view = "cashier"

    @expose("/<order>", methods=["GET", "POST"])
    @has_access
    def cashier(self, order):
        payment = db.session.scalar(select(Payment).where(Payment.order_number == order)
                                    .execution_options(skip_scope=True)) or abort(404)
        if case_within_reach(payment.case_id) is None:
            abort(404)
        notification = None
        if request.method == "POST" and payment.status == "pending":
            notification = payments.SandboxPayment().notification(payment, request.form.get("channel", "wechat"))
        return self.render_template("payment/sandbox.html", payment=payment, notification=notification)


class OfflinePaymentView(BaseView):
    """线下缴费登记: the registry records fees paid at the counter (cash, POS) against a case's outstanding
    amount; the order is paid through the offline channel and audited like every payment."""
    route_base = "/pay/offline"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        case = found_rows = None
        number = (request.values.get("number") or "").strip()
        if number:
            case = payments.case_by_number(number)
            if case is None:
                flash(_("No case has that number"), "warning")
        if request.method == "POST" and case is not None and request.form.get("receipt_number") is not None:
            try:
                payment = payments.record_offline(case, request.form.get("amount"), request.form.get("receipt_number"))
                db.session.commit()
                flash(_("Offline payment of %(amount)s yuan recorded for order %(order)s", amount=payment.amount,
                        order=payment.order_number), "success")
                return redirect(url_for(".index"))
            except payments.PaymentError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        if case is not None:
            found_rows = payments.outstanding(case)
        recent = db.session.scalars(select(Payment).where(Payment.channel == "offline")
                                    .order_by(Payment.paid_at.desc()).limit(20)).all()
        return self.render_template("payment/offline.html", case=case, due=found_rows, recent=recent)


def register(appbuilder):
    appbuilder.add_view(PublicServicePaymentView, "Payment", label=_l("Online payment"), icon="fa-credit-card",
                        category="Query")
    csrf.exempt(PublicServicePaymentView.notify)
    appbuilder.add_view(OfflinePaymentView, "OfflinePayment", label=_l("Offline payment registration"),
                        icon="fa-money", category="Office")
    if current_app.config.get("SANDBOX"):
        appbuilder.add_view_no_menu(PublicServiceSandboxCashierView)
