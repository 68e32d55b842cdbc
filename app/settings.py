"""参数设置: the runtime settings an operator changes in the console (views/parameters.py) without a
restart. Each setting names the config.py key (REGISTRY_* environment variable) that is its default;
a value saved in the console (models.Setting) overrides it until it is reset.

Every read goes through get(name) or config(key). The saved values are kept per process for
SETTINGS_CACHE_SECONDS (5 s by default; a save or reset drops them at once on the instance that made
it), so a change takes effect at the next request here and within seconds on every other instance,
without a statement on every request."""
import ipaddress
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Optional

from flask import current_app, g, has_app_context
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import audit, roles
from app.extensions import db
from models import Setting

CACHE_KEY = "_registry_settings"


@dataclass(frozen=True)
class Definition:
    name: str
    config_key: str
    kind: str                 # "int", "bool", "text", "networks" (CIDR list)
    label: object
    group: object
    help: object = ""
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    max_length: int = 100


SECURITY, LOGIN, SMS, REGISTRY = _l("Passwords and sessions"), _l("Sign-in protection"), _l("SMS codes"), _l("Registry")

DEFINITIONS = (
    Definition("password_min_length", "REGISTRY_PASSWORD_MIN_LENGTH", "int", _l("Minimum password length"),
               SECURITY, minimum=6, maximum=64),
    Definition("password_letters_and_digits", "REGISTRY_PASSWORD_LETTERS_AND_DIGITS", "bool",
               _l("Passwords must contain letters and digits"), SECURITY),
    Definition("password_min_classes", "REGISTRY_PASSWORD_MIN_CLASSES", "int",
               _l("Character classes a password must mix"), SECURITY,
               _l("Of lower-case letters, upper-case letters, digits and symbols; 0 for no such rule"), 0, 4),
    Definition("session_minutes", "PERMANENT_SESSION_LIFETIME", "int", _l("Session timeout (minutes)"), SECURITY,
               _l("A session unused this long ends; applies from each session's next request"), 5, 24 * 60),
    Definition("lockout_failures", "REGISTRY_LOCKOUT_FAILURES", "int", _l("Failed sign-ins before the account locks"),
               LOGIN, minimum=3, maximum=100),
    Definition("lockout_minutes", "REGISTRY_LOCKOUT_MINUTES", "int", _l("Lock time (minutes)"), LOGIN,
               minimum=1, maximum=24 * 60),
    Definition("login_captcha_after", "REGISTRY_LOGIN_CAPTCHA_AFTER", "int",
               _l("Ask for an image code after this many failed sign-ins"), LOGIN,
               _l("Counted per account and per client address; 0 never asks"), 0, 100),
    Definition("staff_ip_allow", "REGISTRY_STAFF_IP_ALLOW", "networks", _l("Registry staff may sign in only from"),
               LOGIN, _l("Addresses or networks (CIDR, e.g. 10.0.0.0/8), one a line; empty allows any address"),
               max_length=4000),
    Definition("staff_ip_deny", "REGISTRY_STAFF_IP_DENY", "networks", _l("Registry staff may never sign in from"),
               LOGIN, _l("Addresses or networks (CIDR), one a line"), max_length=4000),
    Definition("sms_resend_seconds", "REGISTRY_CODE_RESEND_SECONDS", "int",
               _l("Seconds before a code may be sent again"), SMS, minimum=0, maximum=3600),
    Definition("sms_per_hour", "REGISTRY_CODE_SENDS_PER_HOUR", "int", _l("Codes per number and hour at most"), SMS,
               minimum=1, maximum=1000),
    Definition("sms_per_day", "REGISTRY_CODE_SENDS_PER_DAY", "int", _l("Codes per number and day at most"), SMS,
               minimum=1, maximum=10000),
    Definition("registry_name", "APP_NAME", "text", _l("Platform name"), REGISTRY,
               _l("Shown in the title bar of every page"), max_length=60),
    Definition("province", "REGISTRY_PROVINCE", "text", _l("Province abbreviation in certificate numbers"),
               REGISTRY, _l("The province's one-character abbreviation"), max_length=4),
    Definition("city", "REGISTRY_CITY", "text", _l("City in certificate numbers"), REGISTRY, _l("The city or county as the numbers print it"),
               max_length=20),
)
BY_NAME = {d.name: d for d in DEFINITIONS}
BY_KEY = {d.config_key: d for d in DEFINITIONS}


