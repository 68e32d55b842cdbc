"""Request limits (Flask-Limiter): what an outsider may repeat, how often, and the answer beyond that.

The limits are settings (config.py REGISTRY_RATELIMIT_*, e.g. "10 per minute;50 per hour"), read
at each request; the routes they cover are named here by endpoint (RULES), so the views need not
know. Each group's budget is shared by every route of the group: the password, CA and LDAP sign-in
and the JSON login draw on the same "login" count of an IP. Keys are the client IP
(request.remote_addr: behind a proxy set REGISTRY_PROXY_COUNT) and, for sign-in, also the account
name, from whatever IP (LOGIN_ACCOUNT), except from a place the account signed in from recently
(app/auth/lockout.py: an outsider cannot use the limit to shut the owner out).

Storage (REGISTRY_RATELIMIT_STORAGE): memory:// counts per process (`make run`); redis://host:port/db
shares the counts between instances (production). REGISTRY_RATELIMIT_ENABLED=0 turns every limit off.

A refused request gets HTTP 429 with a Retry-After header and "操作过于频繁，请在 N 秒后重试": a page,
or JSON for JSON / XHR callers.
"""
import math
import time

from flask import current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from app.extensions import limiter

LOGIN_ENDPOINTS = ("LoginView.login", "LoginView.login_ca", "LoginView.login_ldap", "ClosedSecurityApi.login")


def _posting():
    return request.method == "POST"


def _sending_code():
    return request.method == "POST" and "send_code" in request.form


def _submitting():
    """A registration or reset submitted (not the "send code" button of the same form)."""
    return request.method == "POST" and "send_code" not in request.form


def _changing_password():
    return request.method == "POST" and "change_password" in request.form


def _always():
    return True


def account_name() -> str:
    """The account name a sign-in names (form or JSON body), as find_login_user compares it."""
    name = request.form.get("username")
    if name is None and request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    return str(name or "").strip().lower()[:128]


def _account_key():
    return "account:" + account_name()


def _from_a_known_place():
    """The owner signing in from a place the account signed in from recently is not held back by
    what others did to the account's name (app/auth/lockout.py)."""
    from app.auth import lockout
    from app.extensions import appbuilder
    user = appbuilder.sm.find_login_user(account_name())
    return user is not None and lockout.known_source(user)


# endpoint -> [(group, when)]: the request counts against the group's limit when `when()` holds.
RULES = {
    **{endpoint: [("LOGIN", _posting), ("LOGIN_ACCOUNT", _posting)] for endpoint in LOGIN_ENDPOINTS},
    "SettingsView.index": [("LOGIN", _changing_password)],  # the current password can be guessed there too
    "AccountsView.forgot": [("SMS", _sending_code), ("REGISTER", _submitting)],
    "AccountsView.register": [("SMS", _sending_code), ("REGISTER", _submitting)],
    "AccountsView.register_institution": [("REGISTER", _posting), ("UPLOAD", _posting)],
    "DeskCaseView.send_code": [("SMS", _always)],
    "DeskCaseView.send_codes": [("SMS", _always)],
    "PublicServiceView.progress": [("PUBLIC", _posting)],  # a query is a POST (no ID in a URL)
    "PublicServiceView.certificate": [("PUBLIC", _posting)],
    "PublicServiceView.archive_verify": [("PUBLIC", _posting)],
    "PublicServiceView.certificate_by_token": [("PUBLIC", _always)],
    "PublicServiceView.certificate_pdf": [("PUBLIC", _always)],
    "PublicServiceView.certificate_jpg": [("PUBLIC", _always)],
    "PublicServiceView.archive_by_token": [("PUBLIC", _always)],
    "PublicServiceView.archive_pdf": [("PUBLIC", _always)],
    "PublicServiceArchiveView.request_proof": [("PUBLIC", _posting), ("UPLOAD", _posting)],
    "PublicServiceMineView.jpg": [("PUBLIC", _always)],  # drawing a JPEG costs a pdftoppm run
    "KioskView.redeem": [("PUBLIC", _always)],   # 自助打证: the code is the only authority
    "DeskCaseView.upload": [("UPLOAD", _always)],
    "DeskBatchView.import_rows": [("UPLOAD", _always)],
    "DeskBatchView.extract": [("UPLOAD", _always)],
    "OperatorView.bind_ca": [("UPLOAD", _posting)],
    "api_v1.token": [("LOGIN", _posting)],  # the open API's client credentials are guessed like passwords
}


def _limit(group, when):
    def value():
        return current_app.config[f"REGISTRY_RATELIMIT_{group}"]

    if group == "LOGIN_ACCOUNT":
        return limiter.shared_limit(value, scope=group.lower(), key_func=_account_key,
                                    exempt_when=lambda: not when() or _from_a_known_place())
    return limiter.shared_limit(value, scope=group.lower(), key_func=get_remote_address,
                                exempt_when=lambda: not when())


@limiter.request_filter
def _limits_off():
    return not current_app.config.get("REGISTRY_RATELIMIT_ENABLED", True)


def seconds_to_wait() -> int:
    """Until the breached limit lets the next request through."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.window.reset_time - time.time()))


def _wants_json():
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (request.is_json or request.headers.get("X-Requested-With") == "XMLHttpRequest"
            or best == "application/json" or request.path.startswith("/api/"))


def too_many_requests(exc):
    wait = seconds_to_wait()
    message = _("Too many requests: please try again in %(n)d seconds.", n=wait)
    current_app.logger.warning("rate limit %s reached by %s at %s", exc.description, get_remote_address(),
                               request.endpoint)
    if _wants_json():
        response = jsonify(message=message, retry_after=wait)
    else:
        from app.extensions import appbuilder
        response = make_response(render_template("limits/too_many.html", appbuilder=appbuilder,
                                                 base_template=appbuilder.base_template, message=message,
                                                 wait=wait))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app):
    """Storage from the settings, the limits on the routes of RULES (registered by now), the 429 page."""
    # FAB sets RATELIMIT_ENABLED=False for its own limiter (already built by now, and left off: it would
    # cover the login form only); ours is always built and switched by REGISTRY_RATELIMIT_ENABLED.
    app.config["RATELIMIT_ENABLED"] = True
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REGISTRY_RATELIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # Off: Flask-Limiter would rewrite our Retry-After, rounding down, one second short of the page's wait.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Redis unreachable: keep limiting, per process, rather than answer every limited route with a 500.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
    for endpoint, rules in RULES.items():
        view = app.view_functions.get(endpoint)
        if view is None:  # a route that is not mounted in this configuration
            continue
        for group, when in rules:
            view = _limit(group, when)(view)
        app.view_functions[endpoint] = view
    _only_limited_routes(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def _only_limited_routes(app):
    """Flask-Limiter looks the limits of every request up before it, and after it its deductions and
    headers (a fiftieth of a list page); the routes of RULES are the only ones with limits (there are no
    default ones), so the others skip both."""
    def only_limited(hook):
        def hook_on_limited_routes(*args):
            return hook(*args) if request.endpoint in RULES else (args[0] if args else None)
        return hook_on_limited_routes

    before, after = app.before_request_funcs[None], app.after_request_funcs[None]
    i = before.index(limiter._check_request_limit)
    before[i] = only_limited(before[i])
    j = next(n for n, f in enumerate(after) if getattr(f, "args", None) == (limiter,))  # partial(__inject_headers, limiter)
    after[j] = only_limited(after[j])
