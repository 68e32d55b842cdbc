"""The rulebook: each business type's behaviour as data (rules/*.yaml), versioned in the database.

One package holds the engine, in layers that import one way only (tests/test_import_graph.py):
messages, schema, source, language -> registry -> lookup, checks, guards, effects -> loader -> this
module (the versions) -> workflow (the engine that fires transitions).

A version is the whole resolved business: the business file's text plus every shared part it was
checked and is run with (its workflow, the vocabularies, the tax table, the calendar), stored once
each in rule_blob under their content address. A case keeps the version it started with
(Case.rules_version_id), so a deploy that edits a shared workflow changes new cases only.

Precedence of files and console edits (shown in the console):
- shared parts (rules/workflows, vocabularies, tax, calendar) always come from the files: a change
  is taken into a new version of every business that uses it, console edits included;
- a business file is followed until a configurator edits that business in the console; from then on
  the console's text wins, and a newer file is offered in the console as a three-way view
  (file / console / merged) until the configurator saves a merge. It is never dropped silently.

Business objects are cached by RuleVersion.id and the active id is looked up per request (one cheap
query), so an edit saved by one process takes effect in every process without a restart.
"""
import difflib
import logging
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

from flask import current_app, g, has_request_context
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.extensions import db
from models import Case, RuleBlob, RuleVersion
from models.base import utcnow

from . import checks, effects, guards, legal, lookup, steps  # noqa: F401  (they fill the registry tables the loader checks names against)
from . import messages
from .language import current_locale
from .loader import RulesError, build_context, digest, load_directory, parse_business, part_kind
from .messages import Problem
from .schema import (BusinessSpec, CalendarSpec, Check, Field, LookupKey, MaterialSpec, PartySpec, State, TaxTable, Text,
                     Transition, VocabItem, Workflow)

__all__ = ["get", "for_case", "all_businesses", "vocabulary", "label", "RulesError", "Business", "VocabItem",
           "save_version", "restore_version", "versions", "validate_text", "init_app", "Field", "MaterialSpec",
           "PartySpec", "Check", "LookupKey", "State", "Transition", "Workflow", "Text", "current_locale",
           "file_change", "pinned_problems", "merge3", "PRECEDENCE"]

log = logging.getLogger(__name__)

FILE = "file"   # the parts key of the business file's text a version knows of


class Business(BusinessSpec):
    """A business type as the engine uses it: the spec with its workflow resolved and the shared parts
    of its version (vocabularies, tax table, calendars) attached."""
    workflow: Workflow
    vocabularies: dict[str, list[VocabItem]] = {}
    tax: Optional[TaxTable] = None
    calendars: dict[str, CalendarSpec] = {}
    parts: dict[str, str] = {}
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
_contexts = {}       # frozenset of a version's shared parts -> Context built from the stored blobs
_imported = set()    # database URLs whose rule_version table has every business imported
_broken = {}         # RuleVersion.id -> problems, for versions pinned by open cases that no longer load


def _rules_dir():
    try:
        return Path(current_app.config.get("RULES_DIR") or Path(__file__).resolve().parents[2] / "rules")
    except RuntimeError:
        return Path(__file__).resolve().parents[2] / "rules"


def _context(fresh=False):
    """Today's files, checked. fresh=True reads them again (start-up, a new import)."""
    directory = _rules_dir()
    if fresh or _state["ctx"] is None or _state["dir"] != directory:
        with _lock:
            ctx, files = load_directory(directory)
            _state.update(ctx=ctx, files=files, dir=directory)
    return _state["ctx"]


def build(text, filename, ctx, version_id=None, version=None, expected_key=None) -> Business:
    spec, workflow = parse_business(text, filename, ctx, expected_key=expected_key)
    data = spec.model_dump(by_alias=False)
    data["workflow"] = workflow
    return Business.model_validate({**data, "vocabularies": ctx.vocabularies, "tax": ctx.tax,
                                    "calendars": ctx.calendars, "parts": ctx.parts_for(spec),
                                    "version_id": version_id, "version": version})


def validate_text(text, key):
    """The console's check before saving, against today's shared files: raises RulesError with file,
    key path and line."""
    return build(text, f"rules/{key}.yaml", _context(), expected_key=key)


def _session():
    return db.session


# ---- the blobs -------------------------------------------------------------------------------------
def _blob_rows(parts, texts):
    """RuleBlob rows for the parts {name: digest} not yet stored; texts: {name: text}."""
    return [{"digest": d, "kind": FILE if name == FILE else part_kind(name), "content": texts[name], "created_at": utcnow()}
            for name, d in parts.items()]


