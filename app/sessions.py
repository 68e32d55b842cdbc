"""在线用户: every signed-in session has a row (UserSession), so the Admin sees who is online and can
end one session (强制下线); its next request lands on the login page.

The Flask session (a signed cookie, as FAB uses it) carries a random token; the table holds its
SHA-256. The signed-in user is read with the session's row in the same statement (app/security.py
load_user), so checking costs no statement; last_seen_at is written at most once a minute per
session (TOUCH_SECONDS), on a connection of its own so that the request's transaction is untouched.
Sessions from before this table (no token) are signed out once, without a message.
"""
import datetime as dt
import hashlib
import secrets

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import update

from app.extensions import db
from models import UserSession
from models.base import utcnow

TOKEN_KEY = "_registry_sid"
TOUCH_SECONDS = 60


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def current_token_hash():
    token = session.get(TOKEN_KEY)
    return token_hash(token) if token else None


def start(user, method):
    """Add the session's row to the sign-in's transaction; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    agent = request.user_agent.string if request else ""
    db.session.add(UserSession(token_hash=token_hash(token), user_id=user.id, institution_id=user.institution_id,
                               method=method, ip=request.remote_addr, user_agent=(agent or "")[:300] or None))
    return token


def check(row_id, ended_at, end_reason, last_seen_at):
    """Called by load_user with the session's row (all None: no row). False: the session is over."""
    if row_id is None:
        return False
    if ended_at is not None:
        g.session_ended = end_reason == "forced"
        return False
    now = utcnow()
    if now - last_seen_at >= dt.timedelta(seconds=TOUCH_SECONDS):
        with db.engine.begin() as conn:
            conn.execute(update(UserSession.__table__).where(UserSession.__table__.c.id == row_id)
                         .values(last_seen_at=now))
    return True


def end(reason="logout"):
    """Sign-out: the current session's row is closed (committed by the caller)."""
    digest = current_token_hash()
    if digest:
        db.session.execute(update(UserSession).where(UserSession.token_hash == digest, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))


def online_since():
    """Sessions seen within the session lifetime count as online (older ones timed out)."""
    from flask import current_app
    return utcnow() - current_app.permanent_session_lifetime


def _to_login_page():
    """A session ended by an administrator: the next request goes to the login page, told why."""
    if not g.pop("session_ended", False) or request.endpoint in (None, "static", "appbuilder.static"):
        return None
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have been signed out by the administrator. Please sign in again."), "warning")
    return redirect(url_for("LoginView.login"))


def install(app):
    @app.before_request
    def _ended_sessions_sign_in_again():
        from flask_login import current_user
        current_user.is_authenticated  # loads the user (and the session's row) now
        return _to_login_page()
