"""Our security manager: FAB's, with operators (users bound to institutions) as the user model.

FAB allows one AUTH_TYPE per app; we keep AUTH_DB (so /login/ with username + password keeps
working) and add CA certificate and LDAP sign-in beside it, dispatched from views/accounts.py.
On top of FAB: lockout after repeated failures, institution/status checks, a per-user session
nonce checked on every request (so a copied cookie dies at logout or password change), and an
audit entry for every sign-in, failure, lockout and sign-out.
"""
import re
import secrets

from flask import current_app, redirect, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import ResetMyPasswordView, ResetPasswordView, UserDBModelView
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_user
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired

from app import audit
from app.auth import LoginRefused, lockout, passwords
from models import Operator
from models.base import utcnow

SESSION_NONCE_KEY = "_registry_nonce"


class OperatorAdminView(UserDBModelView):
    """FAB's user administration for the platform Admin, with the institution columns added."""

    list_columns = ["first_name", "last_name", "username", "institution", "status", "active", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "first_name", "last_name", "email", "phone", "id_number",
                                      "institution", "status", "active", "roles", "login_count"]}),
    ]
    add_columns = ["first_name", "last_name", "username", "email", "phone", "id_number", "institution",
                   "active", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "email", "phone", "id_number", "institution",
                    "status", "active", "roles"]
    search_columns = ["username", "first_name", "last_name", "email", "institution", "status", "active", "roles"]
    label_columns = {"institution": _l("Institution"), "status": _l("Status"), "phone": _l("Mobile"),
                     "id_number": _l("ID number")}
    # FAB's "a role or a group" check reads a groups field our forms leave out (KeyError: a 500).
    validators_columns = {"roles": [DataRequired(message=_l("Select at least one role"))]}

    @expose("/userinfo/")
    def userinfo(self):
        # The navbar's "profile" link points here for every role; our personal settings page serves it.
        if not current_user.is_authenticated:
            return redirect(url_for("LoginView.login"))
        return redirect(url_for("SettingsView.index"))


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
        return self.response(404, message="not offered: sign in at /login/")

    @expose("/refresh", methods=["POST"])
    def refresh(self):
        return self.response(404, message="not offered")


class RegistrySecurityManager(SecurityManager):
    user_model = Operator
    security_api = ClosedSecurityApi
    userdbmodelview = OperatorAdminView
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
        """Check account + password with lockout; returns the user or raises LoginRefused."""
        user = self.find_login_user(username)
        if user is None or not password or "\x00" in password:
            audit.record(self.session, "login_failed", "Operator", None, username=(username or "")[:128],
                         summary=_("Unknown account or empty password"))
            self.session.commit()
            raise LoginRefused(_("Invalid login. Please try again."))
        try:
            lockout.check_not_locked(user)
        except LoginRefused:
            audit.record(self.session, "login_refused_locked", "Operator", user.id, username=user.username,
                         institution_id=user.institution_id, summary=method)
            self.session.commit()
            raise
        if not check_password_hash(user.password or "", password):
            locked = lockout.register_failure(user)
            audit.record(self.session, "login_failed", "Operator", user.id, username=user.username,
                         institution_id=user.institution_id,
                         summary=_("Wrong password (%(n)d in a row)", n=user.fail_login_count) + f" [{method}]")
            if locked:
                audit.record(self.session, "lockout", "Operator", user.id, username=user.username,
                             institution_id=user.institution_id, summary=str(user.locked_until))
            self.session.commit()
            if locked:
                raise LoginRefused(lockout.locked_message(user))
            left = current_app.config["REGISTRY_LOCKOUT_FAILURES"] - user.fail_login_count
            raise LoginRefused(_("Invalid login. Please try again.") + " " +
                               _("%(n)d more failures will lock the account.", n=left))
        self.check_may_sign_in(user, method)
        return user

    def check_may_sign_in(self, user, method):
        """Accounts that exist and know their password may still not be allowed in."""
        reason = None
        if not user.is_active:
            reason = _("This account is not active (an institution's account works once the registry approves it)")
        elif user.status == "departed":
            reason = _("This operator has left the institution and can no longer sign in")
        elif user.institution is not None and user.institution.status != "approved":
            reason = _("Your institution is not approved (status: %(status)s)", status=user.institution.status)
        if reason:
            audit.record(self.session, "login_refused", "Operator", user.id, username=user.username,
                         institution_id=user.institution_id, summary=f"{method}: {reason}")
            self.session.commit()
            raise LoginRefused(reason)

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
        self.session.commit()
        locale = session.get("locale")
        session.clear()  # no state from before the sign-in survives (session fixation), but the language
        if locale:
            session["locale"] = locale
        session.permanent = True
        session[SESSION_NONCE_KEY] = user.session_nonce
        login_user(user, remember=False)

    def rotate_session_nonce(self, user):
        """Every existing session of this user stops working at its next request."""
        user.session_nonce = secrets.token_hex(16)

    def load_user(self, pk):
        user = self.get_user_by_id(int(pk))
        if not user or not user.is_active or user.status == "departed":
            return None
        nonce = session.get(SESSION_NONCE_KEY)
        if not nonce or not user.session_nonce or not secrets.compare_digest(nonce, user.session_nonce):
            return None
        return user

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
        audit.record(self.session, "logout", "Operator", user.id, username=user.username,
                     institution_id=user.institution_id)
        self.session.commit()
