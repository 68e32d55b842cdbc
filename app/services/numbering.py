"""Sequence numbers: case numbers, certificate and proof numbers, payment orders.

Each sequence is a Counter row incremented with an UPDATE inside the caller's transaction, so two
processes never hand out the same number and a rolled-back case does not burn one.
"""
import datetime as dt

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from models import Counter


def next_value(name: str) -> int:
    updated = db.session.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + 1))
    if updated.rowcount == 0:
        db.session.add(Counter(name=name, value=1))
        db.session.flush()
        return 1
    return db.session.scalar(select(Counter.value).where(Counter.name == name))


def case_number(today: dt.date = None) -> str:
    """Online application number: WS + date + 5-digit daily sequence, e.g. WS2026112400001."""
    today = today or dt.date.today()
    return f"WS{today:%Y%m%d}{next_value(f'case:{today:%Y%m%d}'):05d}"


def official_case_number(today: dt.date = None) -> str:
    """The registry's case number given at acceptance (受理), e.g. 2026-0000123."""
    today = today or dt.date.today()
    return f"{today:%Y}-{next_value(f'official:{today:%Y}'):07d}"


def _register_number(kind: str, year: int) -> str:
    cfg = current_app.config
    seq = next_value(f"{'certificate_number' if kind == '不动产权' else 'proof_number'}:{year}")
    return f"{cfg['REGISTRY_PROVINCE']}({year}){cfg['REGISTRY_CITY']}{kind}第{seq:0{cfg['CERTIFICATE_SEQUENCE_WIDTH']}d}号"


def certificate_number(year: int = None) -> str:
    return _register_number("不动产权", year or dt.date.today().year)


def proof_number(year: int = None) -> str:
    return _register_number("不动产证明", year or dt.date.today().year)


def payment_order_number(today: dt.date = None) -> str:
    today = today or dt.date.today()
    return f"PAY{today:%Y%m%d}{next_value(f'payment:{today:%Y%m%d}'):06d}"
