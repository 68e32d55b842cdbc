"""字典: the one place a code becomes words. Every code shown anywhere (lists, show pages, filters, the
audit log, PDFs, Excel, the public pages, the API's *_label fields) goes through label(), and every
select of codes through choices().

A dictionary type is named by its code: the code lists of rules/vocabularies.yaml ("id_types",
"mortgage_kinds", ...) and the enumerations the models hold (app/enumerations.py: "institution_status", ...).
Both are seeded into the database (models/dictionary.py) at start-up by sync(), which only adds what
is missing, so edits made in the 字典管理 console (views/dictionary_console.py) survive restarts.
The console's edits govern what is shown and offered today; the workflow engine keeps reading each
case's pinned rule version with its own vocabularies.

The whole dictionary (a few hundred rows) is read once per request (or app context) into flask.g:
one query however many labels a page shows. Disabled items leave choices() but label() still
words them, for the old data that holds them."""
import json

from flask import g, has_app_context
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app import audit, rulebook
from app.enumerations import ENUMERATIONS
from app.extensions import db
from app.rulebook.language import current_locale
from models import DictItem, DictType, DictVersion

# Names of the dictionary types in the console; a type missing here is named by its code.
TYPE_NAMES = {
    "categories": ("业务类别", "Business categories"), "registration_types": ("登记类型", "Registration types"),
    "id_types": ("证件种类", "ID types"), "mortgage_kinds": ("抵押方式", "Mortgage kinds"),
    "collateral_types": ("抵押不动产类型", "Collateral types"), "pre_notice_kinds": ("预告登记种类", "Pre-notice kinds"),
    "share_modes": ("共有方式", "Share modes"), "loan_types": ("贷款类别", "Loan types"),
    "apply_reasons_mortgage": ("申请原因（抵押）", "Apply reasons (mortgage)"),
    "apply_reasons_change": ("申请原因（抵押变更）", "Apply reasons (mortgage change)"),
    "apply_reasons_transfer_mortgage": ("申请原因（抵押转移）", "Apply reasons (mortgage transfer)"),
    "apply_reasons_correction": ("申请原因（更正）", "Apply reasons (correction)"),
    "apply_reasons_cancel": ("注销原因", "Cancellation reasons"),
    "apply_reasons_pre_notice": ("申请原因（预告）", "Apply reasons (pre-notice)"),
    "apply_reasons_transfer": ("申请原因（转移）", "Apply reasons (transfer)"),
    "apply_reasons_first": ("申请原因（首次）", "Apply reasons (first registration)"),
    "apply_reasons_company_mortgage": ("申请原因（在建建筑物抵押）", "Apply reasons (building under construction)"),
    "reject_types": ("驳回类型", "Rejection types"), "unit_uses": ("房屋用途", "Unit uses"),
    "collateral_types_construction": ("在建建筑物抵押不动产类型", "Collateral types (under construction)"),
    "enterprise_types": ("企业类型", "Enterprise types"), "housing_kinds": ("住房性质", "Housing kinds"),
    "institution_kind": ("机构类型", "Institution kinds"), "institution_status": ("机构状态", "Institution statuses"),
    "operator_status": ("经办人状态", "Operator statuses"), "party_kind": ("当事人类型", "Party kinds"),
    "unit_use": ("单元用途", "Unit uses (register)"), "right_status": ("权利状态", "Right statuses"),
    "mortgage_status": ("抵押状态", "Mortgage statuses"), "pre_notice_status": ("预告状态", "Pre-notice statuses"),
    "role": ("角色", "Roles"), "audit_action": ("操作类型", "Audit actions"), "audit_object": ("操作对象", "Audit objects"),
    "check_severity": ("检查级别", "Check severities"), "field_type": ("字段类型", "Field types"),
    "login_result": ("登录结果", "Sign-in results"), "login_reason": ("登录原因", "Sign-in reasons"),
    "login_method": ("登录方式", "Sign-in methods"), "session_end": ("会话结束方式", "Session ends"),
    "data_scope": ("数据权限", "Data scopes"),
}

# Colour tags an item may carry (Bootstrap label classes), shown beside its words where a page wants.
COLORS = ("default", "primary", "success", "info", "warning", "danger")
CACHE_KEY = "_registry_dictionary"


class DictionaryError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


# --- the seeds ------------------------------------------------------------------------------------
def sources() -> dict:
    """{type code: (source, [(code, label zh, label en)])} as the files and the models hold them today."""
    out = {}
    for name, items in rulebook._context().vocabularies.items():
        out[name] = ("vocabularies", [(i.code, i.name.zh, i.name.en or i.name.zh) for i in items])
    g.setdefault("_dictionary_seed", True)  # Flask-Babel's force_locale does nothing while g is empty
    for name, vocabulary in ENUMERATIONS.items():
        with force_locale("zh"):
            zh = {code: str(words) for code, words in vocabulary.items()}
        with force_locale("en"):
            en = {code: str(words) for code, words in vocabulary.items()}
        out[name] = ("enumeration", [(code, zh[code], en[code]) for code in vocabulary])
    return out