class SettingError(ValueError):
    pass


def _saved() -> dict:
    """{name: value} saved in the console (kept per request, and per process for a few seconds); {}
    before migration."""
    if not has_app_context():
        return {}
    saved = g.get(CACHE_KEY)
    if saved is None:
        kept = current_app.extensions.get(CACHE_KEY)
        if kept is not None and kept[0] > time.monotonic():
            saved = kept[1]
        else:
            try:
                with db.engine.connect() as conn:  # its own connection: a missing table must not spoil the request's
                    saved = {name: json.loads(value)
                             for name, value in conn.execute(select(Setting.name, Setting.value))}
            except SQLAlchemyError:
                saved = {}
            current_app.extensions[CACHE_KEY] = (
                time.monotonic() + current_app.config.get("SETTINGS_CACHE_SECONDS", 5), saved)
        setattr(g, CACHE_KEY, saved)
    return saved


def default(name):
    """The environment's (config.py) value of a setting."""
    d = BY_NAME[name]
    if d.name == "session_minutes":  # the config holds seconds (or a timedelta)
        lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
        return int(lifetime.total_seconds() if hasattr(lifetime, "total_seconds") else lifetime) // 60
    value = current_app.config.get(d.config_key)
    if d.kind == "networks":
        return [v.strip() for v in (value or "").replace(";", "\n").replace(",", "\n").splitlines() if v.strip()]
    return value


def get(name):
    """A setting's value: saved in the console, else the environment's default."""
    saved = _saved()
    return saved[name] if name in saved else default(name)


def config(key):
    """current_app.config[key], unless a console setting stands for that key: the one way code reads
    the config keys listed in DEFINITIONS."""
    d = BY_KEY.get(key)
    return get(d.name) if d and d.name != "session_minutes" else current_app.config[key]


def is_saved(name) -> bool:
    return name in _saved()


def parse(name, raw):
    """The console's text for a setting as its value; SettingError with a message when it is not one."""
    d = BY_NAME[name]
    raw = (raw or "").strip() if isinstance(raw, str) or raw is None else raw
    if d.kind == "bool":
        return raw in (True, "1", "y", "on", "true")
    if d.kind == "int":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SettingError(_("%(label)s: enter a whole number", label=d.label)) from None
        if (d.minimum is not None and value < d.minimum) or (d.maximum is not None and value > d.maximum):
            raise SettingError(_("%(label)s: from %(low)d to %(high)d", label=d.label, low=d.minimum, high=d.maximum))
        return value
    if len(raw) > d.max_length:
        raise SettingError(_("%(label)s: at most %(n)d characters", label=d.label, n=d.max_length))
    if d.kind == "networks":
        networks = []
        for line in raw.replace(",", "\n").replace(";", "\n").splitlines():
            if line.strip():
                try:
                    networks.append(str(ipaddress.ip_network(line.strip(), strict=False)))
                except ValueError:
                    raise SettingError(_("%(label)s: %(value)s is not an address or network (CIDR)",
                                         label=d.label, value=line.strip()[:50])) from None
        return networks
    if not raw:
        raise SettingError(_("%(label)s: required", label=d.label))
    return raw


def save(values: dict, username=None) -> list:
    """Store {name: value} (already parsed). A setting never saved whose value is the default stays
    unsaved (it keeps following the environment); a saved one is updated. Audited, committed.
    Returns the names that changed."""
    rows = {s.name: s for s in db.session.scalars(select(Setting).where(Setting.name.in_(list(values))))}
    changed = []
    for name, value in values.items():
        if get(name) == value and (name in rows or value == default(name)):
            continue
        text = json.dumps(value, ensure_ascii=False)
        row = rows.get(name)
        before = get(name)
        if row is None:
            db.session.add(Setting(name=name, value=text, updated_by=username))
        else:
            row.value, row.updated_by = text, username
        audit.record(db.session, "setting_changed", "Setting", None, summary=name,
                     before={name: before}, after={name: value})
        changed.append(name)
    db.session.commit()
    forget()
    return changed


def reset(name, username=None) -> bool:
    """Back to the environment's default. True when a saved value was removed."""
    row = db.session.scalar(select(Setting).where(Setting.name == name))
    if row is None:
        return False
    audit.record(db.session, "setting_reset", "Setting", row.id, summary=name,
                 before={name: json.loads(row.value)}, after={name: default(name)})
    db.session.delete(row)
    db.session.commit()
    forget()
    return True


