"""Registration fee payment (在线缴费): an adapter interface and the local sandbox used in the demo.

Contract of a payment adapter (a real one wraps WeChat Pay / Alipay / UnionPay):
- `checkout_url(payment) -> str`: where the payer's browser goes to pay the order.
- `verify(fields: dict) -> bool`: whether a notification really comes from the provider.
The provider then calls back (POST /pay/notify) with order_number, amount, provider_ref, status and
a signature. `settle()` applies a verified notification idempotently: the same provider_ref twice
changes nothing, an amount that differs from the order is refused.

The sandbox provider is our own cashier page (/pay/sandbox/<order>): the payer picks a channel and
confirms; the page posts a notification signed with HMAC-SHA256 under REGISTRY_PAYMENT_SECRET,
exactly as a provider's server would.
"""
import hashlib
import hmac
import secrets
from decimal import Decimal

from flask import current_app, url_for
from sqlalchemy import select

from app import rulebook
from app.extensions import db
from app.services import numbering
from app.services.workflow import fees_due
from models import Payment
from models.base import utcnow

FIELDS = ("order_number", "amount", "provider_ref", "status")


class PaymentError(ValueError):
    """A refused payment action; str() is the user-facing message."""


def _signature(fields: dict) -> str:
    message = "|".join(str(fields.get(k, "")) for k in FIELDS).encode()
    return hmac.new(current_app.config["PAYMENT_SECRET"].encode(), message, hashlib.sha256).hexdigest()


class SandboxPayment:
    def checkout_url(self, payment):
        return url_for("PublicServicePaymentView.sandbox", order=payment.order_number)

    def sign(self, fields: dict) -> dict:
        return {**fields, "signature": _signature(fields)}

    def verify(self, fields: dict) -> bool:
        return hmac.compare_digest(_signature(fields), str(fields.get("signature", "")))

    def notification(self, payment, channel):
        return self.sign({"order_number": payment.order_number, "amount": str(payment.amount),
                          "provider_ref": f"{channel.upper()}-{secrets.token_hex(8)}", "status": "paid"})


def adapter():
    return SandboxPayment()


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
    """Apply a provider notification. Raises PaymentError for a forged, unknown or mismatched one."""
    from flask_babel import gettext as _
    if not adapter().verify(fields):
        raise PaymentError(_("The payment notification signature is invalid"))
    payment = db.session.scalar(select(Payment).where(Payment.order_number == fields.get("order_number"))
                                .execution_options(skip_scope=True))
    if payment is None:
        raise PaymentError(_("Unknown payment order"))
    if payment.status == "paid":
        return payment  # providers repeat notifications; the first one counted
    if Decimal(str(fields.get("amount"))) != payment.amount:
        raise PaymentError(_("The paid amount does not match the order"))
    if fields.get("status") != "paid":
        raise PaymentError(_("The payment was not completed"))
    payment.status, payment.provider_ref, payment.paid_at = "paid", fields["provider_ref"], utcnow()
    return payment
