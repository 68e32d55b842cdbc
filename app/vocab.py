"""Labels for the fixed enumerations the models hold (statuses, kinds); business vocabularies live in rules/."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

INSTITUTION_KIND = {"bank": _l("Bank"), "developer": _l("Property developer"), "other": _l("Other institution")}
INSTITUTION_STATUS = {"pending": _l("Pending review"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                      "disabled": _l("Disabled")}
OPERATOR_STATUS = {"active": _l("Active"), "departed": _l("Departed")}
PARTY_KIND = {"person": _l("Person"), "organisation": _l("Organisation")}
UNIT_USE = {"residential": _l("Residential"), "non_residential": _l("Non-residential"), "parking": _l("Parking space")}
RIGHT_STATUS = {"current": _l("Current"), "historical": _l("Historical")}
SHARE_MODE = {"0": _l("Sole ownership"), "1": _l("Joint ownership"), "2": _l("Ownership by shares"), "3": _l("Other")}
MORTGAGE_KIND = {"1": _l("General mortgage"), "2": _l("Maximum-amount mortgage")}
MORTGAGE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled")}
PRE_NOTICE_KIND = {"1": _l("Pre-sale commercial housing purchase"), "2": _l("Other property purchase"),
                   "3": _l("Pre-sale commercial housing mortgage"), "4": _l("Other property mortgage")}
PRE_NOTICE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled"), "converted": _l("Converted")}
ID_TYPE = {"1": _l("Resident ID card"), "2": _l("Hong Kong/Macao pass"), "3": _l("Taiwan pass"),
           "4": _l("Passport"), "6": _l("Unified social credit code"), "7": _l("Organisation code"),
           "99": _l("Other")}


def select(label, vocabulary):
    """A WTForms select over one of the dictionaries above (used in CRUD forms)."""
    return SelectField(label, choices=list(vocabulary.items()))


def formatter(vocabulary):
    return lambda value: vocabulary.get(value, value)
