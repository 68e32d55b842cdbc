"""Signed HTTP between the registry and its outside services (SMS gateway, payment provider, tax bureau).

One scheme for every message in either direction, modelled on the providers' API-v3 style signatures
(Aliyun, Tencent Cloud, WeChat Pay): the app's requests, the service's answers and the service's
notifications to the app.

Request (always POST, body UTF-8 JSON), headers:
    Content-Type: application/json
    X-Registry-Key-Id     the key id the service issued to the registry (REGISTRY_<SERVICE>_KEY_ID)
    X-Registry-Timestamp  Unix time in seconds
    X-Registry-Nonce      16 to 64 characters [0-9A-Za-z_-], never used twice
    X-Registry-Signature  lower-case hex HMAC-SHA256, keyed with the shared secret (REGISTRY_<SERVICE>_SECRET), of
                          the canonical string  METHOD "\\n" PATH "\\n" TIMESTAMP "\\n" NONCE "\\n" hex(SHA-256(body))
                          (PATH: the request path without the query, e.g. /v1/orders)
Answer: HTTP 200 with JSON {"code": "OK" or an error code, "message": text, "data": {...}} and the same four
    headers, signed over the same canonical string with METHOD = "RESPONSE" and PATH = the request's path, so an
    answer can be neither forged nor moved to another call. A connection failure, a status other than 200, an
    unsigned or badly signed answer, or a code other than "OK" is raised as ServiceError: never ignored.
Notification (the service calls the app, e.g. POST /pay/notify): signed as a request. The app accepts it only
    if the key id is the service's, the signature verifies, the timestamp is within NOTIFY_WINDOW_SECONDS of the
    app's clock and the nonce was never seen before for that service (table used_nonce). A service that repeats a
    notification signs each delivery afresh (new timestamp and nonce). The app answers like a service
    ({"code": "OK"} or {"code": "FAIL", "message": ...} with status 400), unsigned.
"""
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from models import UsedNonce
from models.base import utcnow

KEY_ID, TIMESTAMP, NONCE, SIGNATURE = ("X-Registry-Key-Id", "X-Registry-Timestamp", "X-Registry-Nonce",
                                       "X-Registry-Signature")
_NONCE = re.compile(r"[0-9A-Za-z_-]{16,64}")
LABELS = {"SMS": _l("SMS gateway"), "PAYMENT": _l("payment provider"), "TAX": _l("tax bureau"),
          "UTILITIES": _l("utilities transfer platform"), "HOUSING": _l("housing authority")}


class ServiceError(RuntimeError):
    """An outside service could not be used, or answered with an error; str() is the user-facing message."""


class ServiceRefused(ServiceError):
    """The service answered, signed, with an error code: its decision (asking again will not change it)."""


class NotificationRefused(ValueError):
    """A notification that is not provably the service's own, fresh one; str() is the user-facing message."""


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join((method, path, str(timestamp), nonce, hashlib.sha256(body).hexdigest())).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def sign(secret: str, key_id: str, method: str, path: str, body: bytes, timestamp=None, nonce=None) -> dict:
    """The four headers of a signed message (timestamp and nonce fresh unless given)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {KEY_ID: key_id, TIMESTAMP: timestamp, NONCE: nonce,
            SIGNATURE: signature(secret, method, path, timestamp, nonce, body)}


def signed_by(secret: str, key_id: str, method: str, path: str, headers, body: bytes) -> bool:
    """Whether the headers carry a valid signature of this message under the key (no freshness check)."""
    given = headers.get(SIGNATURE) or ""
    timestamp, nonce = headers.get(TIMESTAMP) or "", headers.get(NONCE) or ""
    if headers.get(KEY_ID) != key_id or not _NONCE.fullmatch(nonce) or not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(secret, method, path, timestamp, nonce, body), given)


def _settings(service: str):
    config = current_app.config
    return (config.get(f"{service}_URL") or "").rstrip("/"), config.get(f"{service}_KEY_ID") or "", \
        config[f"{service}_SECRET"]


def call(service: str, path: str, payload: dict) -> dict:
    """POST a signed JSON request to the service (SMS, PAYMENT or TAX) and return the verified answer's data."""
    base, key_id, secret = _settings(service)
    if not base or not secret:
        raise ServiceError(_l("The %(service)s is not configured (setting %(setting)s)", service=LABELS[service],
                              setting=f"REGISTRY_{service}_URL"))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **sign(secret, key_id, "POST", path, body)}
    request = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=current_app.config["OUTSIDE_TIMEOUT_SECONDS"]) as response:
            status, answer_headers, answer = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:  # a 4xx/5xx still carries the service's JSON reason
        status, answer_headers, answer = exc.code, exc.headers, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        current_app.logger.warning("%s %s unreachable: %s", service, path, exc)
        raise ServiceError(_l("The %(service)s cannot be reached; please try again later",
                              service=LABELS[service])) from None
    try:
        parsed = json.loads(answer.decode())
    except (UnicodeDecodeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        raise ServiceError(_l("The %(service)s gave an unreadable answer (HTTP %(status)s)",
                              service=LABELS[service], status=status))
    if not signed_by(secret, key_id, "RESPONSE", path, answer_headers, answer):
        raise ServiceError(_l("The answer of the %(service)s is not signed by it", service=LABELS[service]))
    if status != 200 or parsed.get("code") != "OK":
        error = ServiceRefused if status == 200 else ServiceError   # a 5xx may pass when asked again
        raise error(_l("The %(service)s refused: %(message)s (%(code)s)", service=LABELS[service],
                       code=parsed.get("code") or status, message=parsed.get("message") or ""))
    data = parsed.get("data")
    return data if isinstance(data, dict) else {}


def receive(service: str, request) -> dict:
    """The JSON payload of a notification from the service, once proven signed, fresh and never seen before.

    The nonce is recorded in the caller's transaction: if the notification is then refused (rolled back), it
    changed nothing, and a replay of it is refused again by the same checks."""
    _base, key_id, secret = _settings(service)
    body = request.get_data(cache=True)
    if not signed_by(secret, key_id, "POST", request.path, request.headers, body):
        raise NotificationRefused(_l("The notification signature is invalid"))
    window = current_app.config["NOTIFY_WINDOW_SECONDS"]
    if abs(time.time() - int(request.headers[TIMESTAMP])) > window:
        raise NotificationRefused(_l("The notification is too old or from the future; it is refused"))
    nonce = request.headers[NONCE]
    # Nonces older than twice the window can go: a message that old is refused by its timestamp anyway.
    db.session.execute(delete(UsedNonce).where(UsedNonce.seen_at < utcnow() - dt.timedelta(seconds=2 * window)))
    try:
        with db.session.begin_nested():
            db.session.add(UsedNonce(service=service, nonce=nonce))
    except IntegrityError:
        raise NotificationRefused(_l("The notification was already received (nonce reused); it is refused")) from None
    try:
        payload = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise NotificationRefused(_l("The notification is not a JSON object"))
    return payload
