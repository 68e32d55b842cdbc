"""Our security manager: FAB's, with operators (users bound to institutions) as the user model.

FAB allows one AUTH_TYPE per app; we keep AUTH_DB (so /login/ with username + password keeps
working) and add CA certificate and LDAP sign-in beside it, dispatched from views/accounts.py.
On top of FAB: lockout after repeated failures, institution/status checks, a per-user session
nonce checked on every request (so a copied cookie dies at logout or password change), and an
audit entry for every sign-in, failure, lockout and sign-out.
"""
import re
import secrets
from functools import lru_cache
from typing import NamedTuple

from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import (ResetMyPasswordView, ResetPasswordView, UserDBModelView,
                                            UserGroupModelView)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_user
from sqlalchemy import bindparam, false, inspect, select, true, union_all
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import lazyload, load_only
from wtforms import PasswordField
from wtforms.validators import DataRequired

from app import audit, login_log, sessions, settings
from app.auth import LoginRefused, lockout, passwords
from app.vocab import OPERATOR_STATUS, formatter
from models import Department, Operator, UserSession
from models.base import utcnow

SESSION_NONCE_KEY = "_registry_nonce"


class OperatorAdminView(UserDBModelView):
    """FAB's user administration for the platform Admin, with the institution columns added."""

    # A person's name is one field, 姓名, held in first_name (see models.Operator); last_name is not asked.
    list_columns = ["first_name", "username", "institution", "status", "active", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "first_name", "email", "phone", "id_number",
                                      "institution", "status", "active", "roles", "login_count",
                                      "fail_login_count", "locked_until"]}),
    ]
    add_columns = ["first_name", "username", "email", "phone", "id_number", "institution",
                   "active", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "username", "email", "phone", "id_number", "institution",
                    "status", "active", "roles"]
    search_columns = ["username", "first_name", "email", "institution", "status", "active", "roles"]
    label_columns = {**UserDBModelView.label_columns, "first_name": _l("Full name"), "username": _l("Account"),
                     "email": _l("Email"), "active": _l("Active"), "roles": _l("Roles"),
                     "institution": _l("Institution"), "status": _l("Status"), "phone": _l("Mobile"),
                     "id_number": _l("ID number"), "fail_login_count": _l("Failed sign-ins in a row"),
                     "locked_until": _l("Sign-in refused until")}
    formatters_columns = {"status": formatter(OPERATOR_STATUS),
                          "locked_until": lambda v: lockout.format_until(v) if v else "-"}
    # FAB's "a role or a group" check reads a groups field our forms leave out (KeyError: a 500).
    validators_columns = {"roles": [DataRequired(message=_l("Select at least one role"))]}

    @expose("/userinfo/")
    def userinfo(self):
        # The navbar's "profile" link points here for every role; our personal settings page serves it.
        if not current_user.is_authenticated:
            return redirect(url_for("LoginView.login"))
        return redirect(url_for("SettingsView.index"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's user page offers only "reset password"; ours also "unlock"."""
        item = self.datamodel.get(pk, self._base_filters) or abort(404)
        actions = {name: self.actions.get(name) for name in ("resetpasswords", "unlock")}
        widgets = self._get_show_widget(pk, item, actions=actions)
        self.update_redirect()
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    appbuilder=self.appbuilder, related_views=self._related_views)

    @action("unlock", _l("Unlock"), _l("Lift the sign-in lock of the selected accounts?"), "fa-unlock")
    def unlock(self, items):
        unlock_accounts(items)
        if isinstance(items, list) or items is None:
            return redirect(url_for(".list"))
        return redirect(url_for(".show", pk=items.id))

    def pre_add(self, item):
        problems = passwords.problems(item.password)
        if problems:
            raise ValueError("; ".join(problems))
        super().pre_add(item)

    def post_add(self, item):
        audit.record(self.datamodel.session, "create_account", "Operator", item.id, summary=item.username)
        self.datamodel.session.commit()

    def post_update(self, item):
        audit.record(self.datamodel.session, "edit_account", "Operator", item.id, summary=item.username)
        self.datamodel.session.commit()

    def post_delete(self, item):
        audit.record(self.datamodel.session, "delete_account", "Operator", item.id, summary=item.username)
        self.datamodel.session.commit()


def unlock_accounts(items):
    """An administrator lifts the lock (and the delay) of these accounts: audited, one flash. Rows the
    administrator may not see arrive as None (app/scope.py) and are skipped."""
    from app.extensions import appbuilder
    dbs = appbuilder.sm.session
    users = [u for u in (items if isinstance(items, list) else [items]) if u is not None]
    for user in users:
        was = user.locked_until
        lockout.unlock(user)
        audit.record(dbs, "unlock_account", "Operator", user.id, username=None,
                     institution_id=user.institution_id, summary=user.username,
                     before={"locked_until": was.isoformat() if was else None})
    dbs.commit()
    if users:
        flash(_("Unlocked: %(names)s", names="、".join(u.username for u in users)), "success")


class PolicyResetPasswordForm(ResetPasswordForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), passwords.policy_validator],
                             widget=BS3PasswordFieldWidget())


