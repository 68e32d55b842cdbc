"""Idempotency-Key on every POST of the API (Stripe's convention): the first answer to a key is kept
for API_IDEMPOTENCY_HOURS and replayed for a repeat with the same request (header Idempotent-Replayed:
true); a repeat with another request is refused with 422. Answers of 5xx are not kept (a retry runs
again). The fingerprint of a multipart upload is taken over its fields and files' contents, not its
raw bytes, whose boundary a client library draws anew on each retry."""
import datetime as dt
import hashlib
from functools import wraps

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from models.api import IdempotentRequest
from models.base import utcnow

from . import problems
from .problems import Problem

HEADER = "Idempotency-Key"
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def fingerprint() -> str:
    h = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name in sorted(request.form, key=str):
            h.update(f"f:{name}={request.form.getlist(name)}\n".encode())
        for name in sorted(request.files, key=str):
            for f in request.files.getlist(name):
                h.update(f"file:{name}:{f.filename}:".encode() + hashlib.sha256(f.read()).digest())
                f.seek(0)
    else:
        h.update(request.get_data(cache=True))
    return h.hexdigest()


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = (request.headers.get(HEADER) or "").strip()
        if not key or len(key) > 255:
            raise Problem(400, _("Every POST needs an Idempotency-Key header (1 to 255 characters)"),
                          errors=[{"field": HEADER, "message": _("This field is required")}])
        client = g.api_client
        mark = fingerprint()
        kept = _kept(client.id, key)
        if kept is not None:
            return _replay(kept, mark)
        try:
            response = view(*args, **kwargs)
        except Problem as exc:
            response = problems.of(exc)
        if response.status_code >= 500:
            return response
        row = IdempotentRequest(client_id=client.id, key=key, fingerprint=mark, status=response.status_code,
                                body=response.get_data(as_text=True),
                                headers={k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers})
        try:
            db.session.add(row)
            db.session.commit()
        except IntegrityError:   # the same key raced in from another request: its answer is the first one
            db.session.rollback()
            kept = _kept(client.id, key)
            if kept is not None:
                return _replay(kept, mark)
        return response
    wrapper.idempotent = True
    return wrapper


def _kept(client_id, key):
    hours = current_app.config["API_IDEMPOTENCY_HOURS"]
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - dt.timedelta(hours=hours)))
    return db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.client_id == client_id,
                                                             IdempotentRequest.key == key))


def _replay(kept, mark):
    if kept.fingerprint != mark:
        raise Problem(422, _("This Idempotency-Key was already used with a different request"),
                      errors=[{"field": HEADER, "message": _("Use a new key for a different request")}],
                      slug="idempotency-key-reused")
    response = Response(kept.body, status=kept.status)
    for k, v in (kept.headers or {}).items():
        response.headers[k] = v
    response.headers["Idempotent-Replayed"] = "true"
    return response


