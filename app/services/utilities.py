"""水电气网过户: after a transfer is recorded, the new holder's water, power, gas and network accounts move to
them. A business lists the utilities it offers in its rules (`utilities: [water, power, gas, network]`); the
case page then offers the step (the manual's 查看水电气网过户 / 跳过(暂时不过户)). Each request is a row
(UtilityTransfer) sent by a background job (app/jobs) that retries; its status shows on the case.

Contract of a utilities adapter (REGISTRY_UTILITIES_ADAPTER chooses, app/services/outside.py):
- `send(request) -> str`: hand one transfer request to the company; returns the company's ticket number.
  Raises UtilityError (with the company's reason) when it is refused or cannot be delivered.

"http", HttpUtilities: the utilities' joint transfer platform (水电气网联办), signed JSON (scheme, freshness
and nonce rules: app/services/signing.py, keys REGISTRY_UTILITIES_URL / _KEY_ID / _SECRET):
    transfer  POST {REGISTRY_UTILITIES_URL}/v1/transfers
              {"reference": "<ours, unique per request>", "kind": "water" | "power" | "gas" | "network",
               "account_number": "<the account at the company, or empty: the company finds it by address>",
               "case_number": "...", "certificate_number": "...",
               "unit": {"unit_code", "location"},
               "from": [{"name", "id_number"}],  "to": [{"name", "id_number", "phone"}]}
              answer data {"reference": "<echo>", "ticket": "<company's number>", "status": "accepted"}.
              The same reference sent again is the same request (the platform answers with the same ticket),
              so a retry after a lost answer never files twice. An error code (e.g. "AccountNotFound")
              with its message is the company's refusal: it is shown on the case and not retried.
"sandbox", SandboxUtilities (REGISTRY_SANDBOX=1 only): accepts every request at once with a ticket
"SANDBOX-<reference>"; an account number starting "0000" is refused as unknown (to try the refusal in the demo).

Retries: a request that cannot be delivered (unreachable, unsigned or unreadable answer) is tried
REGISTRY_UTILITIES_ATTEMPTS times, REGISTRY_UTILITIES_RETRY_SECONDS apart (doubling); then it is marked failed
with the reason, and the operator may send it again from the case page.
"""
import secrets
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.services import signing
from models import Certificate, UtilityTransfer
from models.base import utcnow

KINDS = {"water": _l("Water"), "power": _l("Electricity"), "gas": _l("Gas"), "network": _l("Network")}
STATUSES = {"queued": _l("Waiting to be sent"), "sent": _l("Accepted by the company"), "failed": _l("Failed"),
            "skipped": _l("Skipped (not transferred for now)")}
JOB = "utility_transfers"


class UtilityError(RuntimeError):
    """A request the company refused (final=True) or that could not be delivered; str() is for the user."""

    def __init__(self, message, final=False):
        super().__init__(message)
        self.final = final


def _people(case, role):
    return [{"name": p.name, "id_number": p.id_number, "phone": p.phone or ""} for p in case.parties if p.role == role]


def payload(row) -> dict:
    """The documented request body of one transfer request."""
    from app import rulebook
    case = row.case
    business = rulebook.for_case(case)
    holder = business.effect_options.get("holder_role", "obligee")
    sellers = [r for r in business.form.parties if r != holder]
    cu = case.units[0]
    cert = db.session.scalar(select(Certificate.number).where(Certificate.case_id == case.id).order_by(Certificate.id))
    return {"reference": row.reference, "kind": row.kind, "account_number": row.account_number or "",
            "case_number": case.official_number or case.number, "certificate_number": cert or "",
            "unit": {"unit_code": cu.unit.unit_code, "location": cu.unit.location},
            "from": [{k: p[k] for k in ("name", "id_number")} for role in sellers for p in _people(case, role)],
            "to": _people(case, holder)}


class SandboxUtilities:
    def send(self, row):
        if (row.account_number or "").startswith("0000"):
            raise UtilityError(str(_l("The company refused: %(message)s", message=_l("unknown account number"))),
                               final=True)
        return f"SANDBOX-{row.reference}"


class HttpUtilities:
    def send(self, row):
        try:
            data = signing.call("UTILITIES", "/v1/transfers", payload(row))
        except signing.ServiceError as exc:
            # The company's signed refusal is final; anything else (unreachable, unsigned) may pass on a retry.
            raise UtilityError(str(exc), final=isinstance(exc, signing.ServiceRefused)) from None
        ticket = str(data.get("ticket") or "")
        if data.get("reference") != row.reference or not ticket:
            raise UtilityError(str(_l("The utilities platform gave no ticket for the request")))
        return ticket[:80]


def adapter():
    from app.services import outside
    return SandboxUtilities() if outside.selected("UTILITIES") == "sandbox" else HttpUtilities()


def offered(business) -> list:
    return list(business.utilities or [])


def rows(case) -> list:
    return list(db.session.scalars(select(UtilityTransfer).where(UtilityTransfer.case_id == case.id)
                                   .order_by(UtilityTransfer.id)))


def request(case, accounts: dict, skip: bool = False) -> list:
    """Queue (or skip) the transfers of the utilities the business offers; accounts: kind -> account number.
    A kind already sent is left as it is. Returns the rows to send."""
    from app import rulebook
    existing = {r.kind: r for r in rows(case)}
    out = []
    for kind in offered(rulebook.for_case(case)):
        row = existing.get(kind)
        if row is not None and row.status == "sent":
            continue
        if row is None:
            row = UtilityTransfer(case_id=case.id, kind=kind, reference=f"UT{utcnow():%Y%m%d}{secrets.token_hex(6).upper()}",
                                  attempts=0)
            db.session.add(row)
        row.account_number = (accounts.get(kind) or "").strip()[:40] or None
        row.status, row.message = ("skipped", None) if skip else ("queued", None)
        if not skip:
            out.append(row)
    db.session.flush()
    return out


def deliver(row, sleep=time.sleep) -> None:
    """Send one request with retries; records the outcome on the row (the caller commits)."""
    attempts = max(1, int(current_app.config["UTILITIES_ATTEMPTS"]))
    pause = float(current_app.config["UTILITIES_RETRY_SECONDS"])
    for attempt in range(1, attempts + 1):
        row.attempts += 1
        try:
            row.ticket = adapter().send(row)
        except UtilityError as exc:
            row.message = str(exc)[:300]
            if exc.final or attempt == attempts:
                row.status = "failed"
                return
            sleep(pause * 2 ** (attempt - 1))
            continue
        row.status, row.message = "sent", None
        return
