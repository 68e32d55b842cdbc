"""Every change to an Audited row, and every explicit event (logins, transitions), lands in AuditLog.

The flush hook sees inserts, updates and deletes with their before/after values, so no view or
service can forget to audit a change.
"""
import datetime as dt
import decimal

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from models import AuditLog
from models.base import Audited

_SECRET_COLUMNS = {"password", "session_nonce", "code_hash", "pem",
                   # the open API's client secrets and signing keys (models/api.py)
                   "secret_hash", "signing_key_sealed", "previous_secret_hash", "previous_signing_key_sealed",
                   "secret_sealed"}


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _actor():
    """The logged-in user without triggering a load inside a flush."""
    if not has_request_context():
        return None, "system", None, None
    user = g.get("_login_user")
    # remote_addr only: behind a reverse proxy, REGISTRY_PROXY_COUNT makes ProxyFix set it from the
    # proxy's X-Forwarded-For; a header sent by the client itself is never trusted.
    ip = request.remote_addr if request else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None, "anonymous", None, ip
    return user.id, user.username, getattr(user, "institution_id", None), ip


def record(session, action, object_type=None, object_id=None, summary=None, before=None, after=None,
           username=None, institution_id=None):
    """Add an explicit audit entry (login, transition, export ...) to the session."""
    uid, uname, inst, ip = _actor()
    session.add(AuditLog(user_id=uid, username=username or uname,
                         institution_id=institution_id if institution_id is not None else inst, ip=ip,
                         action=action, object_type=object_type, object_id=str(object_id) if object_id else None,
                         summary=summary, before=before, after=after))


def _values(obj, attrs):
    return {a: ("***" if a in _SECRET_COLUMNS else _plain(v)) for a, v in attrs.items()}


def _changes(obj):
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            before[attr.key] = hist.deleted[0] if hist.deleted else None
            after[attr.key] = hist.added[0] if hist.added else None
    return _values(obj, before), _values(obj, after)


def _snapshot(obj):
    state = inspect(obj)
    return _values(obj, {a.key: getattr(obj, a.key) for a in state.mapper.column_attrs})


def install(app):
    @event.listens_for(Session, "before_flush")
    def _audit_changes(session, flush_context, instances):
        entries = []
        for obj in session.dirty:
            if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
                before, after = _changes(obj)
                if after:
                    entries.append(("update", obj, before, after))
        for obj in session.deleted:
            if isinstance(obj, Audited):
                entries.append(("delete", obj, _snapshot(obj), None))
        for action, obj, before, after in entries:
            record(session, action, type(obj).__name__, getattr(obj, "id", None), before=before, after=after)
        g_new = [o for o in session.new if isinstance(o, Audited)]
        if g_new:
            session.info.setdefault("audit_new", []).extend(g_new)

    @event.listens_for(Session, "after_flush_postexec")
    def _audit_inserts(session, flush_context):
        # Inserted rows get their id only after the flush; log them then (flushed with the same commit).
        new = session.info.pop("audit_new", [])
        for obj in new:
            record(session, "insert", type(obj).__name__, obj.id, after=_snapshot(obj))