def sync() -> int:
    """Add the types and items the seeds have and the database lacks (never overwrites an edit); each
    type created or grown gets a version. Idempotent; safe to run by several instances at once (a
    concurrent insert loses the race and is skipped). Returns how many items were added."""
    added = 0
    for type_code, (source, items) in sources().items():
        try:
            with db.engine.begin() as conn:
                row = conn.execute(select(DictType.id, DictType.version).where(DictType.code == type_code)).first()
                if row is None:
                    zh, en = TYPE_NAMES.get(type_code, (type_code, type_code))
                    type_id = conn.execute(insert(DictType).values(code=type_code, name_zh=zh, name_en=en, source=source,
                                                                   version=1)).inserted_primary_key[0]
                    version = 1
                else:
                    type_id, version = row.id, row.version + 1
                have = set(conn.scalars(select(DictItem.code).where(DictItem.type_id == type_id)))
                missing = [i for i in items if i[0] not in have]
                if not missing:
                    continue
                start = conn.scalar(select(func.coalesce(func.max(DictItem.sort_order), 0)).where(
                    DictItem.type_id == type_id)) or 0
                conn.execute(insert(DictItem), [
                    {"type_id": type_id, "code": code, "label_zh": zh, "label_en": en, "sort_order": start + 10 * (n + 1),
                     "color": "default", "enabled": True} for n, (code, zh, en) in enumerate(missing)])
                if row is not None:
                    conn.execute(DictType.__table__.update().where(DictType.id == type_id).values(version=version))
                conn.execute(insert(DictVersion).values(
                    type_code=type_code, version=version, content=_content(_rows(conn, type_id)), author_name="system",
                    note="seeded from " + ("rules/vocabularies.yaml" if source == "vocabularies" else "app/enumerations.py")))
                added += len(missing)
        except IntegrityError:  # another instance seeded this type at the same moment
            continue
    return added


def _rows(conn, type_id):
    return [dict(code=r.code, label_zh=r.label_zh, label_en=r.label_en, sort_order=r.sort_order, color=r.color,
                 enabled=bool(r.enabled))
            for r in conn.execute(select(DictItem).where(DictItem.type_id == type_id)
                                  .order_by(DictItem.sort_order, DictItem.id))]


def _content(rows) -> str:
    return json.dumps(rows, ensure_ascii=False)


def as_text(content) -> str:
    """A version's items one per line, to compare versions (history page)."""
    rows = json.loads(content)
    return "".join(f"{r['sort_order']:>4}  {r['code']}  {r['label_zh']} / {r['label_en']}  {r['color']}"
                   f"{'' if r['enabled'] else '  (' + _('disabled') + ')'}\n" for r in rows)


# --- reading (once per request) -------------------------------------------------------------------
def _load() -> dict:
    """{type code: {"name": (zh, en), "version": n, "items": [row dicts in order]}} from the database,
    on its own connection (a missing table must not spoil the request's transaction); {} when the
    schema is not there yet (before `flask db upgrade`), so the seeds answer."""
    try:
        with db.engine.connect() as conn:
            result = conn.execute(select(DictType.code, DictType.name_zh, DictType.name_en, DictType.version,
                                         DictItem.code.label("item"), DictItem.label_zh, DictItem.label_en,
                                         DictItem.sort_order, DictItem.color, DictItem.enabled)
                                  .join(DictItem, DictItem.type_id == DictType.id, isouter=True)
                                  .order_by(DictType.code, DictItem.sort_order, DictItem.id)).all()
    except SQLAlchemyError:
        return {}
    table = {}
    for r in result:
        entry = table.setdefault(r.code, {"name": (r.name_zh, r.name_en), "version": r.version, "items": [],
                                          "by_code": {}})
        if r.item is not None:
            item = {"code": r.item, "label_zh": r.label_zh, "label_en": r.label_en, "sort_order": r.sort_order,
                    "color": r.color, "enabled": bool(r.enabled)}
            entry["items"].append(item)
            entry["by_code"][r.item] = item
    return table


def table() -> dict:
    if not has_app_context():
        return {}
    cached = g.get(CACHE_KEY)
    if cached is None:
        cached = _load()
        if not cached and seedable():
            sync()  # a database migrated after the app started (the tests): seed it now
            cached = _load()
        setattr(g, CACHE_KEY, cached)
    return cached


def seedable() -> bool:
    try:
        return inspect(db.engine).has_table("dict_type")
    except SQLAlchemyError:
        return False


def forget() -> None:
    """Read the dictionary again at its next use (after a save in this request)."""
    if has_app_context():
        g.pop(CACHE_KEY, None)


def _words(item) -> str:
    return (item["label_en"] or item["label_zh"]) if current_locale() == "en" else item["label_zh"]


def choices(dict_type) -> list:
    """[(code, words)] of one dictionary type's enabled items in their order, in the current language."""
    entry = table().get(dict_type)
    if entry is not None:
        return [(item["code"], _words(item)) for item in entry["items"] if item["enabled"]]
    if dict_type in ENUMERATIONS:
        return [(code, str(words)) for code, words in ENUMERATIONS[dict_type].items()]
    return [(item.code, rulebook.label(dict_type, item.code)) for item in rulebook.vocabulary(dict_type)]


