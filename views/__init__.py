"""Registers every view under the menus of the Hunan manual: 业务申请, 业务办公, 业务查询, 系统管理."""
from flask_babel import lazy_gettext as _l

from . import accounts, appointments, payment, proofs, public, tax
from .cases import CaseView
from .institutions import InstitutionView, OperatorView
from .register import BuildingView, MortgageView, ParcelView, PartyView, PreNoticeView, RightView, UnitView
from . import system
from .system import AuditLogView

APPLY, OFFICE, QUERY, SYSTEM = "Apply", "Office", "Query", "System"


def register(appbuilder):
    # The menu bar follows the Hunan manual whatever order the areas register their views in.
    for name, label in ((APPLY, _l("Business application")), (OFFICE, _l("Business office")),
                        (QUERY, _l("Business query")), (SYSTEM, _l("System management"))):
        appbuilder.menu.add_category(name, label=label)
    add = appbuilder.add_view
    add(CaseView, "Cases", label=_l("Cases"), icon="fa-folder-open", category=OFFICE, category_label=_l("Business office"))
    public.register(appbuilder)  # progress query, certificate and archive-proof verification come first
    payment.register(appbuilder)
    tax.register(appbuilder)
    appointments.register(appbuilder)
    add(MortgageView, "Mortgages", label=_l("Mortgages"), icon="fa-university", category=QUERY, category_label=_l("Business query"))
    add(PreNoticeView, "PreNotices", label=_l("Pre-notices"), icon="fa-bell", category=QUERY)
    add(RightView, "Rights", label=_l("Ownership rights"), icon="fa-certificate", category=QUERY)
    add(UnitView, "Units", label=_l("Units"), icon="fa-home", category=QUERY)
    add(BuildingView, "Buildings", label=_l("Buildings"), icon="fa-building", category=QUERY)
    add(ParcelView, "Parcels", label=_l("Parcels"), icon="fa-map", category=QUERY)
    add(PartyView, "Parties", label=_l("Parties"), icon="fa-users", category=QUERY)
    add(InstitutionView, "Institutions", label=_l("Institution information"), icon="fa-bank", category=SYSTEM, category_label=_l("System management"))
    add(OperatorView, "Operators", label=_l("Operator management"), icon="fa-user", category=SYSTEM)
    add(AuditLogView, "AuditLog", label=_l("Audit log"), icon="fa-history", category=SYSTEM)
    from . import access; access.register(appbuilder, SYSTEM)  # noqa: E702  (登录日志, 在线用户, 部门管理)
    system.register_outbox(appbuilder, SYSTEM)  # sandbox only
    from . import desk; desk.register(appbuilder)  # noqa: E702  (desk, office, review, workbench)
    proofs.register(appbuilder)  # issued certificates and proofs (业务办公 → 证书/证明)
    from . import archive_authority; archive_authority.register(appbuilder)  # noqa: E702  (查档 for authorities)
    accounts.register(appbuilder)
    from . import rules_console; rules_console.register(appbuilder)  # noqa: E702  (configurator console, service guide)
    from . import jobs; jobs.register(appbuilder)  # noqa: E702  (我的任务: background jobs)
    from . import dictionary_console, parameters
    dictionary_console.register(appbuilder, SYSTEM)  # 字典管理 (Admin, Configurator)
    parameters.register(appbuilder, SYSTEM)  # 参数设置 (Admin)
    from . import case_steps, convertible, kiosk  # noqa: E401  (Beihai steps: 明细表, 水电气网过户, 可转现列表, 自助打证)
    case_steps.register(appbuilder)
    convertible.register(appbuilder)
    kiosk.register(appbuilder)
    from . import api_console; api_console.register(appbuilder)  # noqa: E702  (接口管理: the open API's clients and webhooks)
