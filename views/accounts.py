"""Signing in (CA certificate / account / LDAP tabs), public and institution registration, forgotten
passwords, the registry's review of registrations, and personal settings.

The login view replaces FAB's (RegistrySecurityManager.authdbview) and keeps POST /login/ for
account + password. Refusals are shown as the message of the LoginRefused raised by app/auth.
"""
import secrets

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit, login_log, roles
from app.auth import LoginRefused, ca, ldap_auth, lockout, login_captcha
from app.auth.forms import (CaLoginForm, ChangePasswordForm, FontSizeForm, ForgotPasswordForm,
                            InstitutionRegistrationForm, MyInfoForm, PasswordLoginForm, PublicRegistrationForm)
from app.extensions import appbuilder, db
from app.services import mail, registration_documents, verification
from app.services.materials import MaterialError
from models.base import utcnow
from models import Institution, Operator, OperatorCertificate

RESET_PURPOSE, REGISTER_PURPOSE = "reset_password", "register"
STAFF_RESET = _l("Administrator and registry accounts cannot reset their password by SMS; "
                 "please ask the system administrator")


def _send_code(phone, purpose, subject=None, body_template=None):
    """Send a code within the caps of app/services/verification.py; False (and a message) when refused."""
    try:
        verification.send_code(phone, purpose, subject=subject, body_template=body_template)
    except verification.CodeError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return False
    db.session.commit()
    return True


def _sm():
    return appbuilder.sm


class LoginView(AuthDBView):
    login_template = "accounts/login.html"

    def _render(self, method="password", form=None):
        return self.render_template(self.login_template, title=self.title, appbuilder=self.appbuilder,
                                    form=form or PasswordLoginForm(), ca_form=CaLoginForm(),
                                    nonce=ca.new_nonce(), method=request.args.get("method", method),
                                    captcha_required=login_captcha.required(),
                                    ldap_enabled=bool(current_app.config.get("REGISTRY_LDAP_URL")),
                                    driver_url=current_app.config.get("REGISTRY_CA_DRIVER_URL")
                                    or url_for("AccountsView.ca_driver"))

    def _refused(self, exc, method, reason=None):
        # One login-log row per refused attempt (app/login_log.py); the method's own reason by default.
        login_log.refused(request.form.get("username"), method, exc,
                          reason or {"password": "wrong_password", "ca": "certificate", "ldap": "ldap"}[method])
        flash(str(exc), "danger")
        login_captcha.after_failure(request.form.get("username"))
        return redirect(url_for("LoginView.login", method=method, next=request.args.get("next") or None))

    def _captcha_refused(self, form, method):
        """参数设置: after N failed sign-ins the image code is checked first (app/auth/login_captcha.py)."""
        try:
            login_captcha.check(form.username.data, form.captcha.data)
        except LoginRefused as exc:
            return self._refused(exc, method, "captcha")
        return None

    def _signed_in(self, user, method):
        _sm().finish_login(user, method)
        return redirect(get_safe_redirect(request.args.get("next", "")))

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated and request.method == "GET":
            return redirect(self._get_safe_next_url())
        form = PasswordLoginForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                login_log.refused(form.username.data, "password", "", "incomplete")
                return self._render(form=form)
            if refused := self._captcha_refused(form, "password"):
                return refused
            try:
                user = _sm().password_login(form.username.data, form.password.data)
                if user.institution is not None and user.institution.ca_required:
                    raise LoginRefused(_("Your institution requires signing in with the CA certificate"),
                                       reason="ca_required")
            except LoginRefused as exc:
                return self._refused(exc, "password")
            return self._signed_in(user, "password")
        return self._render()

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """Signing out changes state, so only a POST carrying the CSRF token (checked by CSRFProtect)
        does it; a GET (an old link, an <img> on another site) only shows the form that signs out."""
        if request.method == "POST":
            return super().logout()
        if g.user is None or not g.user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("accounts/logout.html", appbuilder=self.appbuilder)

    @expose("/login/ca/", methods=["POST"])
    def login_ca(self):
        """CA证书+密码: the password, then the bound certificate, then the signature over our nonce."""
        form = CaLoginForm()
        if not form.validate_on_submit():
            return self._refused(_("Enter the account and password, choose the key and sign again"), "ca",
                                 "incomplete")
        if refused := self._captcha_refused(form, "ca"):
            return refused
        try:
            nonce = ca.take_nonce()
            if not form.signature.data:
                raise LoginRefused(_("No certificate key was read. Install the CA driver and refresh the page"))
            user = _sm().password_login(form.username.data, form.password.data, method="ca")
            try:
                bound = db.session.scalar(select(OperatorCertificate).where(OperatorCertificate.operator_id == user.id))
                if bound is None:
                    raise LoginRefused(_("No CA certificate is bound to this account; "
                                         "ask your institution administrator to bind one"))
                cert = ca.load_certificate(bound.pem.encode())
                ca.check_certificate(cert)
                ca.verify_signature(cert, nonce.encode(), ca.decode_signature(form.signature.data))
            except LoginRefused as exc:
                audit.record(db.session, "login_failed", "Operator", user.id, username=user.username,
                             institution_id=user.institution_id, summary=f"ca: {exc}"[:300])
                db.session.commit()
                raise
        except LoginRefused as exc:
            return self._refused(exc, "ca")
        return self._signed_in(user, "ca")

    @expose("/login/ldap/", methods=["POST"])
    def login_ldap(self):
        form = PasswordLoginForm()
        if not form.validate_on_submit():
            return self._refused(_("Enter the account and password"), "ldap", "incomplete")
        if refused := self._captcha_refused(form, "ldap"):
            return refused
        try:
            user = self._ldap_user(form.username.data, form.password.data)
        except LoginRefused as exc:
            audit.record(db.session, "login_failed", "Operator", None, username=(form.username.data or "")[:128],
                         summary=f"ldap: {exc}"[:300])
            db.session.commit()
            return self._refused(exc, "ldap")
        return self._signed_in(user, "ldap")

    def _ldap_user(self, username, password):
        """The local account mirroring the directory entry, its roles synced from the LDAP groups."""
        sm = _sm()
        identity = ldap_auth.authenticate(username, password)
        role_objs = [r for r in (sm.find_role(n) for n in ldap_auth.roles_for(identity)) if r is not None]
        if not role_objs:
            raise LoginRefused(_("Your directory account is in no group that has a role on this platform"))
        user = sm.find_user(username=identity.username)
        if user is not None and user.institution_id is not None:
            # Directory accounts are registry staff; never let one take over an institution's account.
            raise LoginRefused(_("This account belongs to an institution and cannot sign in through the directory"))
        if user is None:
            user = sm.add_user(identity.username, identity.name or identity.username, "",
                               identity.email or f"{identity.username}@example.com",
                               role_objs, password=secrets.token_urlsafe(32))
            if not user:
                raise LoginRefused(_("The account could not be created; please contact the administrator"))
        user.roles = role_objs
        user.first_name = identity.name or user.first_name
        sm.check_may_sign_in(user, "ldap")
        return user


