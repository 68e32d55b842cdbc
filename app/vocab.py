"""Form selects and list formatters over the data dictionary (app/dictionary.py): the models'
enumerations (statuses, kinds; seeded from app/enumerations.py) and the code lists of
rules/vocabularies.yaml. Choices are read when the form is shown, so a 字典管理 edit shows at once;
disabled items are not offered (but an edited record keeps the one it holds)."""
from wtforms import SelectField

from app import dictionary
from app.enumerations import (AUDIT_ACTION, AUDIT_OBJECT, CHECK_SEVERITY, DATA_SCOPE, FIELD_TYPE,  # noqa: F401
                              INSTITUTION_KIND, INSTITUTION_STATUS, LOGIN_METHOD, LOGIN_REASON, LOGIN_RESULT,
                              MORTGAGE_STATUS, OPERATOR_STATUS, PARTY_KIND, PRE_NOTICE_STATUS, RIGHT_STATUS, ROLE,
                              SESSION_END, UNIT_USE, type_of)


def offered(name):
    """The choices of a select over dictionary type name: its enabled items, and the edited record's own
    value when that is a disabled item (an edit keeps it rather than silently taking the first choice)."""
    def choices(form, field):
        items = dictionary.choices(name)
        held = field.object_data
        if held not in (None, "") and all(code != held for code, _ in items):
            items.append((held, dictionary.label(name, held)))
        return items
    return choices


def select(label, vocabulary):
    """A WTForms select over one of the enumerations (used in CRUD forms)."""
    return SelectField(label, choices=offered(type_of(vocabulary)))


def formatter(vocabulary):
    name = type_of(vocabulary)
    return lambda value: dictionary.label(name, value)


def code_choices(name):
    """(code, words) of a code list of rules/vocabularies.yaml in the current language, in the dictionary's order."""
    return dictionary.choices(name)


def code_select(label, name):
    """A WTForms select over a code list of rules/vocabularies.yaml, read when the form is shown."""
    return SelectField(label, choices=offered(name))


def code_formatter(name):
    return lambda value: dictionary.label(name, value)
