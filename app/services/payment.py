"""Registration fee payment (在线缴费): the adapter interface, the real provider adapter and the local sandbox.

Contract of a payment adapter (REGISTRY_PAYMENT_ADAPTER chooses, app/services/outside.py):
- `checkout_url(payment) -> str`: where the payer's browser goes to pay the order.
- `notified(request) -> dict`: the fields of a provider notification (POST /pay/notify) once proven to come
  from the provider; raises PaymentError otherwise.
- `verify(fields: dict) -> bool`: whether a bare dict of fields is proof by itself (the sandbox's form posts).
`apply()` then applies the fields order_number, amount, currency, provider_ref, status: the order must exist,
the currency be CNY, the amount equal the order's, the status be "paid"; a repeat of the same transaction
changes nothing, anything else is refused and changes nothing.

"http", HttpPayment: the provider's signed JSON API (signature scheme, freshness and nonce rules:
app/services/signing.py):
    create order  POST {REGISTRY_PAYMENT_URL}/v1/orders
                  {"order_number": "...", "amount": "160.00", "currency": "CNY", "description": "...",
                   "notify_url": "https://<registry>/pay/notify"}
                  answer data {"order_number": "...", "checkout_url": "https://..."}; the provider treats the same
                  order_number with the same amount as the same order (asking twice is harmless).
    notify        the provider POSTs to notify_url, signed, JSON {"order_number", "provider_ref", "amount",
                  "currency": "CNY", "status": "paid"}; a stale timestamp, a reused nonce, a bad signature, an
                  unknown order or a different amount or currency is refused (HTTP 400, nothing changes);
                  accepted ones, and repeats of an accepted one, are answered {"code": "OK"}.
"sandbox", SandboxPayment (REGISTRY_SANDBOX=1 only): our own cashier page (/pay/sandbox/<order>, mounted only
then): the payer picks a channel and confirms; the page posts a form notification signed with HMAC-SHA256
under REGISTRY_PAYMENT_SECRET. The real adapter never accepts such a form.
"""
import hashlib
import hmac
import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import rulebook
from app.extensions import db
from app.services import numbering
from app.rulebook.workflow import fees_due
from models import Payment
from models.base import utcnow

CHANNELS = {"online": _l("Online"), "offline": _l("Offline")}
FIELDS = ("order_number", "amount", "currency", "provider_ref", "status")
CURRENCY = "CNY"


class PaymentError(ValueError):
    """A refused payment action; str() is the user-facing message."""


def _signature(fields: dict) -> str:
    message = "|".join(str(fields.get(k, "")) for k in FIELDS).encode()
    return hmac.new(current_app.config["PAYMENT_SECRET"].encode(), message, hashlib.sha256).hexdigest()


class SandboxPayment:
    def checkout_url(self, payment):
        return url_for("PublicServiceSandboxCashierView.cashier", order=payment.order_number)

    def sign(self, fields: dict) -> dict:
        return {**fields, "signature": _signature(fields)}

    def verify(self, fields: dict) -> bool:
        return hmac.compare_digest(_signature(fields), str(fields.get("signature", "")))

    def notified(self, request) -> dict:
        from flask_babel import gettext as _
        fields = request.form.to_dict()
        if not self.verify(fields):
            raise PaymentError(_("The payment notification signature is invalid"))
        return fields

    def notification(self, payment, channel):
        return self.sign({"order_number": payment.order_number, "amount": str(payment.amount), "currency": CURRENCY,
                          "provider_ref": f"{channel.upper()}-{secrets.token_hex(8)}", "status": "paid"})


class HttpPayment:
    """The real payment provider (protocol in the module docstring)."""

    def checkout_url(self, payment):
        from flask_babel import gettext as _

        from app.services import signing
        notify_url = current_app.config["PAYMENT_NOTIFY_URL"] or url_for("PublicServicePaymentView.notify",
                                                                          _external=True)
        try:
            data = signing.call("PAYMENT", "/v1/orders", {
                "order_number": payment.order_number, "amount": str(payment.amount), "currency": CURRENCY,
                "description": _("Registration fees of case %(number)s", number=payment.case.number),
                "notify_url": notify_url})
        except signing.ServiceError as exc:
            raise PaymentError(str(exc)) from None
        url = str(data.get("checkout_url") or "")
        if data.get("order_number") != payment.order_number or urlsplit(url).scheme not in ("https", "http"):
            raise PaymentError(_("The payment provider gave no usable checkout address"))
        return url

    def verify(self, fields: dict) -> bool:
        return False  # a bare dict proves nothing: only a signed request from the provider does (notified)

    def notified(self, request) -> dict:
        from app.services import signing
        try:
            return signing.receive("PAYMENT", request)
        except signing.NotificationRefused as exc:
            raise PaymentError(str(exc)) from None


