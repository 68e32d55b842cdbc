"""SMS: an adapter interface, the real gateway adapter and the local outbox used in the demo.
Verification codes (hashed, capped, never readable) are app/services/verification.py.

An adapter implements `send(phone, body, purpose)`; a message that cannot be delivered raises SmsError
(never a silent no-op). REGISTRY_SMS_ADAPTER chooses (app/services/outside.py):

- "http", GatewaySms: the SMS gateway's signed JSON API (signature scheme: app/services/signing.py)
      POST {REGISTRY_SMS_URL}/v1/messages  {"phone": "13800000000", "content": "<text>", "purpose": "<purpose>"}
      answer {"code": "OK", "message": "...", "data": {"message_id": "<gateway id>"}}; any other code, an
      unsigned answer or an unreachable gateway is an error. The delivery is logged in SmsMessage without its
      text (a code must not be readable by anyone), with the gateway's message id.
- "sandbox", OutboxSms (REGISTRY_SANDBOX=1 only): each message, text included, lands in SmsMessage,
      readable on the SMS outbox page.
"""
from app.extensions import db
from models import SmsMessage


class OutboxSms:
    """Writes messages to the outbox table instead of a gateway (demo and tests)."""

    def send(self, phone: str, body: str, purpose: str) -> SmsMessage:
        msg = SmsMessage(phone=phone, body=body, purpose=purpose, status="sent")
        db.session.add(msg)
        db.session.flush()
        return msg


class SmsError(RuntimeError):
    """The gateway did not accept a message; str() is the user-facing message."""


class GatewaySms:
    """The real SMS gateway (protocol in the module docstring)."""

    def send(self, phone: str, body: str, purpose: str) -> SmsMessage:
        from flask_babel import gettext as _

        from app.services import signing
        try:
            data = signing.call("SMS", "/v1/messages", {"phone": phone, "content": body, "purpose": purpose})
        except signing.ServiceError as exc:
            raise SmsError(_("The SMS could not be sent: %(reason)s", reason=exc)) from None
        msg = SmsMessage(phone=phone, purpose=purpose, status="sent",
                         body=_("Sent through the SMS gateway (message %(id)s); the text is not kept",
                                id=str(data.get("message_id") or "")[:80]))
        db.session.add(msg)
        db.session.flush()
        return msg


def adapter():
    from app.services import outside
    return OutboxSms() if outside.selected("SMS") == "sandbox" else GatewaySms()
