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
