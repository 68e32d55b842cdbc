"""Sequence numbers: case numbers, certificate and proof numbers, payment orders.

Each sequence is a Counter row taken with one upsert inside the caller's transaction:
`INSERT ... ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value`. The first
number of a new day or year creates the row, every later one increments it, and the database decides
which in one statement, so two requests at the same instant cannot both insert (the old
update-then-insert did: an IntegrityError on counter_pkey, a 500). The row stays locked until the
caller commits: a concurrent allocation waits and then counts on from the committed value, so the
numbers have no duplicate, and a rolled-back case does not burn one (no gap).

Nothing is retried here. At READ COMMITTED (PostgreSQL's default, which the app uses) the upsert never
fails for a concurrent allocation: it waits for the row lock instead. A serialization failure (only
under REPEATABLE READ or SERIALIZABLE) or a deadlock aborts the whole transaction on PostgreSQL, so
repeating this one statement inside it cannot succeed; only the caller can start the transaction again.
SQLite serializes writers itself (busy timeout) and has the upsert with RETURNING from 3.35.
"""
import datetime as dt

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app import settings
from app.extensions import db
from models import Counter

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
SQLITE_RETURNING = (3, 35, 0)


def next_value(name: str) -> int:
    dialect = db.session.get_bind().dialect
    if dialect.name not in _INSERT:
        raise RuntimeError(f"sequence numbers need PostgreSQL or SQLite, not {dialect.name}")
    if dialect.name == "sqlite" and dialect.server_version_info < SQLITE_RETURNING:
        raise RuntimeError("sequence numbers need SQLite 3.35 or later (INSERT ... RETURNING), found "
                           + ".".join(map(str, dialect.server_version_info)))
    upsert = _INSERT[dialect.name](Counter).values(name=name, value=1)
    upsert = upsert.on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
    return db.session.execute(upsert.returning(Counter.value)).scalar_one()


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
    province, city = settings.get("province"), settings.get("city")  # 参数设置, else config.py
    return f"{province}({year}){city}{kind}第{seq:0{cfg['CERTIFICATE_SEQUENCE_WIDTH']}d}号"


def certificate_number(year: int = None) -> str:
    return _register_number("不动产权", year or dt.date.today().year)


def proof_number(year: int = None) -> str:
    return _register_number("不动产证明", year or dt.date.today().year)


def payment_order_number(today: dt.date = None) -> str:
    today = today or dt.date.today()
    return f"PAY{today:%Y%m%d}{next_value(f'payment:{today:%Y%m%d}'):06d}"