def workflow_words(code) -> str | None:
    """A workflow state or event (pre_review, submit) in words, from the rules' workflows; None when no
    business knows it."""
    for business in rulebook.all_businesses():
        workflow = business.workflow
        if code in workflow.states:
            return business.display(workflow.states[code].label)
        for t in workflow.transitions:
            if t.event == code:
                return business.display(t.label)
    return None


def business_name(key) -> str | None:
    """A business key as the business's name; None when no business has that key."""
    for business in rulebook.all_businesses():
        if business.key == key:
            return business.display_name
    return None


def label(dict_type, code) -> str:
    """The words for code in dict_type (enabled or not); blank for no value; the code itself only when
    the dictionary lacks it (a configurator's typo shows, rather than vanishing). A case's workflow
    events in the audit log (case_<event>) read their words from the rules."""
    if code is None or code == "":
        return ""
    if dict_type == "audit_action" and str(code).startswith("case_") and code not in ENUMERATIONS["audit_action"]:
        return workflow_words(code[len("case_"):]) or str(code)
    entry = table().get(dict_type)
    if entry is not None:
        item = entry["by_code"].get(str(code))
        if item is not None:
            return _words(item)
    if dict_type in ENUMERATIONS:
        words = ENUMERATIONS[dict_type].get(code)
        return str(words) if words is not None else str(code)
    return rulebook.label(dict_type, code)


def color(dict_type, code) -> str:
    """The item's colour tag (one of COLORS), "default" when it has none."""
    entry = table().get(dict_type)
    item = entry["by_code"].get(str(code)) if entry else None
    return item["color"] if item else "default"


def type_name(dict_type) -> str:
    entry = table().get(dict_type)
    zh, en = entry["name"] if entry else TYPE_NAMES.get(dict_type, (dict_type, dict_type))
    return en if current_locale() == "en" else zh


# --- editing (the console) ------------------------------------------------------------------------
def _check(rows):
    problems = []
    for code, row in rows.items():
        if not row["label_zh"]:
            problems.append(_("%(code)s: the Chinese label is required", code=code))
        if len(row["label_zh"]) > 200 or len(row["label_en"]) > 200:
            problems.append(_("%(code)s: a label has at most 200 characters", code=code))
        if row["color"] not in COLORS:
            problems.append(_("%(code)s: unknown colour", code=code))
        if not isinstance(row["sort_order"], int) or not 0 <= row["sort_order"] <= 100000:
            problems.append(_("%(code)s: the order is a whole number from 0 to 100000", code=code))
    return problems


def save(type_code, rows, user=None, note=None, base_version=None):
    """Apply the console's rows {code: {label_zh, label_en, sort_order, color, enabled}} to the type's
    items as a new version (audited, committed); returns the DictVersion. Raises DictionaryError with
    every problem, KeyError for an unknown type."""
    dtype = db.session.scalar(select(DictType).where(DictType.code == type_code))
    if dtype is None:
        raise KeyError(type_code)
    if base_version is not None and int(base_version) != dtype.version:
        raise DictionaryError([_("Someone saved version %(v)s while you were editing; compare and try again",
                                 v=dtype.version)])
    items = {i.code: i for i in db.session.scalars(select(DictItem).where(DictItem.type_id == dtype.id))}
    rows = {code: row for code, row in rows.items() if code in items}
    problems = _check(rows)
    if problems:
        raise DictionaryError(problems)
    changed = False
    for code, row in rows.items():
        item = items[code]
        for attr in ("label_zh", "label_en", "sort_order", "color", "enabled"):
            if getattr(item, attr) != row[attr]:
                setattr(item, attr, row[attr])
                changed = True
    if not changed:
        raise DictionaryError([_("Nothing changed")])
    dtype.version += 1
    db.session.flush()
    content = _content([dict(code=i.code, label_zh=i.label_zh, label_en=i.label_en, sort_order=i.sort_order,
                             color=i.color, enabled=bool(i.enabled))
                        for i in sorted(items.values(), key=lambda i: (i.sort_order, i.id))])
    version = DictVersion(type_code=type_code, version=dtype.version, content=content,
                          author_id=getattr(user, "id", None), author_name=getattr(user, "username", None) or "system",
                          note=(note or None) and note[:300])
    db.session.add(version)
    audit.record(db.session, "dictionary_saved", "DictType", dtype.id, summary=f"{type_code} v{dtype.version}")
    db.session.commit()
    forget()
    return version


def versions(type_code) -> list:
    return list(db.session.scalars(select(DictVersion).where(DictVersion.type_code == type_code)
                                   .order_by(DictVersion.version.desc())))


def restore(type_code, version, user=None):
    """Save an earlier version's items again as the newest version."""
    old = db.session.scalar(select(DictVersion).where(DictVersion.type_code == type_code,
                                                      DictVersion.version == version))
    if old is None:
        raise KeyError(version)
    rows = {r["code"]: r for r in json.loads(old.content)}
    return save(type_code, rows, user, _("restored version %(v)s", v=version))
