"""登录日志: one row per sign-in attempt (password, CA, LDAP, the JSON login), whatever its outcome.

The sign-in code raises LoginRefused with a reason (app/auth/__init__.py); the login view records the
refusal or the success here, once per attempt. The reason is a code from REASONS, shown in words;
the detail is what the person was told. Unknown account names are logged as typed (the Admin needs
to see guessing), so the list is the Admin's only.
"""
from flask import request

from app import vocab
from app.extensions import db
from models import LoginLog

SUCCESS, FAILURE = "success", "failure"
RESULTS, REASONS, METHODS = vocab.LOGIN_RESULT, vocab.LOGIN_REASON, vocab.LOGIN_METHOD


def record(username, method, reason, detail=None, user=None):
    """Add the attempt to the session; the caller commits (the refusal's own commit, or the sign-in's)."""
    agent = request.user_agent.string if request else None
    db.session.add(LoginLog(username=str(username or "").strip()[:128], user_id=getattr(user, "id", None),
                            method=method, ip=request.remote_addr if request else None,
                            user_agent=(agent or "")[:300] or None,
                            result=SUCCESS if reason in ("ok", "known_place") else FAILURE, reason=reason,
                            detail=str(detail)[:300] if detail else None))


def refused(username, method, exc, default_reason):
    """Log a refused attempt on its own: whatever the attempt left unsaved is dropped first."""
    from app.extensions import appbuilder
    db.session.rollback()
    user = appbuilder.sm.find_login_user(username)
    record(username, method, getattr(exc, "reason", None) or default_reason, detail=str(exc), user=user)
    db.session.commit()
