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
    "role": vocab.ROLE, "audit_action": vocab.AUDIT_ACTION, "audit_object": vocab.AUDIT_OBJECT,
    "check_severity": vocab.CHECK_SEVERITY, "field_type": vocab.FIELD_TYPE,
}


def _locale():
    return str(get_locale() or "zh")


def choices(dict_type) -> list:
    """[(code, words)] of one dictionary type in its order, in the current language."""
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
    """The words for code in dict_type; blank for no value; the code itself only when the dictionary
    lacks it (a configurator's typo shows, rather than vanishing)."""
    if code is None or code == "":
        return ""
    if dict_type == "audit_action" and str(code).startswith("case_") and code not in vocab.AUDIT_ACTION:
        return workflow_words(code[len("case_"):]) or str(code)
    if dict_type in ENUMERATIONS:
        words = ENUMERATIONS[dict_type].get(code)
        return str(words) if words is not None else str(code)
    return rulebook.label(dict_type, code)
