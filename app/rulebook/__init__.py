"""The rulebook: each business type's behaviour as data (rules/*.yaml), versioned in the database.

Files in rules/ are version 1 of each business; the configurator console adds versions. Business
objects are cached by RuleVersion.id and the active id is looked up per call (one cheap query),
so an edit saved by one process takes effect in every process without a restart. A case keeps
the version it started with (Case.rules_version_id).
"""
import difflib
import threading
from pathlib import Path
from typing import Optional

from flask import current_app, has_request_context
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from models.base import utcnow

from . import messages
from .loader import RulesError, load_directory, parse_business
from .messages import Problem
from .schema import (Check, Field, LookupKey, MaterialSpec, PartySpec, State, Text, Transition, VocabItem,
                     Workflow, BusinessSpec)

__all__ = ["get", "for_case", "all_businesses", "vocabulary", "label", "RulesError", "Business", "VocabItem",
           "save_version", "restore_version", "versions", "validate_text", "init_app", "Field", "MaterialSpec",
           "PartySpec", "Check", "LookupKey", "State", "Transition", "Workflow", "Text"]


class Business(BusinessSpec):
    """A business type as the engine uses it: the spec with its workflow resolved."""
    workflow: Workflow
    version_id: Optional[int] = None
    version: Optional[int] = None

    @property
    def display_name(self):
        return self.name.get(current_locale())

    def display(self, text):
        return text.get(current_locale()) if text is not None else ""


_lock = threading.Lock()
_state = {"ctx": None, "files": {}, "dir": None}
_cache = {}          # RuleVersion.id -> Business
_imported = set()    # database URLs whose rule_version table has every business imported


def current_locale():
    if not has_request_context():
        return "zh"
    try:
        from flask_babel import get_locale
        loc = get_locale()
        return loc.language if loc else "zh"
    except Exception:   # no Babel on this app (scripts): fall back to the default language
        return "zh"


def _rules_dir():
    try:
        return Path(current_app.config.get("RULES_DIR") or Path(__file__).resolve().parents[2] / "rules")
    except RuntimeError:
        return Path(__file__).resolve().parents[2] / "rules"


def _context():
    directory = _rules_dir()
    if _state["ctx"] is None or _state["dir"] != directory:
        with _lock:
            ctx, files = load_directory(directory)
            _state.update(ctx=ctx, files=files, dir=directory)
    return _state["ctx"]


def build(text, filename, version_id=None, version=None, expected_key=None) -> Business:
    spec, workflow = parse_business(text, filename, _context(), expected_key=expected_key)
    data = spec.model_dump(by_alias=False)
    data["workflow"] = workflow
    return Business.model_validate({**data, "version_id": version_id, "version": version}, from_attributes=True)


def validate_text(text, key):
    """The console's check before saving: raises RulesError with file, key path and line."""
    return build(text, f"rules/{key}.yaml", expected_key=key)


def _session():
    from app.extensions import db
    return db.session


def _ensure_imported():
    """Import each business file as version 1 when the table exists and the business has no version."""
    from app.extensions import db
    from models import RuleVersion
    url = str(db.engine.url)
    if url in _imported:
        return True
    if not inspect(db.engine).has_table("rule_version"):
        return False  # not migrated yet: the files themselves serve (e.g. `flask db upgrade` itself)
    _context()
    table = RuleVersion.__table__
    with db.engine.begin() as conn:
        latest = {}
        for row in conn.execute(select(table.c.business_key, table.c.version, table.c.content, table.c.author_name)
                                .order_by(table.c.version)):
            latest[row.business_key] = row
        for key, (filename, text) in sorted(_state["files"].items()):
            last = latest.get(key)
            # A changed file is deployed as a new version, unless a configurator has edited since the
            # last import: then the database (their edit) wins.
            if last is not None and (last.content == text or last.author_name != "system"):
                continue
            if last is not None:
                conn.execute(table.update().where(table.c.business_key == key).values(active=False))
            conn.execute(table.insert().values(
                business_key=key, version=(last.version + 1) if last else 1, content=text, active=True,
                author_name="system", note=f"imported from {filename}", created_at=utcnow()))
    _imported.add(url)
    return True


def _from_row(row) -> Business:
    biz = _cache.get(row.id)
    if biz is None:
        biz = build(row.content, f"rules/{row.business_key}.yaml (version {row.version})", row.id, row.version)
        _cache[row.id] = biz
    return biz


