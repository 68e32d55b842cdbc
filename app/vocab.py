"""Labels for the fixed enumerations the models hold (statuses, kinds); the code lists of the register (ID
types, mortgage and pre-notice kinds, share modes...) live once, in rules/vocabularies.yaml, and are read
from there (code_select, code_formatter)."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from app import rulebook

INSTITUTION_KIND = {"bank": _l("Bank"), "developer": _l("Property developer"), "other": _l("Other institution")}
INSTITUTION_STATUS = {"pending": _l("Pending review"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                      "disabled": _l("Disabled")}
OPERATOR_STATUS = {"active": _l("Active"), "departed": _l("Departed")}
PARTY_KIND = {"person": _l("Person"), "organisation": _l("Organisation")}
UNIT_USE = {"residential": _l("Residential"), "non_residential": _l("Non-residential"), "parking": _l("Parking space")}
RIGHT_STATUS = {"current": _l("Current"), "historical": _l("Historical")}
MORTGAGE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled")}
PRE_NOTICE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled"), "converted": _l("Converted")}


def select(label, vocabulary):
    """A WTForms select over one of the dictionaries above (used in CRUD forms)."""
    return SelectField(label, choices=list(vocabulary.items()))


def formatter(vocabulary):
    return lambda value: vocabulary.get(value, value)


def code_choices(name):
    """(code, name) of a code list of rules/vocabularies.yaml in the current language, in the file's order."""
    return [(item.code, rulebook.label(name, item.code)) for item in rulebook.vocabulary(name)]


def code_select(label, name):
    """A WTForms select over a code list of rules/vocabularies.yaml, read when the form is shown."""
    return SelectField(label, choices=lambda: code_choices(name))


def code_formatter(name):
    return lambda value: "" if value in (None, "") else rulebook.label(name, value)


# 登录日志, 在线用户 and 数据权限 (app/login_log.py, app/sessions.py, app/departments.py).
LOGIN_RESULT = {"success": _l("Succeeded"), "failure": _l("Failed")}
LOGIN_REASON = {
    "ok": _l("Succeeded"),
    "known_place": _l("Signed in despite the lock (from a known place)"),
    "wrong_password": _l("Wrong password"),
    "wrong_password_locked": _l("Wrong password, account locked"),
    "no_account": _l("No such account"),
    "locked": _l("Account locked"),
    "delayed": _l("Too many failures: asked to wait"),
    "inactive": _l("Account not active"),
    "departed": _l("Operator has left the institution"),
    "institution": _l("Institution not approved"),
    "ca_required": _l("CA certificate required"),
    "certificate": _l("Certificate check failed"),
    "ldap": _l("Directory sign-in failed"),
    "incomplete": _l("Account or password not entered"),
    "captcha": _l("Wrong captcha"),
    "not_offered": _l("Sign-in method not offered"),
}
LOGIN_METHOD = {"password": _l("Account and password"), "ca": _l("CA certificate"), "ldap": _l("Directory (LDAP)"),
                "api": _l("JSON login")}
SESSION_END = {"logout": _l("Signed out"), "forced": _l("Signed out by the administrator")}
DATA_SCOPE = {"institution": _l("All of the institution"), "subtree": _l("My department and below"),
              "department": _l("My department"), "own": _l("Only mine")}
