"""Verification codes sent by SMS (registration, password reset, party confirmation).

Nobody can read a code once it is sent:
- the code is stored only as a keyed hash (HMAC-SHA256 under SECRET_KEY) with an expiry and a cap on tries;
- the message handed to the SMS adapter is a CodeBody: the phone receives the code, but any outbox record
  of it keeps the code masked (models/messaging.SmsMessage); in sandbox mode the code is also sealed
  (encrypted under a key derived from SECRET_KEY) so that the Admin, and only the Admin, can read it on
  the sandbox outbox page;
- sends are capped per phone and purpose (and per subject, e.g. one case party): one per
  REGISTRY_CODE_RESEND_SECONDS, REGISTRY_CODE_SENDS_PER_HOUR an hour, REGISTRY_CODE_SENDS_PER_DAY a day.
"""
import base64
import datetime as dt
import hmac
import secrets
from hashlib import sha256

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app import roles, settings
from app.extensions import db
from models import OneTimeCode, messaging
from models.base import utcnow

MASK = "******"


class CodeError(ValueError):
    """A wrong, expired or exhausted code, or one sent too often; str() is the user-facing message."""


def _hash(code: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), code.encode(), sha256).hexdigest()


def _fernet() -> Fernet:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"sms-outbox-seal", sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class CodeBody(str):
    """A message text with a code in it. As a str it is the text the phone receives; `masked` is the same
    text with the code hidden, and `sealed()` the code encrypted for the sandbox outbox (None otherwise)."""

    def __new__(cls, template: str, code: str, **params):
        text = str.__new__(cls, template % {**params, "code": code})
        text.code = code
        text.masked = template % {**params, "code": MASK}
        return text

    def sealed(self):
        if not current_app.config.get("SANDBOX"):
            return None
        return _fernet().encrypt(self.code.encode()).decode()


def reveal(message) -> str:
    """The sealed code of an outbox message (sandbox only), or None."""
    if not message.sealed_code or not current_app.config.get("SANDBOX"):
        return None
    try:
        return _fernet().decrypt(message.sealed_code.encode()).decode()
    except InvalidToken:  # sealed under another SECRET_KEY
        return None


def outbox_text(message) -> str:
    """The body as the signed-in user may read it: the code only for an Admin in sandbox mode."""
    from flask_login import current_user
    code = reveal(message)
    if code and current_user.is_authenticated and roles.ADMIN in roles.role_names(current_user):
        return message.body.replace(MASK, code, 1)
    return message.body


messaging.TEXT_READER[:] = [outbox_text]  # SmsMessage.text


def _sent_since(phone, purpose, subject, since):
    who = or_(OneTimeCode.phone == phone, OneTimeCode.subject == subject) if subject else OneTimeCode.phone == phone
    return db.session.scalar(select(func.count(OneTimeCode.id)).where(
        OneTimeCode.purpose == purpose, who, OneTimeCode.created_at > since))


def check_send_allowed(phone: str, purpose: str, subject: str = None) -> None:
    """Raise CodeError when one more code to this phone (or subject) for this purpose would be too many."""
    config, now = settings.config, utcnow()  # the console's SMS caps (参数设置), else config.py
    gap = config("REGISTRY_CODE_RESEND_SECONDS")
    if gap and _sent_since(phone, purpose, subject, now - dt.timedelta(seconds=gap)):
        raise CodeError(_("A code was sent less than %(n)d seconds ago; please wait before asking again", n=gap))
    per_hour = config("REGISTRY_CODE_SENDS_PER_HOUR")
    if _sent_since(phone, purpose, subject, now - dt.timedelta(hours=1)) >= per_hour:
        raise CodeError(_("At most %(n)d codes an hour can be sent to this number; please try again later",
                          n=per_hour))
    per_day = config("REGISTRY_CODE_SENDS_PER_DAY")
    if _sent_since(phone, purpose, subject, now - dt.timedelta(days=1)) >= per_day:
        raise CodeError(_("At most %(n)d codes a day can be sent to this number; please try again tomorrow",
                          n=per_day))


def send_code(phone: str, purpose: str, subject: str = None, body_template: str = None, **params) -> None:
    """Send a 6-digit code by SMS, within the send caps (else CodeError). Earlier unused codes stop working.
    body_template is %-formatted with code, minutes and params."""
    from app.services import sms
    check_send_allowed(phone, purpose, subject)
    for old in db.session.scalars(select(OneTimeCode).where(
            OneTimeCode.phone == phone, OneTimeCode.purpose == purpose, OneTimeCode.subject == subject,
            OneTimeCode.used_at.is_(None))):
        old.used_at = utcnow()
    minutes = current_app.config["REGISTRY_CODE_MINUTES"]
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(OneTimeCode(phone=phone, purpose=purpose, subject=subject, code_hash=_hash(code),
                               expires_at=utcnow() + dt.timedelta(minutes=minutes),
                               tries_left=current_app.config["REGISTRY_CODE_TRIES"]))
    template = body_template or _("Your verification code is %(code)s, valid for %(minutes)d minutes.")
    try:
        sms.adapter().send(phone, CodeBody(template, code, minutes=minutes, **params), purpose)
    except sms.SmsError as exc:  # the gateway refused: the pages show the reason like any code problem
        raise CodeError(str(exc)) from None


def verify_code(phone: str, purpose: str, code: str, subject: str = None) -> None:
    """Accept the code once; each wrong try uses one of the limited tries. Raises CodeError."""
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


# Accounts whose password only the administrator resets: a phone is too weak a key to the register.
STAFF_ROLES = frozenset({roles.ADMIN, roles.REVIEWER, roles.CONFIGURATOR})


def may_reset_by_sms(user) -> bool:
    return not roles.role_names(user) & STAFF_ROLES