class AccountsView(BaseView):
    """Public pages: registration (person and institution), forgotten password, CA driver help."""

    route_base = "/accounts"
    default_view = "register"

    @expose("/ca-driver/")
    def ca_driver(self):
        return self.render_template("accounts/ca_driver.html", appbuilder=self.appbuilder)

    @expose("/register/", methods=["GET", "POST"])
    def register(self):
        """Public registration (Beihai 用户注册): mobile + SMS code, name, ID number, password, terms."""
        form = PublicRegistrationForm()
        if request.method == "POST" and form.send_code.data:
            if form.phone.validate(form):
                # The page answers alike for every number; a registered one is told so by SMS, to its owner.
                registered = _sm().find_user(username=form.phone.data) is not None
                notice = _("This mobile number already has an account on the platform; to get in without "
                           "the password use Forgot password on the sign-in page.") if registered else None
                if _send_code(form.phone.data, REGISTER_PURPOSE, body_template=notice):
                    flash(_("A verification code has been sent to %(phone)s", phone=form.phone.data), "info")
        elif form.validate_on_submit() and self._register_person(form):
            flash(_("Registration complete; you can now sign in with your mobile number"), "success")
            return redirect(url_for("LoginView.login"))
        return self.render_template("accounts/register.html", appbuilder=self.appbuilder, form=form)

    def _register_person(self, form):
        if not form.accept_terms.data:
            form.accept_terms.errors.append(_("Please accept the terms of service"))
            return False
        sm = _sm()
        try:  # the code first: only the number's owner learns that it is registered
            verification.verify_code(form.phone.data, REGISTER_PURPOSE, form.code.data)
        except verification.CodeError as exc:
            form.code.errors.append(str(exc))
            return False
        if sm.find_user(username=form.phone.data):
            form.phone.errors.append(_("This mobile number is already registered"))
            return False
        # Real name: one personal account per ID number (我的证照 and 查档 trust it as the party's own).
        if db.session.scalar(select(Operator.id).where(Operator.id_number == form.id_number.data,
                                                       Operator.institution_id.is_(None))
                             .execution_options(skip_scope=True).limit(1)):
            form.id_number.errors.append(_("An account with this ID number already exists; use Forgot password "
                                           "on the sign-in page to get in"))
            return False
        user = sm.add_user(form.phone.data, form.name.data.strip(), "", f"{form.phone.data}@example.com",
                           [sm.find_role(roles.PUBLIC)], password=form.password.data)
        if not user:
            form.phone.errors.append(_("The account could not be created; please contact the administrator"))
            return False
        user.phone, user.id_number = form.phone.data, form.id_number.data
        audit.record(db.session, "register", "Operator", user.id, username=user.username, summary="public")
        db.session.commit()
        return True

    @expose("/register/institution/", methods=["GET", "POST"])
    def register_institution(self):
        """法人注册: the institution and its first administrator, pending until the registry approves."""
        form = InstitutionRegistrationForm()
        if form.validate_on_submit() and self._register_institution(form):
            flash(_("Your registration has been submitted. The administrator account works once the registry "
                    "approves it."), "success")
            return redirect(url_for("LoginView.login"))
        return self.render_template("accounts/register_institution.html", appbuilder=self.appbuilder, form=form)

    def _register_institution(self, form):
        if not form.accept_terms.data:
            form.accept_terms.errors.append(_("Please accept the terms of service"))
            return False
        files = [f for f in form.documents.data or [] if f and f.filename]
        if not files:
            form.documents.errors.append(_("Upload at least the business licence"))
            return False
        try:  # by content, before anything is stored: a program renamed .pdf is refused here
            documents = registration_documents.check(files)
        except MaterialError as exc:
            form.documents.errors.append(str(exc))
            return False
        taken = db.session.scalar(select(Institution.id).where(
            (Institution.uscc == form.uscc.data) | (Institution.name == form.name.data.strip())))
        if taken:
            form.uscc.errors.append(_("An institution with this name or credit code is already registered"))
            return False
        sm = _sm()
        if sm.find_user(username=form.username.data) or sm.find_user(email=form.email.data):
            form.username.errors.append(_("This account or e-mail is already taken"))
            return False
        inst = Institution(name=form.name.data.strip(), kind=form.kind.data, uscc=form.uscc.data,
                           legal_person=form.legal_person.data, legal_person_id_number=form.legal_person_id_number.data,
                           contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
                           address=form.address.data, status="pending")
        db.session.add(inst)
        db.session.flush()
        admin = Operator(username=form.username.data, email=form.email.data,
                         first_name=form.admin_name.data.strip(), password=generate_password_hash(form.password.data),
                         active=False, institution_id=inst.id, phone=form.admin_phone.data,
                         roles=[sm.find_role(roles.INSTITUTION_ADMIN)])
        db.session.add(admin)
        registration_documents.store(inst.id, documents)  # in place when the commit below succeeds
        audit.record(db.session, "register_institution", "Institution", inst.id, username=admin.username,
                     institution_id=inst.id, summary=inst.name)
        db.session.commit()
        return True

    @expose("/forgot/", methods=["GET", "POST"])
    def forgot(self):
        """找回密码: a code to the account's mobile; a new password also lifts a lockout."""
        form = ForgotPasswordForm()
        if request.method == "POST" and form.send_code.data:
            if form.username.validate(form) and form.phone.validate(form):
                user = _sm().find_login_user(form.username.data)
                if user is not None and not verification.may_reset_by_sms(user):
                    flash(str(STAFF_RESET), "danger")
                elif user is None or user.phone != form.phone.data or _send_code(user.phone, RESET_PURPOSE,
                                                                                 subject=user.username):
                    # The same answer either way, so the page does not tell which accounts exist.
                    flash(_("If the account and mobile number match, a verification code has been sent"), "info")
        elif form.validate_on_submit() and self._reset(form):
            flash(_("Your password has been reset and the account unlocked; please sign in"), "success")
            return redirect(url_for("LoginView.login"))
        return self.render_template("accounts/forgot.html", appbuilder=self.appbuilder, form=form)

    def _reset(self, form):
        user = _sm().find_login_user(form.username.data)
        # One answer for a pair that does not match and for any code problem of a pair that does
        # (none sent, expired, wrong, used up): nothing tells whether the account and mobile exist.
        refused = _("The verification code is wrong or no longer valid; please request a new one")
        if user is None or user.phone != form.phone.data:
            form.code.errors.append(refused)
            return False
        if not verification.may_reset_by_sms(user):   # told only to whoever knows the account and its mobile
            form.code.errors.append(str(STAFF_RESET))
            return False
        try:
            verification.verify_code(user.phone, RESET_PURPOSE, form.code.data, subject=user.username)
        except verification.CodeError:
            form.code.errors.append(refused)
            return False
        user.password = generate_password_hash(form.password.data)
        lockout.unlock(user)
        _sm().rotate_session_nonce(user)
        audit.record(db.session, "password_reset", "Operator", user.id, username=user.username,
                     institution_id=user.institution_id, summary=_("Password reset by SMS code; account unlocked"))
        _notify_reset(user)
        db.session.commit()
        return True


