"""Who is calling the open API, and as whom it acts.

Two ways to authenticate, both per API client (models/api.ApiClient, created in the console):
- OAuth 2.0 client credentials: POST /api/v1/oauth/token (grant_type=client_credentials, client_id,
  client_secret, as a form or HTTP Basic) returns a short-lived bearer token (API_TOKEN_SECONDS).
- HMAC request signing, without a token:
      Authorization: HMAC client_id=<id>, timestamp=<unix seconds>, nonce=<16-64 of [A-Za-z0-9_-]>, signature=<hex>
      canonical = METHOD "\n" PATH[?QUERY] "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA-256(body))
      signature = hex(HMAC-SHA256(signing_key, canonical)),
      signing_key = hex(HMAC-SHA256(key=client_secret, msg="registry-api-signing-v1"))
  accepted within API_SIGNATURE_WINDOW_SECONDS of our clock, each nonce once (table used_nonce).

Never cookies: a request of the API is authenticated by its own headers only, which is why the API's
routes are exempt from CSRF. The client then acts through its service account exactly as an operator
of its institution: the same scope (app/scope.py), its name in the audit log (api-<client_id>), and
its own request budget (API_RATE_LIMIT, counted per client in the limiter's storage).
"""
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time

from flask import current_app, g, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse_many
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, limiter
from models import UsedNonce
from models.api import ApiClient
from models.base import utcnow

from .problems import Problem

SIGNING_CONTEXT = b"registry-api-signing-v1"
_HMAC_HEADER = re.compile(r"\s*([a-z_]+)\s*=\s*([^,\s]+)\s*")
_NONCE = re.compile(r"[0-9A-Za-z_-]{16,64}")


# ---- secrets ----------------------------------------------------------------------------------------

def new_client_id() -> str:
    return "rc_" + secrets.token_hex(8)


def new_secret() -> str:
    return "rs_" + secrets.token_urlsafe(32)


def signing_key(secret: str) -> str:
    """What an HMAC-signing client signs with (derived from the secret, so the secret itself is not kept)."""
    return hmac.new(secret.encode(), SIGNING_CONTEXT, hashlib.sha256).hexdigest()


def _fernet():
    import base64

    from cryptography.fernet import Fernet
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"api-seal", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def set_secret(client: ApiClient, secret: str):
    client.secret_hash = generate_password_hash(secret)
    client.signing_key_sealed = seal(signing_key(secret))


def rotate(client: ApiClient) -> str:
    """A new secret; the old one keeps working for API_ROTATION_OVERLAP_HOURS (the overlap)."""
    secret = new_secret()
    client.previous_secret_hash, client.previous_signing_key_sealed = client.secret_hash, client.signing_key_sealed
    client.previous_expires_at = utcnow() + dt.timedelta(hours=current_app.config["API_ROTATION_OVERLAP_HOURS"])
    client.rotated_at = utcnow()
    set_secret(client, secret)
    return secret


def _previous_valid(client) -> bool:
    return bool(client.previous_secret_hash and client.previous_expires_at and client.previous_expires_at > utcnow())


def _find(client_id) -> ApiClient | None:
    if not client_id or len(client_id) > 40:
        return None
    return db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)
                             .execution_options(skip_scope=True))


def check_secret(client_id, secret) -> ApiClient | None:
    client = _find(client_id)
    if client is None or client.revoked_at is not None or not secret:
        return None
    if check_password_hash(client.secret_hash, secret):
        return client
    if _previous_valid(client) and check_password_hash(client.previous_secret_hash, secret):
        return client
    return None


# ---- bearer tokens ----------------------------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="registry-api-token")


def issue_token(client) -> tuple[str, int]:
    return _serializer().dumps({"c": client.client_id}), current_app.config["API_TOKEN_SECONDS"]


