"""SMS: an adapter interface, the local outbox implementation used in the demo, and one-time codes.

The real gateway adapter implements `send(phone, body, purpose)` against the operator's HTTP API
(POST JSON {phone, template, params}; 2xx means accepted) and is selected with REGISTRY_SMS_ADAPTER.
The local adapter stores each message in SmsMessage, readable on the SMS outbox page.
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


def adapter():
    return OutboxSms()


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