def _notify_reset(user):
    """Tell the account's other channel (its e-mail) that the password was reset by a code to its phone:
    whoever holds only the phone cannot take the account over unnoticed."""
    when = utcnow().strftime("%Y-%m-%d %H:%M")
    phone = (user.phone or "")[:3] + "****" + (user.phone or "")[-4:]
    try:
        mail.adapter().send(user.email, _("Your password was reset"), _(
            "The password of your account %(username)s was reset at %(when)s (UTC) with a code sent to %(phone)s. "
            "If this was not you, contact the registry at once.", username=user.username, when=when, phone=phone),
            "reset_notice")
    except (mail.MailUnavailable, OSError) as exc:  # the reset stands; the missing notice is on record
        current_app.logger.error("password reset notice to %s not sent: %s", user.username, exc)
        audit.record(db.session, "reset_notice_failed", "Operator", user.id, username=user.username,
                     institution_id=user.institution_id, summary=str(exc)[:300])


class SettingsView(BaseView):
    """个人设置: my information, my password (the old one required), my font size."""

    route_base = "/settings"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        user = db.session.get(Operator, g.user.id)
        info, pwd, font = MyInfoForm(obj=user), ChangePasswordForm(), FontSizeForm(font_size=user.font_size or "normal")
        if request.method == "POST":
            if info.save_info.data and info.validate() and self._email_free(user, info):
                info.populate_obj(user)
                self._saved(user, "update_profile", _("Your information has been saved"))
                return redirect(url_for(".index"))
            if pwd.change_password.data and pwd.validate() and self._change_password(user, pwd):
                return redirect(url_for("LoginView.login"))
            if font.save_font.data and font.validate():
                user.font_size = None if font.font_size.data == "normal" else font.font_size.data
                self._saved(user, "update_font_size", _("Font size saved"))
                return redirect(url_for(".index"))
        return self.render_template("accounts/settings.html", appbuilder=self.appbuilder, user=user,
                                    info=info, pwd=pwd, font=font)

    def _email_free(self, user, form):
        """E-mail addresses are unique (the database refuses a taken one: it was a 500). Across every
        institution, hence no scope; the message says no more than that this address cannot be used."""
        email = (form.email.data or "").strip()
        taken = db.session.scalar(select(Operator.id).where(func.lower(Operator.email) == email.lower(),
                                                            Operator.id != user.id)
                                  .execution_options(skip_scope=True).limit(1))
        if taken is not None:
            form.email.errors.append(_("This e-mail address cannot be used; please enter another one"))
            return False
        form.email.data = email
        return True

    def _saved(self, user, action, message):
        audit.record(db.session, action, "Operator", user.id)
        db.session.commit()
        flash(message, "success")

    def _change_password(self, user, form):
        if not check_password_hash(user.password or "", form.old_password.data):
            form.old_password.errors.append(_("The current password is wrong"))
            return False
        user.password = generate_password_hash(form.password.data)
        _sm().rotate_session_nonce(user)  # every session, this one included, must sign in again
        self._saved(user, "change_password", _("Your password has been changed; please sign in again"))
        return True


def register(appbuilder):
    from app.auth.demo_ca import demo_ca
    current_app.cli.add_command(demo_ca)  # flask --app run demo-ca: try the CA login by hand
    appbuilder.add_view_no_menu(AccountsView())
    appbuilder.add_view(SettingsView, "PersonalSettings", label=_l("Personal settings"), icon="fa-sliders",
                        category="System")
    from .registrations import ReviewRegistrationView
    appbuilder.add_view(ReviewRegistrationView, "ReviewRegistrations", label=_l("Institution registrations"),
                        icon="fa-check-square-o", category="System")
