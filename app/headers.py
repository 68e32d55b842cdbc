"""Security headers and caching rules for every response, set in one place (issue 8).

- Content-Security-Policy: scripts only from our own origin. FAB's own templates carry a few inline
  <script> blocks, each marked nonce="{{ baselib.get_nonce() }}"; they get a per-request nonce (the
  csp_nonce() FAB asks for). Our templates have no inline script at all (tests/test_headers.py scans them).
  Styles allow inline: FAB's templates and widgets (and Bootstrap/select2 at run time) put style=""
  attributes everywhere, which no nonce can cover; style injection is far less dangerous than script.
  No form-action: a payment form's redirect to the provider's cashier would be blocked by it.
- Framing refused (frame-ancestors 'none' and X-Frame-Options DENY), nosniff, Referrer-Policy.
- REGISTRY_HTTPS=1: plain http is redirected, HSTS is sent, session cookies are Secure.
  `make run` serves http without any of that.
- Cache-Control: no-store on PDFs, on every file handed out (a Content-Disposition) and on the
  sign-in, registration, password and certificate pages.

Written here rather than with flask-talisman: talisman overwrites a view's own stricter policy (the
material preview sets one), trusts X-Forwarded-Proto from any client (we trust proxies only through
ProxyFix and PROXY_COUNT) and rewrites SESSION_COOKIE_SAMESITE.
"""
import secrets

from flask import current_app, g, redirect, request

HSTS = "max-age=31536000; includeSubDomains"
POLICY = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; frame-ancestors 'none'")
# Views whose pages hold passwords, codes or certificates: never kept by a browser or a proxy.
NO_STORE_VIEWS = {"LoginView", "AccountsView", "SettingsView", "OwnPasswordView", "PolicyResetPasswordView"}
NO_STORE_ENDPOINTS = {"OperatorView.bindca"}


def csp_nonce() -> str:
    """This request's script nonce, made when a template first asks for it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app):
    if app.config.get("REGISTRY_HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.jinja_env.globals["csp_nonce"] = csp_nonce  # FAB's baselib.get_nonce() calls it when defined
    app.before_request(_https_only)
    app.after_request(_security_headers)


def _https_only():
    # The load balancer's plain-http health check (/healthz) is answered where it is asked.
    if current_app.config.get("REGISTRY_HTTPS") and not request.is_secure and request.endpoint != "health.healthz":
        # 308 keeps the method and body of a POST; request.is_secure honours ProxyFix's X-Forwarded-Proto.
        return redirect(request.url.replace("http://", "https://", 1), code=308)
    return None


def _security_headers(response):
    nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
    own = response.headers.get("Content-Security-Policy")
    if own is None:
        response.headers["Content-Security-Policy"] = POLICY.format(nonce=nonce)
    elif "frame-ancestors" not in own:  # a view's own (stricter) policy stays, framing refused all the same
        response.headers["Content-Security-Policy"] = own.rstrip("; ") + "; frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if current_app.config.get("REGISTRY_HTTPS") and request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    if _no_store(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def _no_store(response) -> bool:
    endpoint = request.endpoint or ""
    return (response.mimetype == "application/pdf" or "Content-Disposition" in response.headers
            or endpoint.split(".", 1)[0] in NO_STORE_VIEWS or endpoint in NO_STORE_ENDPOINTS)
