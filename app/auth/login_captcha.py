"""The image code on the sign-in form (参数设置 "ask for an image code after N failed sign-ins").

It is asked when the account named, or the client address, has N failed sign-ins (the account's
count in a row, or the address's within the lock time), and from then on in that browser session
until a sign-in succeeds. A wrong or missing code refuses the attempt before the password is checked
and does not count as a failed sign-in (it is no guess at the password)."""
import datetime as dt

from flask import current_app, request, session
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import captcha, settings
from app.extensions import db
from models import AuditLog
from models.base import utcnow

from . import LoginRefused, lockout

PURPOSE = "login"
SESSION_FLAG = "_login_captcha"


def threshold() -> int:
    return settings.get("login_captcha_after") or 0


def failures_from_address(ip, limit) -> int:
    """Failed sign-ins from this client address within the lock time, counted up to limit."""
    if not ip:
        return 0
    since = utcnow() - dt.timedelta(minutes=settings.get("lockout_minutes"))
    recent = (select(AuditLog.id).where(AuditLog.action == "login_failed", AuditLog.at >= since, AuditLog.ip == ip)
              .limit(limit).execution_options(skip_scope=True).subquery())
    return db.session.scalar(select(func.count()).select_from(recent))


def _account_failures(username) -> int:
    user = current_app.appbuilder.sm.find_login_user(username)
    record = user if user is not None else lockout.Phantom(username)
    return record.fail_login_count or 0


def required(username=None) -> bool:
    """Must this sign-in (of username, when known) carry the image code?"""
    n = threshold()
    if not n:
        return False
    if session.get(SESSION_FLAG) or failures_from_address(request.remote_addr, n) >= n:
        return True
    return bool(username) and _account_failures(username) >= n


def check(username, answer) -> None:
    """Before the password: refuse (LoginRefused) when the code is required and wrong or missing."""
    if not required(username):
        return
    session[SESSION_FLAG] = True
    if not captcha.check(PURPOSE, answer):
        raise LoginRefused(_("Enter the characters shown in the image (after repeated failed sign-ins)"))


def after_failure(username) -> None:
    """A refused sign-in: ask for the code from now on in this session if the threshold is reached."""
    if threshold() and required(username):
        session[SESSION_FLAG] = True
