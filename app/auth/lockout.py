"""Lockout after repeated failures. FAB counts fail_login_count but never locks; we do.

REGISTRY_LOCKOUT_FAILURES consecutive failures lock the account for REGISTRY_LOCKOUT_MINUTES.
The forgot-password flow (SMS code) unlocks it at once.
"""
import datetime as dt

from flask import current_app
from flask_babel import format_datetime, gettext as _

from models.base import utcnow

from . import LoginRefused


def locked_message(user) -> str:
    return _("This account is locked after %(n)d failed sign-ins until %(when)s. "
             "Wait until then, or use \"Forgot password\" to reset the password by SMS and unlock it.",
             n=current_app.config["REGISTRY_LOCKOUT_FAILURES"],
             when=format_datetime(user.locked_until.replace(tzinfo=dt.timezone.utc), "yyyy-MM-dd HH:mm"))


def check_not_locked(user) -> None:
    """Refuse while the lock lasts; an expired lock is lifted and the count starts again."""
    if user.locked_until is None:
        return
    if user.locked_until > utcnow():
        raise LoginRefused(locked_message(user))
    user.locked_until = None
    user.fail_login_count = 0


def register_failure(user) -> bool:
    """Count one failure; lock when the limit is reached. True when this failure locked the account."""
    user.fail_login_count = (user.fail_login_count or 0) + 1
    if user.fail_login_count >= current_app.config["REGISTRY_LOCKOUT_FAILURES"]:
        user.locked_until = utcnow() + dt.timedelta(minutes=current_app.config["REGISTRY_LOCKOUT_MINUTES"])
        return True
    return False


def unlock(user) -> None:
    user.locked_until = None
    user.fail_login_count = 0
