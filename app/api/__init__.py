"""The open API, /api/v1: another face of the same engine and scope as the screens, for banks' and
developers' own systems (issue 15). Modules: auth (clients, tokens, HMAC, scope, limits), idempotency,
problems (RFC 9457 errors), resources (the routes), serialize (codes + *_label), openapi (the
document), webhooks (events, signed deliveries as jobs). Human docs at /api/docs.

Versioning: the version is in the path. A breaking change gets /api/v2; /api/v1 then keeps working
and answers with `Sunset: <date>` (API_V1_SUNSET, RFC 8594), `Deprecation: true` and a Link to the
docs for at least 12 months before it is removed. Additive changes (new fields, new events, new
endpoints) are not breaking: clients ignore fields they do not know.
"""
from types import SimpleNamespace

from babel import Locale
from flask import Blueprint, current_app, g, json, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.extensions import csrf, db

from . import auth, openapi, problems, resources
from .problems import Problem

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__)
OPEN = {"api_v1.openapi_json", "api_v1.token"}


def _language():
    best = request.accept_languages.best_match(["zh", "zh-CN", "en", "en-US", "en-GB"])
    lang = "en" if best and best.startswith("en") else "zh"
    # The request's language, from Accept-Language only: the API never reads or writes a session.
    g._flask_babel = SimpleNamespace(babel_locale=Locale.parse(lang))
    return lang


@bp.before_request
def _authenticate():
    g.api_lang = _language()
    if request.endpoint in OPEN:
        return None
    auth.authenticate()
    return None


@bp.after_request
def _headers(response):
    if response.status_code == 429 and response.mimetype != "application/problem+json":
        # the limiter's own answer (the token endpoint's per-IP limit, app/limits.py), in the API's shape
        wait = response.headers.get("Retry-After", "60")
        message = (response.get_json(silent=True) or {}).get("message")
        response = problems.response(429, message, headers={"Retry-After": wait})
    response.headers["Content-Language"] = g.get("api_lang", "zh")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Authorization"
    sunset = current_app.config.get("API_V1_SUNSET")
    if sunset:
        response.headers["Sunset"] = sunset
        response.headers["Deprecation"] = "true"
        response.headers["Link"] = '</api/docs#versioning>; rel="sunset"'
    return response


@bp.errorhandler(Problem)
def _problem(exc):
    db.session.rollback()
    return problems.of(exc)


@bp.errorhandler(HTTPException)
def _http(exc):
    db.session.rollback()
    if exc.code == 429:   # the per-IP limit of the token endpoint (app/limits.py)
        from app.limits import seconds_to_wait
        wait = seconds_to_wait()
        return problems.response(429, _("Too many requests: please try again in %(n)d seconds.", n=wait),
                                 headers={"Retry-After": str(wait)})
    return problems.response(exc.code or 500)


@bp.errorhandler(Exception)
def _crash(exc):
    db.session.rollback()
    current_app.logger.exception("API error at %s", request.path)
    return problems.response(500)


@bp.get("/openapi.json")
def openapi_json():
    return current_app.response_class(json.dumps(openapi.document(), ensure_ascii=False),
                                      mimetype="application/json")


@bp.post("/oauth/token")
def token():
    """OAuth 2.0 client credentials (RFC 6749 §4.4): client_id/client_secret in the form or HTTP Basic."""
    form = request.form if request.mimetype == "application/x-www-form-urlencoded" else (request.get_json(silent=True) or {})
    if not isinstance(form, dict) and not hasattr(form, "get"):
        form = {}
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id, secret = request.authorization.username, request.authorization.password
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", _("Only grant_type=client_credentials is supported"))
    client = auth.check_secret(str(client_id or ""), str(secret or ""))
    if client is None:
        return _oauth_error(401, "invalid_client", _("Unknown or revoked API client, or a wrong secret"))
    auth.act_as(client)
    auth.limit(client)
    from app import audit
    audit.record(db.session, "api_token", "ApiClient", client.id, summary=client.client_id)
    db.session.commit()
    access, seconds = auth.issue_token(client)
    return current_app.response_class(json.dumps({"access_token": access, "token_type": "Bearer", "expires_in": seconds}),
                                      mimetype="application/json")


def _oauth_error(status, code, message):
    resp = problems.response(status, message, slug=code.replace("_", "-"))
    body = json.loads(resp.get_data())
    body["error"], body["error_description"] = code, message
    resp.set_data(json.dumps(body, ensure_ascii=False))
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="registry-api"'
    return resp


resources.register(bp)


@docs_bp.get("/api/docs")
def docs():
    """The human docs: a page of ours rendering the OpenAPI document (app/static/api/docs.js), no CDN."""
    return render_template("api/docs.html")


def _routing_errors(app):
    """A path under /api/v1 that no route matches (or not with this method) is answered as a problem too:
    routing fails before any blueprint is chosen, so the app's own handlers are wrapped."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound
    for exc_class in (NotFound, MethodNotAllowed):
        spec = app.error_handler_spec.get(None, {})
        previous = spec.get(exc_class.code, {}).get(exc_class) or spec.get(None, {}).get(HTTPException)

        def handler(exc, previous=previous):
            if request.path == "/api/v1" or request.path.startswith("/api/v1/"):
                g.api_lang = _language()
                resp = problems.response(exc.code)
                if exc.code == 405 and exc.valid_methods:
                    resp.headers["Allow"] = ", ".join(exc.valid_methods)
                return resp
            return previous(exc) if previous is not None else exc
        app.register_error_handler(exc_class, handler)


def init_app(app):
    from . import cli, webhooks
    webhooks.install(app)
    cli.register(app)
    csrf.exempt(bp)  # bearer tokens and HMAC signatures only, never cookies: no cross-site request can carry them
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    _routing_errors(app)
