"""The fixed enumerations the models hold (statuses, kinds), with their words: the seeds of those
dictionary types (app/dictionary.py). Everything shown or offered reads the dictionary, not these."""
from flask_babel import lazy_gettext as _l

INSTITUTION_KIND = {"bank": _l("Bank"), "developer": _l("Property developer"), "other": _l("Other institution")}
INSTITUTION_STATUS = {"pending": _l("Pending review"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                      "disabled": _l("Disabled")}
OPERATOR_STATUS = {"active": _l("Active"), "departed": _l("Departed")}
PARTY_KIND = {"person": _l("Person"), "organisation": _l("Organisation")}
UNIT_USE = {"residential": _l("Residential"), "non_residential": _l("Non-residential"), "parking": _l("Parking space")}
RIGHT_STATUS = {"current": _l("Current"), "historical": _l("Historical")}
MORTGAGE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled")}
PRE_NOTICE_STATUS = {"current": _l("Current"), "cancelled": _l("Cancelled"), "converted": _l("Converted")}

# By dictionary type.
ENUMERATIONS = {
    "institution_kind": INSTITUTION_KIND, "institution_status": INSTITUTION_STATUS,
    "operator_status": OPERATOR_STATUS, "party_kind": PARTY_KIND, "unit_use": UNIT_USE,
    "right_status": RIGHT_STATUS, "mortgage_status": MORTGAGE_STATUS, "pre_notice_status": PRE_NOTICE_STATUS,
}


def type_of(vocabulary) -> str:
    """The dictionary type of one of the dicts above (the forms name them by the dict)."""
    for name, candidate in ENUMERATIONS.items():
        if candidate is vocabulary:
            return name
    raise KeyError("not an enumeration of app/enumerations.py")
