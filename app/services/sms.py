"""SMS: an adapter interface, the real gateway adapter, the local outbox used in the demo, and one-time codes.

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
import datetime as dt
import hmac
import secrets
from hashlib import sha256

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from models import OneTimeCode, SmsMessage
from models.base import utcnow


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


def _hash(code: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), code.encode(), sha256).hexdigest()


class CodeError(ValueError):
    """A wrong, expired or exhausted code; str() is the user-facing message."""


def send_code(phone: str, purpose: str, subject: str = None, body_template: str = None,
              minutes: int = 5, tries: int = 5) -> None:
    """Send a 6-digit code by SMS; only its keyed hash is stored. Earlier unused codes stop working."""
    from flask_babel import gettext as _
    for old in db.session.scalars(select(OneTimeCode).where(
            OneTimeCode.phone == phone, OneTimeCode.purpose == purpose, OneTimeCode.subject == subject,
            OneTimeCode.used_at.is_(None))):
        old.used_at = utcnow()
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(OneTimeCode(phone=phone, purpose=purpose, subject=subject, code_hash=_hash(code),
                               expires_at=utcnow() + dt.timedelta(minutes=minutes), tries_left=tries))
    body = (body_template or _("Your verification code is %(code)s, valid for %(minutes)d minutes.")) % {
        "code": code, "minutes": minutes}
    adapter().send(phone, body, purpose)


def verify_code(phone: str, purpose: str, code: str, subject: str = None) -> None:
    """Accept the code once; each wrong try uses one of the limited tries. Raises CodeError."""
    from flask_babel import gettext as _
    otp = db.session.scalar(select(OneTimeCode).where(
        OneTimeCode.phone == phone, OneTimeCode.purpose == purpose, OneTimeCode.subject == subject,
        OneTimeCode.used_at.is_(None)).order_by(OneTimeCode.id.desc()).limit(1))
    if otp is None:
        raise CodeError(_("No verification code was sent to this number; please request one"))
    if otp.expires_at < utcnow():
        raise CodeError(_("The verification code has expired; please request a new one"))
    if otp.tries_left <= 0:
        raise CodeError(_("Too many wrong codes; please request a new one"))
    if not hmac.compare_digest(otp.code_hash, _hash((code or "").strip())):
        otp.tries_left -= 1
        db.session.commit()
        raise CodeError(_("The verification code is wrong (%(left)d tries left)", left=otp.tries_left))
    otp.used_at = utcnow()
