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
    "address": _l("Address not allowed for registry staff"),
    "not_offered": _l("Sign-in method not offered"),
}
LOGIN_METHOD = {"password": _l("Account and password"), "ca": _l("CA certificate"), "ldap": _l("Directory (LDAP)"),
                "api": _l("JSON login")}
SESSION_END = {"logout": _l("Signed out"), "forced": _l("Signed out by the administrator")}
DATA_SCOPE = {"institution": _l("All of the institution"), "subtree": _l("My department and below"),
              "department": _l("My department"), "own": _l("Only mine")}

# By dictionary type.
ENUMERATIONS = {
    "institution_kind": INSTITUTION_KIND, "institution_status": INSTITUTION_STATUS,
    "operator_status": OPERATOR_STATUS, "party_kind": PARTY_KIND, "unit_use": UNIT_USE,
    "right_status": RIGHT_STATUS, "mortgage_status": MORTGAGE_STATUS, "pre_notice_status": PRE_NOTICE_STATUS,
    "role": ROLE, "audit_action": AUDIT_ACTION, "audit_object": AUDIT_OBJECT, "check_severity": CHECK_SEVERITY,
    "field_type": FIELD_TYPE, "login_result": LOGIN_RESULT, "login_reason": LOGIN_REASON,
    "login_method": LOGIN_METHOD, "session_end": SESSION_END, "data_scope": DATA_SCOPE,
}


def type_of(vocabulary) -> str:
    """The dictionary type of one of the dicts above (the forms name them by the dict)."""
    for name, candidate in ENUMERATIONS.items():
        if candidate is vocabulary:
            return name
    raise KeyError("not an enumeration of app/enumerations.py")
