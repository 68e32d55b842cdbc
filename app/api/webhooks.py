"""Events and webhooks of the open API.

Events (models/api.ApiEvent) are written in the very transaction that makes them happen, by a flush
hook on the rows every path of the engine writes (a history entry, an issued certificate), whoever
acts (the desk, the review, the API, a job):
    case.state_changed  every transition (data: case, business, from, to, action)
    case.rejected       a transition into a state a case re-applies from (data adds reject_type, opinion)
    fee.due             a transition into a state where fees may be paid, with fees due
    certificate.issued  a certificate or proof issued for a case (data: number, verification code, kind)
Each event is offered to the institution's active endpoints that chose its type (WebhookDelivery rows,
same transaction); after the commit each delivery is a background job (app/jobs).

A delivery POSTs the event as JSON, signed:
    Registry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>
The receiver recomputes v1 over the raw body, refuses a t outside its window (we suggest 300 s) and a
(t, v1) it has seen (a replay). A 2xx answer delivers it; anything else is retried with exponential
backoff (WEBHOOK_BACKOFF_SECONDS, doubled each attempt) up to WEBHOOK_MAX_ATTEMPTS, then marked failed.
The console lists every delivery (status, attempts, answer) and redelivers on demand. Events stay
readable at GET /api/v1/events?after=<last id> for systems that cannot receive callbacks.
"""
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event, insert, select
from sqlalchemy.orm import Session

from app import jobs, rulebook
from app.extensions import db
from app.rulebook import markers
from models import CaseHistory, Certificate, Job
from models.api import ApiEvent, WebhookDelivery, WebhookEndpoint
from models.base import utcnow
from models.job import QUEUED

from .auth import seal, unseal

log = logging.getLogger(__name__)
EVENTS = {
    "case.state_changed": _l("Case state changed"),
    "case.rejected": _l("Case rejected"),
    "fee.due": _l("Fee due"),
    "certificate.issued": _l("Certificate issued"),
}
SIGNATURE_HEADER = "Registry-Signature"


class Unreachable(ValueError):
    """An endpoint URL we will not call; str() is the message."""


def check_url(url):
    """Refuse a URL whose host is (or resolves to) a loopback, private, link-local or reserved address
    unless WEBHOOK_ALLOW_PRIVATE: a webhook must not become a way to reach the registry's own network."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(str(_l("The endpoint URL must start with https:// (or http:// on a private network)")))
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE") or current_app.config.get("TESTING"):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise Unreachable(str(_l("The endpoint's host name cannot be resolved"))) from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise Unreachable(str(_l("The endpoint's address is on a private network; webhooks go to public addresses")))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sealed(secret):
    return seal(secret)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(timestamp if timestamp is not None else time.time())
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


# ---- events, in the transaction that makes them ------------------------------------------------

def _text(t):
    return (t.get("zh") if hasattr(t, "get") else None) or ""


def _case_data(case, business):
    return {"case_id": case.id, "number": case.number, "business": case.business_key,
            "business_label": _text(business.name), "state": case.node,
            "state_label": _text(business.workflow.states[case.node].label) if case.node in business.workflow.states else case.node}


def _events_of(session):
    out = []
    for obj in list(session.new):
        if isinstance(obj, CaseHistory) and obj.node_from is not None and obj.case is not None:
            case = obj.case
            business = rulebook.for_case(case)
            data = {**_case_data(case, business), "from": obj.node_from, "to": obj.node_to, "action": obj.action}
            out.append((case, "case.state_changed", data))
            if obj.node_to in markers.rejected_states(business.workflow):
                out.append((case, "case.rejected", {**data, "reject_type": obj.reject_type, "opinion": obj.opinion}))
            wf = business.workflow
            if markers.is_payable(wf, obj.node_to) and not markers.is_payable(wf, obj.node_from):
                from app.services import payment
                lines, total, paid = payment.outstanding(case)
                if total > paid:
                    out.append((case, "fee.due", {**data, "due": str(total - paid)}))
        elif isinstance(obj, Certificate) and obj.case_id is not None:
            from app.services.certificates import verification_code
            out.append((obj.case_id, "certificate.issued", {
                "case_id": obj.case_id, "number": obj.number, "kind": obj.kind,
                "verification_code": verification_code(obj.token)}))
    return out


_installed = []


def install(app):
    """The session hooks, once per process (they are global to SQLAlchemy's Session, whatever the app)."""
    if _installed:
        return
    _installed.append(True)

    @sa_event.listens_for(Session, "before_flush")
    def _record_events(session, flush_context, instances):
        found = _events_of(session)
        if not found:
            return
        for case, kind, data in found:
            if isinstance(case, int):
                from models import Case
                case = session.get(Case, case)
            ev = ApiEvent(type=kind, case_id=case.id, institution_id=case.institution_id, data=data)
            session.add(ev)
            endpoints = session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.institution_id == case.institution_id, WebhookEndpoint.active.is_(True))
                .execution_options(skip_scope=True)).all()
            for ep in endpoints:
                if kind in (ep.events or []):
                    d = WebhookDelivery(endpoint_id=ep.id, event=ev, institution_id=case.institution_id,
                                        status="pending", attempts=0)
                    session.add(d)
                    session.info.setdefault("webhook_new", []).append(d)

    @sa_event.listens_for(Session, "after_commit")
    def _dispatch(session):
        new = session.info.pop("webhook_new", [])
        ids = [d.id for d in new if d.id is not None]
        if ids:
            enqueue(ids)

    @sa_event.listens_for(Session, "after_soft_rollback")
    def _forget(session, previous_transaction):
        session.info.pop("webhook_new", None)