def _from_file(key) -> Business:
    _context()
    if key not in _state["files"]:
        raise KeyError(key)
    filename, text = _state["files"][key]
    return build(text, filename)


def _active_rows() -> dict:
    """{business_key: (id, business_key, version)} of the active versions: one query per request,
    so every process sees a configurator's edit on its next request."""
    from flask import g

    from models import RuleVersion
    memo = g.get("_active_rules") if has_request_context() else None
    if memo is None:
        memo = {row.business_key: row for row in _session().execute(
            select(RuleVersion.id, RuleVersion.business_key, RuleVersion.version)
            .where(RuleVersion.active.is_(True)).order_by(RuleVersion.version))}
        if has_request_context():
            g._active_rules = memo
    return memo


def _forget_active():
    from flask import g
    if has_request_context():
        g.pop("_active_rules", None)


def get(business_key) -> Business:
    """The active version of a business (raises KeyError for an unknown key)."""
    from models import RuleVersion
    if not _ensure_imported():
        return _from_file(business_key)
    row = _active_rows().get(business_key)
    if row is None:
        return _from_file(business_key)
    if row.id in _cache:
        return _cache[row.id]
    return _from_row(_session().get(RuleVersion, row.id))


def for_case(case) -> Business:
    """The version the case started with; cases in flight never change rules under their feet."""
    from models import RuleVersion
    if case.rules_version_id:
        if case.rules_version_id in _cache:
            return _cache[case.rules_version_id]
        return _from_row(_session().get(RuleVersion, case.rules_version_id))
    return get(case.business_key)


def all_businesses() -> list:
    _context()
    keys = set(_state["files"])
    if _ensure_imported():
        keys |= set(_active_rows())
    order = {v.code: i for i, v in enumerate(vocabulary("categories"))}
    return sorted((get(k) for k in keys), key=lambda b: (order.get(b.category, 99), b.key))


def vocabulary(name) -> list:
    return list(_context().vocabularies.get(name, []))


def label(vocab_name, code) -> str:
    for item in vocabulary(vocab_name):
        if item.code == str(code):
            return item.name.get(current_locale())
    return "" if code is None else str(code)


def versions(business_key) -> list:
    from models import RuleVersion
    _ensure_imported()
    return list(_session().scalars(select(RuleVersion).where(RuleVersion.business_key == business_key)
                                   .order_by(RuleVersion.version.desc())))


def diff(old_text, new_text, old_name="previous", new_name="new") -> str:
    return "".join(difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        fromfile=old_name, tofile=new_name))


def save_version(business_key, text, user=None, note=None):
    """Validate and store a new active version; returns the RuleVersion (committed)."""
    from app import audit
    from models import RuleVersion
    validate_text(text, business_key)
    session = _session()
    _ensure_imported()
    last = session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.business_key == business_key)) or 0
    for row in session.scalars(select(RuleVersion).where(RuleVersion.business_key == business_key, RuleVersion.active.is_(True))):
        row.active = False
    row = RuleVersion(business_key=business_key, version=last + 1, content=text, active=True,
                      author_id=getattr(user, "id", None),
                      author_name=getattr(user, "username", None) or "system", note=(note or "")[:300] or None)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # another configurator saved the same version number first
        session.rollback()
        raise RulesError([Problem(f"rules/{business_key}.yaml", 0, None,
                                  messages.SAVED_MEANWHILE(version=last + 1))]) from None
    audit.record(session, "rules_saved", "RuleVersion", row.id, summary=f"{business_key} v{row.version}")
    session.commit()
    _forget_active()
    return row


def restore_version(business_key, version, user=None):
    """Restoring keeps history linear: the old text becomes the newest version."""
    from models import RuleVersion
    old = _session().scalar(select(RuleVersion).where(RuleVersion.business_key == business_key,
                                                      RuleVersion.version == int(version)))
    if old is None:
        raise KeyError(version)
    return save_version(business_key, old.content, user, note=f"restored version {old.version}")


def init_app(app):
    """Check every rules file at start-up (fail closed) and import new businesses as version 1."""
    with app.app_context():
        _state["ctx"] = None
        _context()
        _ensure_imported()

from . import lookup  # noqa: E402,F401  (rulebook.lookup.find_units is part of the API)
