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
# Roles by their words (the keys are FAB role names, app/roles.py).
ROLE = {"Admin": _l("System administrator"), "RegistryReviewer": _l("Registry reviewer"),
        "Configurator": _l("Business rule configurator"), "Public": _l("Public user"),
        "InstitutionAdmin": _l("Institution administrator"), "InstitutionOperator": _l("Institution operator"),
        "Anonymous": _l("Visitor (not signed in)")}
# The audit log's actions (app/audit.py record() calls); a case's workflow events (case_<event>) read
# their words from the rules (app/dictionary.py).
AUDIT_ACTION = {
    "insert": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "login": _l("Signed in"),
    "logout": _l("Signed out"), "login_failed": _l("Sign-in failed"), "login_refused": _l("Sign-in refused"),
    "login_refused_locked": _l("Sign-in refused (account locked)"), "login_despite_lock": _l("Signed in while locked"),
    "lockout": _l("Account locked"), "unlock_account": _l("Account unlocked"), "password_reset": _l("Password reset"),
    "password_reset_by_admin": _l("Password reset by the administrator"), "reset_notice_failed": _l("Reset notice not sent"),
    "register": _l("Account registered"), "register_institution": _l("Institution registered"),
    "approve_registration": _l("Registration approved"), "activate_account": _l("Account activated"),
    "create_account": _l("Account created"), "edit_account": _l("Account changed"), "delete_account": _l("Account deleted"),
    "edit_operator": _l("Operator changed"), "attach_operator": _l("Operator added"),
    "remove_operator": _l("Operator removed from the institution"), "depart_operator": _l("Operator marked departed"),
    "bind_ca": _l("CA certificate bound"), "unbind_ca": _l("CA certificate unbound"),
    "transfer_cases": _l("Cases handed over"), "purge_registration_files": _l("Registration files purged"),
    "case_started": _l("Case started"), "case_acknowledged": _l("Party confirmed"),
    "deadline_settled": _l("Deadline settled"), "fee_flag_set": _l("Fee marked"), "rules_saved": _l("Rules saved"),
    "calendar_saved": _l("Holiday calendar saved"), "job_start": _l("Job started"), "job_finish": _l("Job finished"),
}
# The audit log's object types (model class names).
AUDIT_OBJECT = {
    "Case": _l("Case"), "CaseUnit": _l("Case unit"), "CaseParty": _l("Case party"), "Material": _l("Material"),
    "Institution": _l("Institution"), "Operator": _l("Account"), "OperatorCertificate": _l("CA certificate"),
    "Party": _l("Party"), "Parcel": _l("Parcel"), "Building": _l("Building"), "Unit": _l("Unit"),
    "Right": _l("Ownership right"), "RightHolder": _l("Holder"), "Mortgage": _l("Mortgage"),
    "MortgageParty": _l("Mortgage party"), "PreNotice": _l("Pre-notice"), "PreNoticeParty": _l("Pre-notice party"),
    "Payment": _l("Payment"), "TaxAssessment": _l("Tax assessment"), "Appointment": _l("Appointment"),
    "AppointmentSlot": _l("Appointment slot"), "CalendarYear": _l("Holiday calendar"), "RuleVersion": _l("Rule version"),
    "Job": _l("Background job"), "Certificate": _l("Certificate"), "ArchiveProof": _l("Archive proof"),
}
# The kinds of a rules file's form fields (app/rulebook/schema.py FIELD_TYPES).
FIELD_TYPE = {"text": _l("Text"), "choice": _l("Choice"), "money": _l("Amount"), "date": _l("Date"),
              "boolean": _l("Yes / no"), "integer": _l("Whole number"), "id_number": _l("ID number")}
CHECK_SEVERITY = {"critical": _l("blocks the case"), "warning": _l("warning only")}
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
