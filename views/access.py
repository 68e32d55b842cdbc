"""登录日志 and 在线用户 (the Admin's), 部门管理 (an institution administrator's).

登录日志 lists every sign-in attempt (app/login_log.py), searchable by account, IP, result and time
range, with 解锁 for accounts that are locked now. 在线用户 lists the sessions seen within the session
lifetime (app/sessions.py), with 强制下线. Both unlock and forced logout are audited.
"""
from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import SelectField

from app import audit, departments, dictionary, sessions
from app.auth import lockout
from app.extensions import db
from models import Department, LoginLog, UserSession
from models.base import utcnow

from .base import RegistryModelView


def _minute(value):
    return lockout.format_until(value) if value else ""


def _words(dict_type):
    return lambda code: dictionary.label(dict_type, code)


def _select(label, dict_type):
    """A search or form select over one dictionary type, read when the form is built."""
    return SelectField(label, choices=lambda: dictionary.choices(dict_type))


class LoginLogView(RegistryModelView):
    datamodel = SQLAInterface(LoginLog)
    list_title = show_title = _l("Login log")
    show_template = "access/login_log_show.html"
    list_columns = ["at", "username", "person", "method", "ip", "result", "reason", "locked"]
    show_columns = ["at", "username", "person", "method", "ip", "user_agent", "result", "reason", "detail", "locked"]
    search_columns = ["username", "ip", "result", "reason", "method", "at"]
    order_columns = ["at"]
    label_columns = {**RegistryModelView.label_columns, "at": _l("Time"), "username": _l("Account"),
                     "person": _l("Full name"), "method": _l("Sign-in method"), "ip": _l("IP address"),
                     "user_agent": _l("Browser"), "result": _l("Result"), "reason": _l("Reason"),
                     "detail": _l("Message shown"), "locked": _l("Account locked now")}
    formatters_columns = {"at": _minute, "method": _words("login_method"), "result": _words("login_result"),
                          "reason": _words("login_reason"), "locked": lambda v: _("Yes") if v else _("No")}
    search_form_extra_fields = {"result": _select(_l("Result"), "login_result"),
                                "reason": _select(_l("Reason"), "login_reason"),
                                "method": _select(_l("Sign-in method"), "login_method")}
    base_order = ("at", "desc")
    base_permissions = ["can_list", "can_show", "can_unlock_account"]
    method_permission_name = {"list": "list", "show": "show", "unlock": "unlock_account",
                              "unlock_one": "unlock_account"}
    page_size = 50

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk, self._base_filters) or abort(404)
        g.login_log_locked = item.locked  # the page offers 解锁 then
        return super().show(pk)

    @action("unlock", _l("Unlock"), _l("Lift the sign-in lock of the accounts of the selected attempts?"),
            "fa-unlock")
    def unlock(self, items):
        _unlock([i for i in (items if isinstance(items, list) else [items]) if i is not None])
        return redirect(url_for(".list"))

    @expose("/unlock/<int:pk>", methods=["POST"])
    @has_access
    def unlock_one(self, pk):
        item = db.session.get(LoginLog, pk) or abort(404)
        _unlock([item])
        return redirect(url_for(".show", pk=pk))


def _unlock(entries):
    """The accounts named by these attempts that are locked now: unlocked and audited (one flash)."""
    from app.security import unlock_accounts
    accounts = {e.account.id: e.account for e in entries if e.account is not None and lockout.is_locked(e.account)}
    if not accounts:
        flash(_("None of the selected accounts is locked"), "info")
        return
    unlock_accounts(list(accounts.values()))


class OnlineFilter(BaseFilter):
    """Sessions not ended and seen within the session lifetime."""

    name = "online"
    arg_name = "online"

    def apply(self, query, value):
        return query.filter(UserSession.ended_at.is_(None), UserSession.last_seen_at >= sessions.online_since())


