"""Lockout and progressive delay after repeated sign-in failures. FAB counts fail_login_count but never
locks; we do, without letting an outsider use the lock to shut the owner out.

Per account name (app/security.py password_login):
- REGISTRY_LOCKOUT_FAILURES failures in a row lock it for REGISTRY_LOCKOUT_MINUTES;
- before that, each failure beyond REGISTRY_LOGIN_DELAY_AFTER makes it refuse attempts for
  REGISTRY_LOGIN_DELAY_SECONDS, doubling each time (a "not before" time, never a sleeping worker);
- attempts refused by the lock or the delay do not count.
Who the lock binds: a correct password from a place (client IP) this account signed in from within
REGISTRY_LOGIN_KNOWN_SOURCE_DAYS still signs in and lifts the lock, so failures sent from elsewhere
cannot keep the owner out of their usual office. From any other place a correct password is refused
like a wrong one until the lock ends, the owner resets the password by SMS (忘记密码), or an
administrator unlocks the account (audited). The per-IP request limits (app/limits.py) bind everyone.

Names without an account get the same counting, delay and lock from a record kept in the request
limiter's storage (Phantom), so neither the messages nor their sequence tell which accounts exist.
The forgot-password flow (SMS code) unlocks at once.
"""
import calendar
import datetime as dt
import hashlib
import math

from flask import current_app, request
from flask_babel import format_datetime, gettext as _
from sqlalchemy import func, select, update

from app import settings
from app.extensions import db
from models.base import utcnow

from . import LoginRefused

PHANTOM_SECONDS = 24 * 3600  # how long a name without an account remembers its failures


def _cfg(key):
    return settings.config(key)  # the console's 参数设置 first (app/settings.py), then config.py


def delay_enabled() -> bool:
    """The delay is a throttle like the request limits and follows their switch."""
    return bool(current_app.config.get("REGISTRY_RATELIMIT_ENABLED", True)) and _cfg("REGISTRY_LOGIN_DELAY_SECONDS") > 0


def format_until(when) -> str:
    """A naive UTC time as the users' clock shows it (Flask-Babel's time zone)."""
    return format_datetime(when.replace(tzinfo=dt.timezone.utc), "yyyy-MM-dd HH:mm")


def locked_message(record) -> str:
    return _("This account is locked after %(n)d failed sign-ins until %(when)s. "
             "Wait until then, or use \"Forgot password\" to reset the password by SMS and unlock it.",
             n=_cfg("REGISTRY_LOCKOUT_FAILURES"), when=format_until(record.locked_until))


def _seconds_left(record) -> int:
    return max(1, math.ceil((record.locked_until - utcnow()).total_seconds()))


def wait_message(record) -> str:
    return _("Too many failed sign-ins: please try again in %(n)d seconds.", n=_seconds_left(record))


def is_locked(record) -> bool:
    """Locked or delayed right now."""
    return record.locked_until is not None and record.locked_until > utcnow()


def check_not_locked(record) -> None:
    """Refuse while the lock or the delay lasts; an expired lock is lifted and the count starts again
    (an expired delay keeps the count, so the next failure waits longer)."""
    if record.locked_until is None:
        return
    if record.locked_until > utcnow():
        if (record.fail_login_count or 0) >= _cfg("REGISTRY_LOCKOUT_FAILURES"):
            raise LoginRefused(locked_message(record), reason="locked")
        raise LoginRefused(wait_message(record), reason="delayed")
    if (record.fail_login_count or 0) >= _cfg("REGISTRY_LOCKOUT_FAILURES"):
        record.fail_login_count = 0
    record.locked_until = None


def _whole_seconds(when):
    # A Phantom stores whole seconds; accounts do the same so their waits read alike.
    return when.replace(microsecond=0) + dt.timedelta(seconds=1)


def _count_failure(record) -> int:
    """The failure count after this one. An account's is incremented in the database, in one statement
    whose row lock lasts until the sign-in's commit: guesses sent together (other threads, other
    instances) each count and wait for one another, instead of all reading the same count and writing
    the same "+1" (ten guesses counted as two, the lock never reached)."""
    if isinstance(record, Phantom):
        return record.count_failure()
    model = type(record)
    db.session.flush()  # a lifted expired lock (count back to 0) first
    return db.session.execute(
        update(model).where(model.id == record.id)
        .values(fail_login_count=func.coalesce(model.fail_login_count, 0) + 1)
        .returning(model.fail_login_count).execution_options(synchronize_session=False)).scalar_one()


