"""The page's CSRF token signed once per session token, not once per request.

Flask-WTF signs the session's raw token afresh at each request's first generate_csrf() (a serializer
built, an HMAC): a twentieth of a list page's time under load. With no time limit on tokens
(WTF_CSRF_TIME_LIMIT = None, config.py) the signed token of one raw token is as good at any time, so
it is kept per (secret, raw token) and put where Flask-WTF looks first (g); a configured time limit
turns this off (each page then needs a fresh timestamp)."""
from functools import lru_cache

from flask import current_app, g, session
from itsdangerous import URLSafeTimedSerializer


@lru_cache(maxsize=10000)
def _signed(secret, raw):
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)  # as flask_wtf.csrf signs it


def install(app):
    @app.before_request
    def _signed_token():
        config = current_app.config
        if config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return
        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        raw = session.get(field)
        if isinstance(raw, str):
            setattr(g, field, _signed(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw))