# ---- delivering, as background jobs -------------------------------------------------------------

def enqueue(delivery_ids, app=None):
    """One job per delivery, queued outside the caller's session (called right after its commit), run as
    the person who registered the endpoint (their institution's scope)."""
    app = app or current_app._get_current_object()
    with app.app_context():
        with db.engine.begin() as conn:
            rows = conn.execute(select(WebhookDelivery.id, WebhookEndpoint.created_by, WebhookEndpoint.institution_id)
                                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                                .where(WebhookDelivery.id.in_(delivery_ids))).all()
            job_ids = [conn.execute(insert(Job).values(
                kind="webhook_delivery", user_id=user_id, institution_id=iid, params={"delivery_id": did, "_locale": "zh"},
                state=QUEUED, done=0, total=1, created_at=utcnow())).inserted_primary_key[0] for did, user_id, iid in rows]
        for job_id in job_ids:
            try:
                jobs._backend().enqueue(job_id)
            except Exception as exc:   # the broker is down: the delivery stays pending; `flask webhooks-retry` resends
                log.error("webhook job %s could not be queued: %s", job_id, exc)


def _later(delivery_id, delay):
    app = current_app._get_current_object()

    def fire():
        try:
            enqueue([delivery_id], app)
        except Exception:
            log.exception("webhook retry of delivery %s", delivery_id)
    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()


def payload(ev) -> bytes:
    return json.dumps({"id": ev.id, "type": ev.type, "created_at": ev.created_at.replace(microsecond=0).isoformat() + "Z",
                       "data": ev.data or {}}, ensure_ascii=False, separators=(",", ":")).encode()


def attempt(delivery):
    """One signed POST of the delivery; records the answer and schedules the next attempt (committed)."""
    if delivery.status == "delivered":
        return delivery
    ep, body = delivery.endpoint, payload(delivery.event)
    headers = {"Content-Type": "application/json", "User-Agent": "registry-webhooks/1",
               SIGNATURE_HEADER: signature_header(unseal(ep.secret_sealed), body),
               "Registry-Event-Id": str(delivery.event_id), "Registry-Event-Type": delivery.event.type,
               "Registry-Delivery-Id": str(delivery.id)}
    delivery.attempts += 1
    status, answer, error = None, "", None
    try:
        check_url(ep.url)   # again at each attempt: the name may resolve elsewhere now
        req = urllib.request.Request(ep.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) as resp:
            status, answer = resp.status, resp.read(2000)
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read(2000)
    except (urllib.error.URLError, OSError, ValueError) as exc:   # Unreachable is a ValueError
        error = str(getattr(exc, "reason", exc))[:500]
    delivery.response_status, delivery.error = status, error
    delivery.response_body = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    delay = None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", utcnow(), None
    elif delivery.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delay = current_app.config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (delivery.attempts - 1)
        delivery.status, delivery.next_attempt_at = "pending", utcnow() + dt.timedelta(seconds=delay)
    db.session.commit()
    if delay is not None:
        _later(delivery.id, delay)
    return delivery


@jobs.register("webhook_delivery", _l("Webhook delivery"))
def delivery_job(job, params):
    delivery = db.session.get(WebhookDelivery, params.get("delivery_id"))
    if delivery is None:
        raise jobs.JobFailed(str(_l("The webhook delivery was not found")))
    attempt(delivery)
    return None


def redeliver(delivery):
    """The console's 重新推送: a new round of attempts for a delivery, whatever its state."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, None
    db.session.commit()
    enqueue([delivery.id])


def due():
    """Pending deliveries whose next attempt is due (the CLI resends them after a restart)."""
    return db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())).all()


def sealed_secret_for(endpoint):
    return unseal(endpoint.secret_sealed)
