"""Roles as data: each role is an explicit list of (view, permission) pairs, read by FAB at start-up.

View and menu names are regular expressions (FAB matches them with re.match). "What can a
reviewer do" is answered here and nowhere else.
"""

ADMIN = "Admin"
REVIEWER = "RegistryReviewer"
INSTITUTION_ADMIN = "InstitutionAdmin"
OPERATOR = "InstitutionOperator"
CONFIGURATOR = "Configurator"
PUBLIC = "Public"

# Roles whose every query is confined to the user's own institution (enforced in app/scope.py).
INSTITUTION_ROLES = frozenset({INSTITUTION_ADMIN, OPERATOR})


def role_names(user):
    """The names of the user's own roles (not those of their groups): as read with the signed-in user
    (app/security.py load_user keeps them as `role_refs`), else from the roles relation."""
    refs = getattr(user, "__dict__", {}).get("role_refs")
    if refs is not None:
        return {r.name for r in refs[0]}
    return {r.name for r in getattr(user, "roles", None) or ()}

READ = "can_list|can_show"
WRITE = "can_list|can_show|can_add|can_edit|can_delete|can_download"

_REGISTER_VIEWS = "ParcelView|BuildingView|UnitView|RightView|MortgageView|PreNoticeView|PartyView"

FAB_ROLES = {
    REVIEWER: [
        [f"({_REGISTER_VIEWS})$", WRITE],
        ["InstitutionView$", READ + "|can_edit"],
        ["CaseView$", READ],
        ["Review.*", ".*"],
        ["Workbench.*", "can_.*"],
        ["SmsOutboxView$", READ],
        ["AppointmentSlotView$", WRITE + "|open_two_weeks"],  # FAB names an action's permission without can_
        ["Office|Query|System|Review.*|Cases|Mortgages|PreNotices|Rights|Units|Buildings|Parcels|Parties|Institutions|SmsOutbox|AppointmentSlots", "menu_access"],
        ["UserInfoEditView|Settings.*", "can_.*"],
    ],
    INSTITUTION_ADMIN: [
        ["InstitutionView$", READ + "|can_edit"],
        ["OperatorView$", WRITE],
        ["CaseView$", READ],
        ["MortgageView$|PreNoticeView$", READ],
        ["AuditLogView$", READ],
        ["Workbench.*", "can_.*"],
        ["Desk.*", "can_.*"],
        ["Institutions|Operators|Cases|Mortgages|PreNotices|AuditLog|Apply|Office|Query|System|Desk.*", "menu_access"],
        ["UserInfoEditView|Settings.*", "can_.*"],
    ],
    OPERATOR: [
        ["InstitutionView$", READ],
        ["CaseView$", READ],
        ["MortgageView$|PreNoticeView$", READ],
        ["Workbench.*", "can_.*"],
        ["Desk.*", "can_.*"],
        ["Institutions|Cases|Mortgages|PreNotices|Apply|Office|Query|System|Desk.*", "menu_access"],
        ["UserInfoEditView|Settings.*", "can_.*"],
    ],
    CONFIGURATOR: [
        ["RuleConsole.*", ".*"],
        ["Rules", "menu_access"],
        ["UserInfoEditView|Settings.*", "can_.*"],
    ],
    PUBLIC: [
        ["PublicService.*", "can_.*"],
        ["Query", "menu_access"],
        ["UserInfoEditView|Settings.*", "can_.*"],
    ],
}

# Public services (views/public.py): progress query and verification need no account; the archive
# query (查档) needs one. Signed-in roles get all of them, visitors the anonymous ones.
ANONYMOUS = "Anonymous"
_OPEN_MENUS = "Query|Progress|Guide|VerifyCertificate|VerifyArchive|Kiosk"
FAB_ROLES[ANONYMOUS] = [[_OPEN_MENUS, "menu_access"]]
for _name, _perms in FAB_ROLES.items():
    if _name != ANONYMOUS:
        _perms += [["PublicService.*", "can_.*"], [_OPEN_MENUS + "|ArchiveProof|Payment|Appointments", "menu_access"]]

# Issued certificates and proofs (views/proofs.py): the institutions read their own (the scope decides
# which rows), registry staff read all of them for the case pages' PDF link; the menu is the institutions'.
FAB_ROLES[REVIEWER].append(["ProofView$", "can_.*"])
for _name in (INSTITUTION_ADMIN, OPERATOR):
    FAB_ROLES[_name] += [["ProofView$", "can_.*"], ["Proofs", "menu_access"]]

# Every role reaches its personal settings (个人设置) from the System menu (views/accounts.py).
for _name, _perms in FAB_ROLES.items():
    if _name != ANONYMOUS:
        _perms.append(["PersonalSettings|System", "menu_access"])

# Background jobs (views/jobs.py, 我的任务): whoever can start one (batch print, import, export) follows it.
for _name in (REVIEWER, INSTITUTION_ADMIN, OPERATOR):
    FAB_ROLES[_name] += [["JobView$", "can_.*"], ["Jobs", "menu_access"]]

# 字典管理 (views/dictionary_console.py): the Configurator keeps the data dictionary beside the rules.
# 参数设置 (views/parameters.py) is the platform Admin's alone (Admin holds every permission).
FAB_ROLES[CONFIGURATOR] += [["DictionaryConsoleView$", "can_.*"], ["Dictionary", "menu_access"]]

# 我的证照 (views/public.py) in the menu of the public; 查档 for courts and other authorities and 线下缴费登记
# (views/archive_authority.py, views/payment.py) are registry-side forms.
FAB_ROLES[PUBLIC].append(["MyCertificates", "menu_access"])
FAB_ROLES[REVIEWER] += [["ArchiveAuthorityView$|OfflinePaymentView$", "can_.*"],
                        ["ArchiveAuthority|OfflinePayment", "menu_access"]]

# The open API's console (views/api_console.py): the institution administrator's clients and webhooks.
FAB_ROLES[INSTITUTION_ADMIN] += [["ApiConsoleView$", "can_.*"], ["ApiConsole", "menu_access"]]

# 部门管理 (views/access.py): an institution administrator keeps the institution's department tree.
# 登录日志 and 在线用户 are the Admin's only (the Admin holds every permission).
FAB_ROLES[INSTITUTION_ADMIN] += [["DepartmentView$", WRITE], ["Departments", "menu_access"]]