def _from_token(token) -> ApiClient:
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_SECONDS"])
    except SignatureExpired:
        raise Problem(401, _("The access token has expired; request a new one"), slug="token-expired") from None
    except BadSignature:
        raise Problem(401, _("The access token is not valid")) from None
    return _find(data.get("c") if isinstance(data, dict) else None)


# ---- HMAC signatures --------------------------------------------------------------------------------

def canonical(method, path_with_query, timestamp, nonce, body: bytes) -> str:
    return "\n".join([method.upper(), path_with_query, str(timestamp), nonce, hashlib.sha256(body).hexdigest()])


def sign(key: str, method, path_with_query, timestamp, nonce, body: bytes) -> str:
    return hmac.new(key.encode(), canonical(method, path_with_query, timestamp, nonce, body).encode(),
                    hashlib.sha256).hexdigest()


def _path_with_query():
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _from_signature(header) -> ApiClient:
    parts = dict(m.groups() for m in _HMAC_HEADER.finditer(header))
    client = _find(parts.get("client_id"))
    stamp, nonce, signature = parts.get("timestamp", ""), parts.get("nonce", ""), parts.get("signature", "")
    if client is None or client.revoked_at is not None:
        raise Problem(401, _("Unknown or revoked API client"))
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > current_app.config["API_SIGNATURE_WINDOW_SECONDS"]:
        raise Problem(401, _("The signature's timestamp is outside the accepted window"), slug="stale-signature")
    if not _NONCE.fullmatch(nonce):
        raise Problem(401, _("The signature needs a nonce of 16 to 64 letters, digits, - or _"))
    keys = [unseal(client.signing_key_sealed)]
    if _previous_valid(client):
        keys.append(unseal(client.previous_signing_key_sealed))
    body = request.get_data(cache=True)
    if not any(hmac.compare_digest(sign(k, request.method, _path_with_query(), stamp, nonce, body), signature)
               for k in keys):
        raise Problem(401, _("The request signature does not match"), slug="bad-signature")
    window = current_app.config["API_SIGNATURE_WINDOW_SECONDS"]
    db.session.execute(delete(UsedNonce).where(UsedNonce.service == "API",
                                               UsedNonce.seen_at < utcnow() - dt.timedelta(seconds=2 * window)))
    try:
        with db.session.begin_nested():
            db.session.add(UsedNonce(service="API", nonce=f"{client.client_id}:{nonce}"[:64]))
    except IntegrityError:
        raise Problem(401, _("This signature was already used (nonce reused)"), slug="replayed-signature") from None
    db.session.commit()
    return client


# ---- per request ------------------------------------------------------------------------------------

def authenticate():
    """The calling client from the Authorization header (401 otherwise); then act as it."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        client = _from_token(header[7:].strip())
    elif header[:5].upper() == "HMAC ":
        client = _from_signature(header[5:])
    else:
        raise Problem(401, _("Send a bearer token (POST /api/v1/oauth/token) or an HMAC signature"),
                      headers={"WWW-Authenticate": 'Bearer realm="registry-api"'})
    if client is None or client.revoked_at is not None:
        raise Problem(401, _("Unknown or revoked API client"), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    act_as(client)
    limit(client)
    return client


def act_as(client):
    """The client acts as its service account: the same scope and audit as an operator of its institution."""
    user = client.operator
    g._login_user = g.user = user
    g.api_client = client
    g.institution_scope = client.institution_id


def limit(client, group="API_RATE_LIMIT"):
    """One budget per client (not per IP: many systems share a gateway)."""
    if not current_app.config.get("REGISTRY_RATELIMIT_ENABLED", True):
        return
    for item in parse_many(current_app.config[group]):
        if not limiter.limiter.hit(item, "api", client.client_id):
            reset = limiter.limiter.get_window_stats(item, "api", client.client_id).reset_time
            wait = max(1, int(reset - time.time()) + 1)
            raise Problem(429, _("Too many requests: please try again in %(n)d seconds.", n=wait),
                          headers={"Retry-After": str(wait)})
