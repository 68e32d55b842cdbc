"""办理进度查询 as the Beihai manual has it: the case number (申请编号 or 受理编号) with one fact of a party,
the last 4 characters of a person's ID number or the full name of an organisation.

Misses are counted per client address in the rate limiter's storage (shared between instances with
Redis): after PROGRESS_CAPTCHA_AFTER misses within an hour every further query needs the image captcha,
so four characters cannot be walked through."""
import re

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse
from sqlalchemy import select

from app.extensions import db, limiter
from models import Case, CaseParty

LAST4 = re.compile(r"[0-9]{3}[0-9X]")
FULL_ID = re.compile(r"[0-9]{17}[0-9X]")


def _norm(text):
    return " ".join((text or "").replace("（", "(").replace("）", ")").split())


def find(number: str, fact: str):
    """(case, the number as typed) when the fact matches a party of the case, else (None, None)."""
    number, fact = (number or "").strip(), _norm(fact)
    if not number or not fact:
        return None, None
    # Two look-ups, each by its unique index (an OR reads the whole table on SQLite).
    case = db.session.scalar(select(Case).where(Case.number == number).execution_options(skip_scope=True)) or \
        db.session.scalar(select(Case).where(Case.official_number == number).execution_options(skip_scope=True))
    if case is None:
        return None, None
    parties = db.session.execute(select(CaseParty.kind, CaseParty.name, CaseParty.id_number)
                                 .where(CaseParty.case_id == case.id).execution_options(skip_scope=True)).all()
    upper = fact.upper()
    for kind, name, id_number in parties:
        id_number = (id_number or "").upper()
        if kind == "person" and LAST4.fullmatch(upper) and len(id_number) >= 8 and id_number.endswith(upper):
            return case, number
        if FULL_ID.fullmatch(upper) and id_number == upper:
            return case, number
        if kind == "organisation" and len(fact) >= 4 and _norm(name) == fact:
            return case, number
    return None, None


def _misses_item():
    return parse(f"{current_app.config['PROGRESS_CAPTCHA_AFTER']} per hour")


def _key():
    return ("progress_miss", get_remote_address())


def captcha_needed() -> bool:
    return not limiter.limiter.test(_misses_item(), *_key())


def count_miss():
    limiter.limiter.hit(_misses_item(), *_key())