def _store_blobs(conn, rows, savepoint=True):
    """Insert each blob once. At start-up another process may insert the same one first (the same
    content): a savepoint keeps the import going. In a console save (savepoint=False) that race
    fails the save, which is reported as saved meanwhile and can be repeated."""
    table = RuleBlob.__table__
    wanted = {r["digest"]: r for r in rows}
    if not wanted:
        return
    have = set(conn.scalars(select(table.c.digest).where(table.c.digest.in_(list(wanted)))))
    for d, row in wanted.items():
        if d in have:
            continue
        if not savepoint:
            conn.execute(table.insert().values(**row))
            continue
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(**row))
        except IntegrityError:
            pass


def _file_digest(text):
    return digest(FILE, text)


def _follows_file(row):
    """Whether the version's text is the business file it knows of (no console edit on top of it)."""
    return bool(row.parts) and _file_digest(row.content) == row.parts.get(FILE)


def _ensure_imported():
    """Take today's files into the database once per process (see the module docstring for precedence):
    new and changed business files and changed shared parts become new versions; a business edited
    in the console keeps its text and only takes the new shared parts."""
    url = str(db.engine.url)
    if url in _imported:
        return True
    if not inspect(db.engine).has_table("rule_blob"):   # made with rule_version.parts
        return False  # not migrated yet: the files themselves serve (e.g. `flask db upgrade` itself)
    ctx = _context(fresh=True)
    table = RuleVersion.__table__
    with db.engine.begin() as conn:
        rows = {}
        for row in conn.execute(select(table).order_by(table.c.version)):
            rows.setdefault(row.business_key, []).append(SimpleNamespace(**row._mapping))
        blobs = []
        for key, (filename, text) in sorted(_state["files"].items()):
            shared = ctx.parts_of[key]
            texts = {n: ctx.sources[n][0] for n in shared}
            history = rows.get(key, [])
            history = _backfill(conn, table, history, shared)
            last = history[-1] if history else None
            active = next((r for r in reversed(history) if r.active), last)
            want, content, note = {**shared, FILE: _file_digest(text)}, text, f"imported from {filename}"
            if active is not None and not _follows_file(active):
                # A console edit wins over the business file; it follows the shared files.
                want, content = {**shared, FILE: active.parts.get(FILE)}, active.content
                note = "shared rules files changed"
                try:
                    build(content, f"rules/{key}.yaml", ctx)
                except RulesError as exc:
                    log.warning("rules: %s version %s (edited in the console) does not load with today's shared "
                                "files and keeps its own: %s", key, active.version, exc)
                    continue
            if active is not None and active.parts == want:
                continue
            texts[FILE] = text
            blobs += _blob_rows({n: d for n, d in want.items() if n != FILE or d == _file_digest(text)}, texts)
            if active is not None:
                conn.execute(table.update().where(table.c.business_key == key).values(active=False))
            conn.execute(table.insert().values(
                business_key=key, version=(last.version + 1) if last else 1, content=content, active=True,
                author_name="system", note=note, parts=want, created_at=utcnow()))
        _store_blobs(conn, blobs)
    _imported.add(url)
    return True


def _backfill(conn, table, history, shared):
    """Versions saved before versions held their parts are pinned to today's shared files (what they
    have run with until now); their FILE is the text of the last import at or before them."""
    out, base = [], None
    for row in history:
        if row.author_name == "system":
            base = row.content
        if row.parts is None:
            parts = {**shared, FILE: _file_digest(base if base is not None else row.content)}
            conn.execute(table.update().where(table.c.id == row.id).values(parts=parts))
            row.parts = parts
            if base is not None:
                _store_blobs(conn, _blob_rows({FILE: parts[FILE]}, {FILE: base}))
        out.append(row)
    return out


def _pinned_context(row):
    """The Context a version was saved with, rebuilt from its stored parts."""
    shared = {n: d for n, d in (row.parts or {}).items() if n != FILE}
    if not shared:
        return _context()
    key = frozenset(shared.items())
    ctx = _contexts.get(key)
    if ctx is None:
        texts = dict(_session().execute(select(RuleBlob.digest, RuleBlob.content).where(
            RuleBlob.digest.in_(list(shared.values())))).all())
        missing = [n for n, d in shared.items() if d not in texts]
        if missing:
            raise RulesError([Problem(n, 0, None, messages.PART_MISSING(version=row.version)) for n in missing])
        ctx, problems = build_context({n: texts[d] for n, d in shared.items()})
        if problems:
            raise RulesError(problems)
        _contexts[key] = ctx
    return ctx


