"""Settings. Every value can be overridden by an environment variable named REGISTRY_<KEY>."""
import os
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent


def env(key, default):
    """Read REGISTRY_<key>, converted to the type of the default."""
    raw = os.environ.get(f"REGISTRY_{key}")
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    return raw


SECRET_KEY = env("SECRET_KEY", "dev-only-secret-key-change-me-0123456789abcdef")
PAYMENT_SECRET = env("PAYMENT_SECRET", "dev-only-payment-secret-change-me-0123456789")
TAX_SECRET = env("TAX_SECRET", "dev-only-tax-secret-change-me-0123456789")
JWT_SECRET_KEY = env("JWT_SECRET_KEY", "dev-only-jwt-secret-change-me-0123456789abcdef")
SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'registry.db'}")
SQLALCHEMY_TRACK_MODIFICATIONS = False
DATA_DIR = env("DATA_DIR", str(BASE_DIR / "instance" / "files"))
RULES_DIR = env("RULES_DIR", str(BASE_DIR / "rules"))

APP_NAME = env("APP_NAME", "不动产登记网上一窗办事平台")
APP_THEME = ""
FAB_BASE_TEMPLATE = "layout.html"
FAB_INDEX_VIEW = "views.home.HomeIndexView"
FAB_SECURITY_MANAGER_CLASS = "app.security.RegistrySecurityManager"
FAB_UPDATE_PERMS = True
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = False
FAB_SAFE_REDIRECT_HOSTS = ["127.0.0.1", "localhost"]
AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Anonymous"  # app/roles.py ANONYMOUS: what visitors may open
AUTH_RATE_LIMITED = False

WTF_CSRF_ENABLED = env("CSRF_ENABLED", True)
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env("SESSION_COOKIE_SECURE", False)
PERMANENT_SESSION_LIFETIME = env("SESSION_MINUTES", 30) * 60
PROXY_COUNT = env("PROXY_COUNT", 0)  # reverse proxies in front of the app whose X-Forwarded-For we trust
MAX_CONTENT_LENGTH = env("MAX_UPLOAD_MB", 50) * 1024 * 1024

BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_FOLDER = str(BASE_DIR / "translations")
LANGUAGES = {
    "zh": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}

# Roles, their permissions and which of them are confined to one institution: app/roles.py
from app.roles import FAB_ROLES  # noqa: E402,F401  (read by FAB from this module)

# Certificate numbers: province abbreviation, city and sequence width (domain.md)
REGISTRY_PROVINCE = env("PROVINCE", "湘")
REGISTRY_CITY = env("CITY", "长沙市")
CERTIFICATE_SEQUENCE_WIDTH = env("CERTIFICATE_SEQUENCE_WIDTH", 7)

# Accounts and security (issue 5): password policy, lockout, CA trust store, LDAP for registry staff
REGISTRY_PASSWORD_MIN_LENGTH = env("PASSWORD_MIN_LENGTH", 8)
REGISTRY_PASSWORD_LETTERS_AND_DIGITS = env("PASSWORD_LETTERS_AND_DIGITS", True)
REGISTRY_LOCKOUT_FAILURES = env("LOCKOUT_FAILURES", 5)
REGISTRY_LOCKOUT_MINUTES = env("LOCKOUT_MINUTES", 30)
REGISTRY_CA_TRUST_FILE = env("CA_TRUST_FILE", str(BASE_DIR / "instance" / "ca-trust.pem"))
REGISTRY_CA_DRIVER_URL = env("CA_DRIVER_URL", "")
REGISTRY_LDAP_URL = env("LDAP_URL", "")
REGISTRY_LDAP_BASE_DN = env("LDAP_BASE_DN", "dc=registry,dc=local")
REGISTRY_LDAP_USER_FILTER = env("LDAP_USER_FILTER", "(&(objectClass=inetOrgPerson)(uid={username}))")
REGISTRY_LDAP_USER_DN_TEMPLATE = env("LDAP_USER_DN_TEMPLATE", "")
REGISTRY_LDAP_BIND_DN = env("LDAP_BIND_DN", "")
REGISTRY_LDAP_BIND_PASSWORD = env("LDAP_BIND_PASSWORD", "")
REGISTRY_LDAP_GROUP_BASE = env("LDAP_GROUP_BASE", "")
REGISTRY_LDAP_GROUP_FILTER = env("LDAP_GROUP_FILTER", "(&(objectClass=groupOfNames)(member={dn}))")
REGISTRY_LDAP_ROLE_MAPPING = env("LDAP_ROLE_MAPPING", "reviewers=RegistryReviewer;admins=Admin")

# Production (issue 8): institution registration documents (sent by anonymous visitors) are capped
# per file and deleted this many days after the registration is rejected (purge-rejected-files).
REGISTRATION_MAX_MB = env("REGISTRATION_MAX_MB", 10)
REJECTED_FILES_DAYS = env("REJECTED_FILES_DAYS", 30)