class PolicyResetPasswordView(ResetPasswordView):
    """The Admin resets someone's password: our policy, not FAB's "no check"."""

    form = PolicyResetPasswordForm


class OwnPasswordView(ResetMyPasswordView):
    """FAB's own-password form asks for no old password; ours (personal settings) does."""

    @expose("/form", methods=["GET"])
    def this_form_get(self):
        return redirect(url_for("SettingsView.index"))

    @expose("/form", methods=["POST"])
    def this_form_post(self):
        return redirect(url_for("SettingsView.index"))


class ClosedSecurityApi(SecurityApi):
    """FAB always mounts a JWT login at /api/v1/security/login; it would bypass lockout, the CA
    requirement and the audit. The platform offers no token API, so the endpoint refuses."""

    @expose("/login", methods=["POST"])
    def login(self):
        body = request.get_json(silent=True)
        login_log.refused(body.get("username") if isinstance(body, dict) else "", "api",
                          LoginRefused("not offered: sign in at /login/", reason="not_offered"), "not_offered")
        return self.response(404, message="not offered: sign in at /login/")

    @expose("/refresh", methods=["POST"])
    def refresh(self):
        return self.response(404, message="not offered")


class GroupView(UserGroupModelView):
    """FAB's user groups, its columns named in the user's language (FAB leaves them untranslated)."""
    label_columns = {"name": _l("Name"), "label": _l("Label"), "description": _l("Description"),
                     "roles": _l("Roles"), "users": _l("Users")}


# What every request reads of the signed-in user; the other columns (password hash, e-mail, phone, login
# counts, audit stamps...) load when a page asks for them. PostgreSQL's driver builds a Python object per
# column of every result: the user's 36 columns were a tenth of a page's time there.
SESSION_USER_COLUMNS = ("id", "first_name", "username", "active", "institution_id", "status", "font_size",
                        "session_nonce", "department_id", "data_scope", "list_settings_stamp")


class RoleRef(NamedTuple):
    """A role as the signed-in user's permission checks read it (FAB's get_user_roles: id and name)."""
    id: int
    name: str


@lru_cache(maxsize=1)
def _user_statement():
    """load_user's statement, built once (building it was a quarter of the user's read): the user (the
    columns above), this session's row, the department's id and path (all the data scope needs) and a
    row per role, the user's own and their groups' (via_group), as plain columns. Roles, groups,
    department and institution read as objects cost every request their row processors (the user's
    read was a sixth of 待办's time); the relations still load when a page asks for them."""
    from flask_appbuilder.security.sqla.models import Role, assoc_group_role, assoc_user_group, assoc_user_role
    own = select(assoc_user_role.c.user_id, Role.id, Role.name, false().label("via_group")) \
        .join(Role, Role.id == assoc_user_role.c.role_id)
    grouped = select(assoc_user_group.c.user_id, Role.id, Role.name, true()) \
        .join(assoc_group_role, assoc_group_role.c.group_id == assoc_user_group.c.group_id) \
        .join(Role, Role.id == assoc_group_role.c.role_id)
    roles = union_all(own, grouped).subquery("user_roles")
    return (select(Operator, UserSession.id, UserSession.ended_at, UserSession.end_reason, UserSession.last_seen_at,
                   Department.id.label("department_found"), Department.path, roles.c.id.label("role_id"),
                   roles.c.name.label("role_name"), roles.c.via_group)
            .outerjoin(UserSession, (UserSession.user_id == Operator.id)
                       & (UserSession.token_hash == bindparam("digest")))
            .outerjoin(Department, Department.id == Operator.department_id)
            .outerjoin(roles, roles.c.user_id == Operator.id)
            .where(Operator.id == bindparam("pk"))
            .options(load_only(*(getattr(Operator, c) for c in SESSION_USER_COLUMNS)), lazyload("*")))