def _from_row(row) -> Business:
    biz = _cache.get(row.id)
    if biz is None:
        biz = build(row.content, f"rules/{row.business_key}.yaml (version {row.version})", _pinned_context(row),
                    row.id, row.version)
        _cache[row.id] = biz
    return biz


def _from_file(key) -> Business:
    ctx = _context()
    if key not in _state["files"]:
        raise KeyError(key)
    filename, text = _state["files"][key]
    return build(text, filename, ctx)


def _active_rows() -> dict:
    """{business_key: (id, business_key, version)} of the active versions: one query per request,
    so every process sees a configurator's edit on its next request."""
    memo = g.get("_active_rules") if has_request_context() else None
    if memo is None:
        memo = {row.business_key: row for row in _session().execute(
            select(RuleVersion.id, RuleVersion.business_key, RuleVersion.version)
            .where(RuleVersion.active.is_(True)).order_by(RuleVersion.version))}
        if has_request_context():
            g._active_rules = memo
    return memo


def _forget_active():
    if has_request_context():
        g.pop("_active_rules", None)


def get(business_key) -> Business:
    """The active version of a business (raises KeyError for an unknown key)."""
    if not _ensure_imported():
        return _from_file(business_key)
    row = _active_rows().get(business_key)
    if row is None:
        return _from_file(business_key)
    if row.id in _cache:
        return _cache[row.id]
    return _from_row(_session().get(RuleVersion, row.id))


def for_case(case) -> Business:
    """The version the case started with, with the workflow, vocabularies, tax table and calendar of
    that version: cases in flight never change rules under their feet."""
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
    """Today's vocabulary (pages and lists); the engine reads the case's own: Business.vocabularies."""
    return list(_context().vocabularies.get(name, []))


def label(vocab_name, code) -> str:
    for item in vocabulary(vocab_name):
        if item.code == str(code):
            return item.name.get(current_locale())
    return "" if code is None else str(code)


def versions(business_key) -> list:
    _ensure_imported()
    return list(_session().scalars(select(RuleVersion).where(RuleVersion.business_key == business_key)
                                   .order_by(RuleVersion.version.desc())))


def diff(old_text, new_text, old_name="previous", new_name="new") -> str:
    return "".join(difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        fromfile=old_name, tofile=new_name))


def _active_row(business_key):
    return _session().scalar(select(RuleVersion).where(RuleVersion.business_key == business_key,
                                                       RuleVersion.active.is_(True)).order_by(RuleVersion.version.desc()))


def save_version(business_key, text, user=None, note=None, merges_file=False):
    """Validate and store a new active version with today's shared parts; returns the RuleVersion
    (committed). merges_file: the text resolves today's business file (the three-way view), which
    then counts as known."""
    business = validate_text(text, business_key)
    session = _session()
    _ensure_imported()
    ctx = _context()
    active = _active_row(business_key)
    filename, file_text = _state["files"].get(business_key, (None, None))
    known = (active.parts or {}).get(FILE) if active is not None else None
    if merges_file and file_text is not None or known is None:
        known = _file_digest(file_text if file_text is not None else text)
    parts = {**business.parts, FILE: known}
    texts = {n: ctx.sources[n][0] for n in business.parts}
    if file_text is not None and known == _file_digest(file_text):
        texts[FILE] = file_text
    elif known == _file_digest(text):
        texts[FILE] = text
    rows = _blob_rows({n: d for n, d in parts.items() if n in texts}, texts)
    last = session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.business_key == business_key)) or 0
    for row in session.scalars(select(RuleVersion).where(RuleVersion.business_key == business_key, RuleVersion.active.is_(True))):
        row.active = False
    row = RuleVersion(business_key=business_key, version=last + 1, content=text, active=True, parts=parts,
                      author_id=getattr(user, "id", None),
                      author_name=getattr(user, "username", None) or "system", note=(note or "")[:300] or None)
    session.add(row)
    try:
        _store_blobs(session.connection(), rows, savepoint=False)
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
    old = _session().scalar(select(RuleVersion).where(RuleVersion.business_key == business_key,
                                                      RuleVersion.version == int(version)))
    if old is None:
        raise KeyError(version)
    return save_version(business_key, old.content, user, note=f"restored version {old.version}")