class OnlineUserView(RegistryModelView):
    datamodel = SQLAInterface(UserSession)
    list_title = show_title = _l("Online users")
    show_template = "access/online_user_show.html"
    list_columns = ["user.username", "user.first_name", "institution", "ip", "method", "started_at", "last_seen_at"]
    show_columns = list_columns + ["user_agent"]
    search_columns = ["ip", "started_at", "last_seen_at"]
    order_columns = ["last_seen_at", "started_at"]
    base_filters = [["last_seen_at", OnlineFilter, None]]
    label_columns = {**RegistryModelView.label_columns, "user.username": _l("Account"),
                     "user.first_name": _l("Full name"), "institution": _l("Institution"), "ip": _l("IP address"),
                     "method": _l("Sign-in method"), "started_at": _l("Signed in at"),
                     "last_seen_at": _l("Last seen"), "user_agent": _l("Browser")}
    formatters_columns = {"started_at": _minute, "last_seen_at": _minute, "method": _words("login_method")}
    base_order = ("last_seen_at", "desc")
    base_permissions = ["can_list", "can_show", "can_force_logout"]
    method_permission_name = {"list": "list", "show": "show", "force_logout": "force_logout",
                              "force_one": "force_logout"}
    page_size = 50

    @action("force_logout", _l("Force logout"), _l("Sign the selected sessions out?"), "fa-sign-out")
    def force_logout(self, items):
        force_logout([i for i in (items if isinstance(items, list) else [items]) if i is not None])
        return redirect(url_for(".list"))

    @expose("/force/<int:pk>", methods=["POST"])
    @has_access
    def force_one(self, pk):
        force_logout([db.session.get(UserSession, pk) or abort(404)])
        return redirect(url_for(".list"))


def force_logout(rows):
    """End these sessions (their next request goes to the login page), audited, one flash."""
    own = sessions.current_token_hash()
    if any(r.token_hash == own for r in rows):
        flash(_("Your own session is not signed out here: use Sign out"), "warning")
    rows = [r for r in rows if r.ended_at is None and r.token_hash != own]
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row.ended_at, row.end_reason = now, "forced"
        audit.record(db.session, "force_logout", "Operator", row.user_id, institution_id=row.institution_id,
                     summary=f"{row.user.username} ({row.ip or ''})")
    db.session.commit()
    flash(_("Signed out: %(names)s", names="、".join(r.user.username for r in rows)), "success")


class DepartmentView(RegistryModelView):
    """部门管理: the institution administrator's tree. The scope shows them their institution's only."""

    datamodel = SQLAInterface(Department)
    list_title = _l("Departments")
    list_columns = ["full_name", "name", "parent"]
    show_columns = ["full_name", "name", "parent"]
    add_columns = edit_columns = ["name", "parent"]
    search_columns = ["name"]
    order_columns = ["name"]
    base_order = ("path", "asc")
    label_columns = {**RegistryModelView.label_columns, "full_name": _l("Department"), "name": _l("Name"),
                     "parent": _l("Parent department")}

    def _sort_column(self, name):
        # Listed in tree order (the ids' path): each department under its parent.
        return Department.path if name == "path" else super()._sort_column(name)

    def pre_add(self, item):
        if g.user.institution_id is None:
            raise ValueError(_("Only an institution's administrator keeps its departments"))
        item.institution_id = g.user.institution_id
        departments.check_parent(item)

    def post_add(self, item):
        departments.rebuild_paths(item.institution_id)
        db.session.commit()

    def pre_update(self, item):
        departments.check_parent(item)

    def post_update(self, item):
        self.post_add(item)

    def pre_delete(self, item):
        departments.check_deletable(item)

    def post_delete(self, item):
        self.post_add(item)


def register(appbuilder, category):
    appbuilder.add_view(LoginLogView, "LoginLog", label=_l("Login log"), icon="fa-sign-in", category=category)
    appbuilder.add_view(OnlineUserView, "OnlineUsers", label=_l("Online users"), icon="fa-users", category=category)
    appbuilder.add_view(DepartmentView, "Departments", label=_l("Departments"), icon="fa-sitemap", category=category)