def register_failure(record) -> bool:
    """Count one failure; lock at the limit, delay beyond REGISTRY_LOGIN_DELAY_AFTER. True when locked."""
    record.fail_login_count = n = _count_failure(record)
    if n >= _cfg("REGISTRY_LOCKOUT_FAILURES"):
        record.locked_until = _whole_seconds(utcnow() + dt.timedelta(minutes=_cfg("REGISTRY_LOCKOUT_MINUTES")))
        return True
    after = _cfg("REGISTRY_LOGIN_DELAY_AFTER")
    if delay_enabled() and n > after:
        record.locked_until = _whole_seconds(
            utcnow() + dt.timedelta(seconds=_cfg("REGISTRY_LOGIN_DELAY_SECONDS") * 2 ** (n - after - 1)))
    return False


def failure_message(record) -> str:
    """What a wrong password (or an unknown name) is told after register_failure()."""
    if is_locked(record) and record.fail_login_count >= _cfg("REGISTRY_LOCKOUT_FAILURES"):
        return locked_message(record)
    left = _cfg("REGISTRY_LOCKOUT_FAILURES") - record.fail_login_count
    message = _("Invalid login. Please try again.") + " " + _("%(n)d more failures will lock the account.", n=left)
    if is_locked(record):
        message += " " + wait_message(record)
    return message


def unlock(record) -> None:
    record.locked_until = None
    record.fail_login_count = 0


def known_source(user) -> bool:
    """Has this account signed in from the requesting client's IP within REGISTRY_LOGIN_KNOWN_SOURCE_DAYS?
    Read from the audit log's sign-in entries (durable, shared by every instance)."""
    from models import AuditLog
    ip = request.remote_addr if request else None
    if not ip or user is None or user.id is None:
        return False
    since = utcnow() - dt.timedelta(days=_cfg("REGISTRY_LOGIN_KNOWN_SOURCE_DAYS"))
    found = db.session.scalar(select(AuditLog.id).where(
        AuditLog.username == user.username, AuditLog.action == "login", AuditLog.object_type == "Operator",
        AuditLog.object_id == str(user.id), AuditLog.ip == ip, AuditLog.at >= since).limit(1)
        .execution_options(skip_scope=True))
    return found is not None


class Phantom:
    """The failure record of a name that has no account, in the request limiter's storage (shared by
    the instances when that is Redis), with the attributes lockout reads on an account.

    Like an account's, the count grows in one step (the storage's INCR), so guesses at one name sent
    together to several instances all count and lock it as they would lock an account (otherwise a
    burst would tell which names exist). The lock or delay a failure sets is kept under a key of that
    failure's own count, which only the request that reached the count writes."""

    def __init__(self, name: str):
        from app.extensions import limiter
        self._storage = limiter.storage
        digest = hashlib.sha256((name or "").strip().lower().encode()).hexdigest()[:32]
        self._key = f"registry:phantom:{digest}"
        self.fail_login_count, self.locked_until, self._stored = 0, None, 0
        try:
            self._stored = self.fail_login_count = int(self._storage.get(f"{self._key}:n") or 0)
            until = int(self._storage.get(self._until_key(self.fail_login_count)) or 0) if self._stored else 0
        except Exception:  # storage down: counted as a fresh name (the request limits fail the same way)
            current_app.logger.exception("rate-limit storage unavailable for a sign-in record")
            return
        self.locked_until = dt.datetime.fromtimestamp(until, dt.timezone.utc).replace(tzinfo=None) if until else None

    def _until_key(self, count):
        return f"{self._key}:until:{count}"

    def count_failure(self) -> int:
        """The count after this failure, added in the storage."""
        try:
            if self._stored and not self.fail_login_count:  # an expired lock was lifted: the count starts again
                self._storage.clear(f"{self._key}:n")
            return int(self._storage.incr(f"{self._key}:n", PHANTOM_SECONDS))
        except Exception:
            current_app.logger.exception("rate-limit storage unavailable for a sign-in record")
            return self.fail_login_count + 1

    def save(self) -> None:
        """Keep the lock or delay this failure set (the count is already stored). It is remembered as long
        as the count, beyond its end: an ended lock is then lifted and the count starts again, as on an
        account, rather than the next failure locking again."""
        if self.locked_until is None or self.locked_until <= utcnow():
            return
        key = self._until_key(self.fail_login_count)
        try:
            self._storage.clear(key)
            self._storage.incr(key, PHANTOM_SECONDS, amount=calendar.timegm(self.locked_until.timetuple()))
        except Exception:
            current_app.logger.exception("rate-limit storage unavailable for a sign-in record")
