"""自助打证: a one-time code that prints a case's certificates or proofs at the registry's kiosk (/kiosk).

The code is shown once, to the operator who makes it (for the holder); only its keyed digest (HMAC-SHA256
under SECRET_KEY) is kept. At the kiosk it is good once and until it expires (REGISTRY_KIOSK_CODE_HOURS);
a new code for the same case retires the old ones. Every issue and every print is audited; the kiosk's
attempts are rate-limited (app/limits.py)."""
import datetime as dt
import hmac
import secrets
from hashlib import sha256

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app import audit
from app.extensions import db
from models import Case, Certificate, KioskCode
from models.base import utcnow

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # no 0/O, 1/I: read off a slip and typed on a touch screen
LENGTH = 10


class KioskError(ValueError):
    """The code does not print; str() is the user-facing message."""


def normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"kiosk:" + normalize(code).encode(), sha256).hexdigest()


def printable(case) -> list:
    return list(db.session.scalars(select(Certificate).where(Certificate.case_id == case.id,
                                                             Certificate.status == "valid").order_by(Certificate.id)))


def issue(case, user) -> str:
    """A new code for the case (its certificates must exist); returns the code, which is not kept."""
    if not printable(case):
        raise KioskError(str(_l("The case has no certificate or proof to print yet")))
    now = utcnow()
    db.session.execute(update(KioskCode).where(KioskCode.case_id == case.id, KioskCode.spent_at.is_(None))
                       .values(expires_at=now).execution_options(synchronize_session=False))
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    db.session.add(KioskCode(case_id=case.id, code_hash=_digest(code), issued_by=getattr(user, "id", None),
                             issued_at=now, expires_at=now + dt.timedelta(hours=current_app.config["KIOSK_CODE_HOURS"])))
    audit.record(db.session, "kiosk_code_issued", "Case", case.id, summary=case.number)
    return code


def latest(case):
    return db.session.scalar(select(KioskCode).where(KioskCode.case_id == case.id).order_by(KioskCode.id.desc()))


def redeem(code: str):
    """Spend the code: (case, certificates). Raises KioskError. The caller commits (and renders the PDF)."""
    row = db.session.scalar(select(KioskCode).where(KioskCode.code_hash == _digest(code))
                            .execution_options(skip_scope=True).with_for_update())
    now = utcnow()
    if row is None or len(normalize(code)) != LENGTH:
        audit.record(db.session, "kiosk_refused", "KioskCode", None, summary="unknown code")
        raise KioskError(str(_l("This self-service printing code is not valid")))
    if row.spent_at is not None:
        audit.record(db.session, "kiosk_refused", "KioskCode", row.id, summary="spent")
        raise KioskError(str(_l("This code was already used to print; ask the registry for a new one")))
    if row.expires_at <= now:
        audit.record(db.session, "kiosk_refused", "KioskCode", row.id, summary="expired")
        raise KioskError(str(_l("This code has expired; ask the registry for a new one")))
    # Spent by the one statement that finds it unspent: two kiosks typing the same code print once.
    spent = db.session.execute(update(KioskCode).where(KioskCode.id == row.id, KioskCode.spent_at.is_(None))
                               .values(spent_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise KioskError(str(_l("This code was already used to print; ask the registry for a new one")))
    case = db.session.get(Case, row.case_id)
    certs = printable(case)
    audit.record(db.session, "kiosk_printed", "Case", case.id, institution_id=case.institution_id,
                 summary=f"{case.number}: {'、'.join(c.number for c in certs)}")
    return case, certs