def adapter():
    from app.services import outside
    return SandboxPayment() if outside.selected("PAYMENT") == "sandbox" else HttpPayment()


def outstanding(case):
    """(fee lines, total due, total paid) for a case, by its rules version."""
    lines, total = fees_due(case, rulebook.for_case(case))
    paid = sum((p.amount for p in case.payments if p.status == "paid"), Decimal("0.00"))
    return lines, total, paid


def create_order(case) -> Payment:
    """An order for what is still due; an unpaid order for the same amount is reused, not duplicated."""
    from flask_babel import gettext as _
    lines, total, paid = outstanding(case)
    due = total - paid
    if due <= 0:
        raise PaymentError(_("Nothing is due for this case"))
    for p in case.payments:
        if p.status == "pending" and p.amount == due:
            return p
    payment = Payment(order_number=numbering.payment_order_number(), institution_id=case.institution_id,
                      amount=due, status="pending", items=[{**line, "amount": str(line["amount"])} for line in lines])
    case.payments.append(payment)
    db.session.flush()
    return payment


def settle(fields: dict) -> Payment:
    """Apply a notification given as a signed dict (the sandbox's). Raises PaymentError."""
    from flask_babel import gettext as _
    if not adapter().verify(fields):
        raise PaymentError(_("The payment notification signature is invalid"))
    return apply(fields)


def apply(fields: dict) -> Payment:
    """Apply the fields of a proven notification. Raises PaymentError for an unknown or mismatched one."""
    from flask_babel import gettext as _
    payment = db.session.scalar(select(Payment).where(Payment.order_number == str(fields.get("order_number")))
                                .execution_options(skip_scope=True))
    if payment is None:
        raise PaymentError(_("Unknown payment order"))
    if fields.get("currency") != CURRENCY:
        raise PaymentError(_("The payment currency is not renminbi"))
    try:
        amount = Decimal(str(fields.get("amount")))
    except InvalidOperation:
        amount = None
    if amount != payment.amount:
        raise PaymentError(_("The paid amount does not match the order"))
    if fields.get("status") != "paid":
        raise PaymentError(_("The payment was not completed"))
    ref = str(fields.get("provider_ref") or "")[:80]
    if payment.status == "paid" and payment.provider_ref == ref:
        return payment  # providers repeat notifications; the first one counted
    if payment.status != "pending" or not ref:
        raise PaymentError(_("The order is not waiting for payment"))
    if db.session.scalar(select(Payment.id).where(Payment.provider_ref == ref).execution_options(skip_scope=True)):
        raise PaymentError(_("This transaction already paid another order"))
    payment.status, payment.provider_ref, payment.paid_at = "paid", ref, utcnow()
    return payment


def case_by_number(number):
    """A case by its application number or its acceptance number (registry staff: unconfined)."""
    number = (number or "").strip()[:40]
    from models import Case
    return db.session.scalar(select(Case).where(Case.number == number)) or \
        db.session.scalar(select(Case).where(Case.official_number == number))


def record_offline(case, amount, receipt_number) -> Payment:
    """线下缴费登记: what is due, paid at the counter, with the receipt (票据) number; audited."""
    from flask_babel import gettext as _

    from app import audit
    receipt_number = " ".join((receipt_number or "").split())[:60]
    if len(receipt_number) < 4:
        raise PaymentError(_("Enter the receipt number of the offline payment"))
    try:
        amount = Decimal(str(amount or "").strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise PaymentError(_("Enter the amount paid in yuan, e.g. 80.00")) from None
    lines, total, paid = outstanding(case)
    due = total - paid
    if due <= 0:
        raise PaymentError(_("Nothing is due for this case"))
    if amount != due:
        raise PaymentError(_("The amount paid must equal the amount due (%(due)s yuan)", due=due))
    ref = f"OFFLINE-{receipt_number}"
    if db.session.scalar(select(Payment.id).where(Payment.provider_ref == ref).execution_options(skip_scope=True)):
        raise PaymentError(_("This receipt number has already been recorded"))
    for p in case.payments:  # an online order left pending for the same fees is replaced by the counter payment
        if p.status == "pending":
            p.status = "cancelled"
    payment = Payment(order_number=numbering.payment_order_number(), institution_id=case.institution_id,
                      amount=due, status="paid", channel="offline", provider_ref=ref, paid_at=utcnow(),
                      items=[{**line, "amount": str(line["amount"])} for line in lines])
    case.payments.append(payment)
    db.session.flush()
    audit.record(db.session, "offline_payment", "Payment", payment.id, institution_id=case.institution_id,
                 summary=f"{case.official_number or case.number} {payment.order_number} {due} {receipt_number}"[:300])
    return payment
