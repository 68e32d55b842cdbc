"""字典: the one place a code becomes words. Every code shown anywhere (lists, show pages, filters, the
audit log, PDFs, Excel, the public pages, the API's *_label fields) goes through label(), and every
select of codes through choices().

A dictionary type is named by its code: the code lists of rules/vocabularies.yaml ("id_types",
"mortgage_kinds", ...) and the enumerations the models hold (app/vocab.py: "institution_status", ...).
Today both are read from those sources; the 字典管理 screen moves them into the database without
changing this interface."""
from flask_babel import get_locale

from app import rulebook, vocab

# The models' own enumerations, by dictionary type.
ENUMERATIONS = {
    "institution_kind": vocab.INSTITUTION_KIND, "institution_status": vocab.INSTITUTION_STATUS,
    "operator_status": vocab.OPERATOR_STATUS, "party_kind": vocab.PARTY_KIND, "unit_use": vocab.UNIT_USE,
    "right_status": vocab.RIGHT_STATUS, "mortgage_status": vocab.MORTGAGE_STATUS,
    "pre_notice_status": vocab.PRE_NOTICE_STATUS,
}
# 登录日志, 在线用户, 数据权限 (the sessions area).
ENUMERATIONS.update({"login_result": vocab.LOGIN_RESULT, "login_reason": vocab.LOGIN_REASON,
                     "login_method": vocab.LOGIN_METHOD, "session_end": vocab.SESSION_END,
                     "data_scope": vocab.DATA_SCOPE})


def _locale():
    return str(get_locale() or "zh")


def choices(dict_type) -> list:
    """[(code, words)] of one dictionary type in its order, in the current language."""
    if dict_type in ENUMERATIONS:
        return [(code, str(words)) for code, words in ENUMERATIONS[dict_type].items()]
    return [(item.code, rulebook.label(dict_type, item.code)) for item in rulebook.vocabulary(dict_type)]


def label(dict_type, code) -> str:
    """The words for code in dict_type; blank for no value; the code itself only when the dictionary
    lacks it (a configurator's typo shows, rather than vanishing)."""
    if code is None or code == "":
        return ""
    if dict_type in ENUMERATIONS:
        words = ENUMERATIONS[dict_type].get(code)
        return str(words) if words is not None else str(code)
    return rulebook.label(dict_type, code)