class RegistrySecurityManager(SecurityManager):
    user_model = Operator
    security_api = ClosedSecurityApi
    userdbmodelview = OperatorAdminView
    groupmodelview = GroupView
    userstatschartview = None  # FAB's chart page draws with Google Charts from the internet and is English only
    resetpasswordview = PolicyResetPasswordView
    resetmypasswordview = OwnPasswordView

    @property
    def authdbview(self):
        # Imported late: views import the app's models and forms, which need the app being built.
        from views.accounts import LoginView
        return LoginView

    def is_item_public(self, permission_name, view_name):
        """FAB checks visitors against the database copy of the public role, where our regular-expression
        permissions (app/roles.py) are stored literally; match them as FAB does for signed-in roles."""
        public = self.auth_role_public
        if public in self.builtin_roles:
            return any(re.match(view, view_name) and re.match(perm, permission_name)
                       for view, perm in self.builtin_roles[public])
        return super().is_item_public(permission_name, view_name)

    def create_db(self):
        """FAB would create_all() the whole schema here; ours comes from migrations, so only sync roles."""
        try:
            migrated = inspect(self.session.get_bind()).has_table("ab_role")
        except OperationalError:  # the database is down at start-up: serve anyway, /healthz answers 503
            return
        if migrated:
            BaseSecurityManager.create_db(self)

    # --- sign-in -------------------------------------------------------------------------------
    def find_login_user(self, username):
        username = (username or "").strip()
        if not username or len(username) > 128:
            return None
        return self.find_user(username=username) or self.find_user(email=username)

    def password_login(self, username, password, method="password"):
        """Check account + password with lockout; returns the user or raises LoginRefused.

        Unknown names and known accounts cost the same (one password hash: a dummy one for unknown
        names), count, wait and lock alike (lockout.Phantom) and are told the same words, so neither
        the answer nor its timing tells which accounts exist. The password is checked even while
        the account is locked: from a place the account signed in from recently, the right password
        still signs in (app/auth/lockout.py says why)."""
        user = self.find_login_user(username)
        record = user if user is not None else lockout.Phantom(username)
        good = passwords.check(user.password if user is not None else None, password)
        if not lockout.is_locked(record):
            lockout.check_not_locked(record)  # lifts an expired lock or delay
        elif good and user is not None and lockout.known_source(user):
            audit.record(self.session, "login_despite_lock", "Operator", user.id, username=user.username,
                         institution_id=user.institution_id, summary=f"{method}: {_('known place')}")
            g.login_reason = "known_place"  # the login log's reason (finish_login)
        else:
            audit.record(self.session, "login_refused_locked", "Operator", user.id if user else None,
                         username=(user.username if user else (username or ""))[:128],
                         institution_id=user.institution_id if user else None, summary=method)
            self.session.commit()
            lockout.check_not_locked(record)  # raises the lock's or the delay's message
        if user is None or not good:
            locked = lockout.register_failure(record)
            if user is None:
                record.save()
                audit.record(self.session, "login_failed", "Operator", None, username=(username or "")[:128],
                             summary=_("Unknown account or empty password") + f" [{method}]")
            else:
                audit.record(self.session, "login_failed", "Operator", user.id, username=user.username,
                             institution_id=user.institution_id,
                             summary=_("Wrong password (%(n)d in a row)", n=user.fail_login_count) + f" [{method}]")
                if locked:
                    audit.record(self.session, "lockout", "Operator", user.id, username=user.username,
                                 institution_id=user.institution_id, summary=str(user.locked_until))
            self.session.commit()
            reason = "no_account" if user is None else "wrong_password_locked" if locked else "wrong_password"
            raise LoginRefused(lockout.failure_message(record), reason=reason)
        self.check_may_sign_in(user, method)
        return user

    def check_may_sign_in(self, user, method):
        """Accounts that exist and know their password may still not be allowed in."""
        reason = code = None
        if not user.is_active:
            reason, code = _("This account is not active (an institution's account works once the registry approves it)"), "inactive"
        elif user.status == "departed":
            reason, code = _("This operator has left the institution and can no longer sign in"), "departed"
        elif user.institution is not None and user.institution.status != "approved":
            reason, code = _("Your institution is not approved (status: %(status)s)", status=user.institution.status), "institution"
        elif settings.is_staff(user):  # 参数设置: registry staff only from allowed addresses
            reason, code = settings.staff_address_refused(request.remote_addr), "address"
        if reason:
            audit.record(self.session, "login_refused", "Operator", user.id, username=user.username,
                         institution_id=user.institution_id, summary=f"{method}: {reason}")
            self.session.commit()
            raise LoginRefused(reason, reason=code)

    def auth_user_db(self, username, password):
        """FAB's entry point (also used by its API login): our checks, None on any refusal."""
        try:
            return self.password_login(username, password)
        except LoginRefused:
            return None

    def finish_login(self, user, method):
        """Start the session: stats, session nonce, permanent (timed-out) session, audit."""
        lockout.unlock(user)
        user.login_count = (user.login_count or 0) + 1
        user.last_login = utcnow()
        if not user.session_nonce:
            user.session_nonce = secrets.token_hex(16)
        audit.record(self.session, "login", "Operator", user.id, username=user.username,
                     institution_id=user.institution_id, summary=method)
        login_log.record(user.username, method, g.pop("login_reason", "ok"), user=user)
        token = sessions.start(user, method)
        self.session.commit()
        locale = session.get("locale")
        session.clear()  # no state from before the sign-in survives (session fixation), but the language
        if locale:
            session["locale"] = locale
        session.permanent = True
        session[SESSION_NONCE_KEY] = user.session_nonce
        session[sessions.TOKEN_KEY] = token
        login_user(user, remember=False)

    def rotate_session_nonce(self, user):
        """Every existing session of this user stops working at its next request."""
        user.session_nonce = secrets.token_hex(16)

    def _has_access_builtin_roles(self, role, permission_name, view_name):
        """Builtin roles are configuration (app/roles.py), fixed for the process's life: match their
        regular expressions once per (role, permission, view), not on every check of every page."""
        cache = self.__dict__.setdefault("_builtin_access", {})
        key = (role.name, permission_name, view_name)
        allowed = cache.get(key)
        if allowed is None:
            allowed = cache[key] = super()._has_access_builtin_roles(role, permission_name, view_name)
        return allowed

    def load_user(self, pk):
        # Every request loads the signed-in user: with roles and groups in the same statement (FAB's
        # permission checks read both), not three.
        # The department's id and path (data scope, app/scope.py) and this session's row (app/sessions.py)
        # come in the same statement too.
        digest = sessions.current_token_hash()
        if digest is None:
            return None
        rows = self.session.execute(_user_statement(), {"pk": int(pk), "digest": digest}).all()
        if not rows:
            return None
        row = rows[0]
        user = row[0]
        if not user.is_active or user.status == "departed":
            return None
        nonce = session.get(SESSION_NONCE_KEY)
        if not nonce or not user.session_nonce or not secrets.compare_digest(nonce, user.session_nonce):
            return None
        if not sessions.check(*row[1:5]):
            return None
        user.department_row = (row.department_found, row.path) if row.department_found is not None else ()
        refs = {(r.via_group, r.role_id): RoleRef(r.role_id, r.role_name) for r in rows if r.role_id is not None}
        user.role_refs = (tuple(v for (g, _i), v in refs.items() if not g), tuple(v for (g, _i), v in refs.items() if g))
        return user

    def get_user_roles(self, user):
        """The user's roles and their groups' (FAB's permission checks): as read with the signed-in user
        (load_user), else through the relations."""
        refs = getattr(user, "__dict__", {}).get("role_refs")
        if refs is not None and user.is_authenticated:
            return list(refs[0] + refs[1])
        return super().get_user_roles(user)

    def load_user_jwt(self, _jwt_header, jwt_data):
        # A bearer token carries no cookie session, hence no nonce: check the account only.
        from flask import g
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user and user.is_active and user.status != "departed":
            g.user = user
            return user
        return None

    def reset_password(self, userid, password):
        """An administrator's reset also lifts a lockout and ends the user's sessions."""
        super().reset_password(userid, password)
        user = self.get_user_by_id(userid)
        lockout.unlock(user)
        self.rotate_session_nonce(user)
        audit.record(self.session, "password_reset_by_admin", "Operator", user.id, summary=user.username,
                     institution_id=user.institution_id)
        self.session.commit()

    def on_user_logout(self, user):
        self.rotate_session_nonce(user)
        sessions.end()
        audit.record(self.session, "logout", "Operator", user.id, username=user.username,
                     institution_id=user.institution_id)
        self.session.commit()
