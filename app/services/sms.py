"""SMS: an adapter interface and the local outbox implementation used in the demo.
Verification codes (hashed, capped, never readable) are app/services/verification.py.

The real gateway adapter implements `send(phone, body, purpose)` against the operator's HTTP API
(POST JSON {phone, template, params}; 2xx means accepted) and is selected with REGISTRY_SMS_ADAPTER.
The local adapter stores each message in SmsMessage, readable on the SMS outbox page.
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


def adapter():
    return OutboxSms()