# ---- files against console edits ------------------------------------------------------------------
PRECEDENCE = messages.PRECEDENCE   # the rule above, in the console's words


def file_change(business_key):
    """When the business file is newer than the console-edited active version: {"file", "console",
    "base", "merged", "conflicts", "version"}; None when there is nothing to merge."""
    _ensure_imported()
    active = _active_row(business_key)
    current = _state["files"].get(business_key)
    if active is None or current is None or not active.parts or _follows_file(active):
        return None
    file_text = current[1]
    if _file_digest(file_text) == active.parts.get(FILE):
        return None
    base = _session().scalar(select(RuleBlob.content).where(RuleBlob.digest == active.parts.get(FILE))) or ""
    merged, conflicts = merge3(base, active.content, file_text, f"console v{active.version}", current[0])
    return {"file": file_text, "console": active.content, "base": base, "merged": merged, "conflicts": conflicts,
            "version": active.version, "filename": current[0]}


def merge3(base, ours, theirs, ours_name="console", theirs_name="file"):
    """Three-way merge of lines: changes made on one side only are taken; where both sides changed
    the same lines differently, both are kept between conflict markers. Returns (text, conflicts)."""
    b, o, t = base.splitlines(True), ours.splitlines(True), theirs.splitlines(True)

    def changes(other, who):
        ops = difflib.SequenceMatcher(None, b, other, autojunk=False).get_opcodes()
        return [(i1, i2, other[j1:j2], who) for tag, i1, i2, j1, j2 in ops if tag != "equal"]

    def side(hunk, start, end):
        out, pos = [], start
        for s, e, lines, _who in hunk:
            out += b[pos:s] + lines
            pos = e
        return out + b[pos:end]

    events = sorted(changes(o, "o") + changes(t, "t"), key=lambda c: (c[0], c[1]))
    out, pos, k, conflicts = [], 0, 0, 0
    while k < len(events):
        group = [events[k]]
        start, end = events[k][0], events[k][1]
        k += 1
        while k < len(events) and events[k][0] <= end:   # touching or overlapping changes: one hunk
            group.append(events[k])
            end = max(end, events[k][1])
            k += 1
        out += b[pos:start]
        mine = side([c for c in group if c[3] == "o"], start, end)
        yours = side([c for c in group if c[3] == "t"], start, end)
        if all(c[3] == "o" for c in group) or mine == yours:
            out += mine
        elif all(c[3] == "t" for c in group):
            out += yours
        else:
            conflicts += 1
            nl = lambda lines: lines if not lines or lines[-1].endswith("\n") else lines[:-1] + [lines[-1] + "\n"]  # noqa: E731
            out += [f"<<<<<<< {ours_name}\n"] + nl(mine) + ["=======\n"] + nl(yours) + [f">>>>>>> {theirs_name}\n"]
        pos = end
    out += b[pos:]
    return "".join(out), conflicts


# ---- versions that open cases pin ---------------------------------------------------------------
def pinned_problems(refresh=False) -> list:
    """[(business_key, version, open cases, problems)] for each version an open case pins that no
    longer loads (a name it uses was removed from the code, a part is missing)."""
    if not _ensure_imported():
        return []
    rows = _session().execute(select(Case.rules_version_id, func.count(Case.id)).where(
        Case.finished_at.is_(None), Case.rules_version_id.is_not(None)).group_by(Case.rules_version_id)).all()
    out = []
    for version_id, count in rows:
        if refresh:
            _cache.pop(version_id, None)
        row = _session().get(RuleVersion, version_id)
        if row is None:
            continue
        try:
            _from_row(row)
        except RulesError as exc:
            out.append((row.business_key, row.version, count, exc.problems))
    return out


def init_app(app):
    """Check every rules file at start-up (fail closed), import new and changed ones as versions, and
    re-check every version an open case pins: one that no longer loads is logged by name, not fatal
    (its cases wait for a configurator; the console shows the same list)."""
    with app.app_context():
        _state["ctx"] = None
        _context()
        if _ensure_imported():
            for key, version, count, problems in pinned_problems(refresh=True):
                app.logger.warning("rules: %s version %s, pinned by %s open case(s), no longer loads:\n%s",
                                   key, version, count, "\n".join(f"  - {p.english() if hasattr(p, 'english') else p}"
                                                                   for p in problems))