def forget() -> None:
    if has_app_context():
        g.pop(CACHE_KEY, None)
        current_app.extensions.pop(CACHE_KEY, None)


# --- what the settings decide ---------------------------------------------------------------------
STAFF_ROLES = frozenset({roles.ADMIN, roles.REVIEWER, roles.CONFIGURATOR})  # the registry's own staff


def is_staff(user) -> bool:
    return bool(roles.role_names(user) & STAFF_ROLES)


def staff_address_refused(ip, allow=None, deny=None) -> Optional[str]:
    """Why a registry staff member may not work from this client address (a Chinese message), or None;
    by today's lists, or by the lists given (the console checks a change before saving it)."""
    allow = get("staff_ip_allow") if allow is None else allow
    deny = get("staff_ip_deny") if deny is None else deny
    if not allow and not deny:
        return None
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return _("Registry staff cannot sign in from an unknown address")
    if any(address in ipaddress.ip_network(n, strict=False) for n in deny):
        return _("Registry staff may not sign in from this address (%(ip)s)", ip=ip)
    if allow and not any(address in ipaddress.ip_network(n, strict=False) for n in allow):
        return _("Registry staff may sign in only from the registry's networks; this address (%(ip)s) is not one",
                 ip=ip)
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the console's session timeout, read at each request (Flask
    reads PERMANENT_SESSION_LIFETIME, fixed at start-up). The timeout runs from the session's last
    request: the cookie is signed again when the session changed or its signature is RESIGN_SECONDS
    old, not on every request (signing a cookie was a twentieth of a list page's time under load).
    Likewise a cookie's signature is checked once per (keys, cookie), not at every request
    (_unsigned); its age is checked at every request, against the timeout of the moment."""
    RESIGN_SECONDS = 60

    def open_session(self, app, request):
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        serializer, signer = _serializer(self, (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key))
        try:
            payload, signed_at = _unsigned(signer, value)
        except BadSignature:
            return self.session_class()
        age = signer.get_timestamp() - signed_at  # the signer's clock, as itsdangerous checks max_age
        if not 0 <= age <= get("session_minutes") * 60:
            return self.session_class()
        session = self.session_class(serializer.load_payload(payload))
        session.signed_age = age
        return session

    def should_set_cookie(self, app, session):
        if session.modified:
            return True
        return session.permanent and getattr(session, "signed_age", self.RESIGN_SECONDS) >= self.RESIGN_SECONDS

    def get_expiration_time(self, app, session):
        if session.permanent:
            return datetime.now(timezone.utc) + timedelta(minutes=get("session_minutes"))
        return None


@lru_cache(maxsize=8)
def _serializer(interface, keys):
    """Flask's serializer for these keys (the current one last) and its signer, built once rather than
    per request."""
    serializer = URLSafeTimedSerializer(list(keys), salt=interface.salt, serializer=interface.serializer,
                                        signer_kwargs={"key_derivation": interface.key_derivation,
                                                       "digest_method": interface.digest_method})
    return serializer, serializer.make_signer()


@lru_cache(maxsize=4096)
def _unsigned(signer, value):
    """(payload, signed at: seconds) of a cookie whose signature holds under the signer's keys; raises
    BadSignature otherwise (not kept: only good cookies fill the cache)."""
    payload, signed_at = signer.unsign(value, return_timestamp=True)
    return payload, int(signed_at.timestamp())


def install(app):
    """Sessions with the console's timeout; the platform name from the console; registry staff refused
    from addresses the console's lists exclude, at every request (not only at sign-in)."""
    from flask import request, session
    from flask_login import current_user, logout_user
    from werkzeug.exceptions import Forbidden

    app.session_interface = SessionInterface()
    app.extensions["registry_app_name"] = lambda: get("registry_name")  # app/extensions.py RegistryAppBuilder

    @app.before_request
    def _staff_addresses():
        if request.endpoint in (None, "static") or not (get("staff_ip_allow") or get("staff_ip_deny")):
            return
        if not (current_user.is_authenticated and is_staff(current_user)):
            return
        reason = staff_address_refused(request.remote_addr)
        if reason:
            audit.record(db.session, "request_refused_address", "Operator", current_user.id, summary=reason[:300])
            db.session.commit()
            logout_user()
            session.clear()
            exc = Forbidden(reason)
            exc.page_text = reason
            raise exc
