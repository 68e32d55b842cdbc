"""Form selects and list formatters over the data dictionary (app/dictionary.py): the models'
enumerations (statuses, kinds; seeded from app/enumerations.py) and the code lists of
rules/vocabularies.yaml. Choices are read when the form is shown, so a 字典管理 edit shows at once;
disabled items are not offered."""
from wtforms import SelectField

from app import dictionary
from app.enumerations import (INSTITUTION_KIND, INSTITUTION_STATUS, MORTGAGE_STATUS, OPERATOR_STATUS,  # noqa: F401
                              PARTY_KIND, PRE_NOTICE_STATUS, RIGHT_STATUS, UNIT_USE, type_of)


def select(label, vocabulary):
    """A WTForms select over one of the enumerations (used in CRUD forms)."""
    name = type_of(vocabulary)
    return SelectField(label, choices=lambda: dictionary.choices(name))


def formatter(vocabulary):
    name = type_of(vocabulary)
    return lambda value: dictionary.label(name, value)


def code_choices(name):
    """(code, words) of a code list of rules/vocabularies.yaml in the current language, in the dictionary's order."""
    return dictionary.choices(name)


def code_select(label, name):
    """A WTForms select over a code list of rules/vocabularies.yaml, read when the form is shown."""
    return SelectField(label, choices=lambda: code_choices(name))


def code_formatter(name):
    return lambda value: dictionary.label(name, value)
