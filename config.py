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
# Served over HTTPS: redirect http, send HSTS, Secure cookies (app/headers.py). Off for `make run`. Behind a
# TLS-terminating proxy also set PROXY_COUNT, so that X-Forwarded-Proto tells the app the request was https.
REGISTRY_HTTPS = env("HTTPS", False)
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
# The registration authority printed on certificates and proofs (登记机构), and the JPG resolution.
CERTIFICATE_AUTHORITY = env("CERTIFICATE_AUTHORITY", "长沙市不动产登记中心")
CERTIFICATE_JPG_DPI = env("CERTIFICATE_JPG_DPI", 110)

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

# Outside services (README "Outside services"; app/services/outside.py). Each service has a real adapter
# speaking the signed HTTP protocol of app/services/signing.py ("http") and a local stand-in ("sandbox"),
# allowed only with REGISTRY_SANDBOX=1 (`make run` sets it), which also mounts the sandbox pages.
# An empty adapter setting means: "sandbox" when SANDBOX is on, otherwise "http".
SANDBOX = env("SANDBOX", False)
SMS_ADAPTER = env("SMS_ADAPTER", "")
PAYMENT_ADAPTER = env("PAYMENT_ADAPTER", "")
TAX_ADAPTER = env("TAX_ADAPTER", "")
SMS_URL = env("SMS_URL", "")                  # the gateway's base URL, e.g. https://sms.example.cn
SMS_KEY_ID = env("SMS_KEY_ID", "")
SMS_SECRET = env("SMS_SECRET", "dev-only-sms-secret-change-me-0123456789")
PAYMENT_URL = env("PAYMENT_URL", "")          # the payment provider's base URL
PAYMENT_KEY_ID = env("PAYMENT_KEY_ID", "")
PAYMENT_NOTIFY_URL = env("PAYMENT_NOTIFY_URL", "")  # our /pay/notify as the provider reaches it; empty: from the request
TAX_URL = env("TAX_URL", "")                  # the tax bureau's 税费联办 interface base URL
TAX_KEY_ID = env("TAX_KEY_ID", "")
TAX_NOTIFY_URL = env("TAX_NOTIFY_URL", "")    # our /tax/notify as the bureau reaches it; empty: from the request
OUTSIDE_TIMEOUT_SECONDS = env("OUTSIDE_TIMEOUT_SECONDS", 10)
NOTIFY_WINDOW_SECONDS = env("NOTIFY_WINDOW_SECONDS", 300)  # a notification's timestamp may be this far off
# 水电气网过户 (app/services/utilities.py) and the housing authority's 网签备案 check (app/services/housing.py):
# same signed protocol; their secrets have no shipped default (empty: the service is not configured).
UTILITIES_ADAPTER = env("UTILITIES_ADAPTER", "")
UTILITIES_URL = env("UTILITIES_URL", "")      # the utilities' joint transfer platform (水电气网联办)
UTILITIES_KEY_ID = env("UTILITIES_KEY_ID", "")
UTILITIES_SECRET = env("UTILITIES_SECRET", "")
UTILITIES_ATTEMPTS = env("UTILITIES_ATTEMPTS", 3)            # tries per request before it is marked failed
UTILITIES_RETRY_SECONDS = env("UTILITIES_RETRY_SECONDS", 5)  # pause between tries (doubled each time)
HOUSING_ADAPTER = env("HOUSING_ADAPTER", "")
HOUSING_URL = env("HOUSING_URL", "")          # the housing authority's 网签备案 query interface
HOUSING_KEY_ID = env("HOUSING_KEY_ID", "")
HOUSING_SECRET = env("HOUSING_SECRET", "")
KIOSK_CODE_HOURS = env("KIOSK_CODE_HOURS", 72)   # a 自助打证 code is valid this long (and once)
DETAIL_PAGE_SIZE = env("DETAIL_PAGE_SIZE", 20)   # 明细表 rows per page (the manual asks for at least 10)

# Demo and sandbox (issue 8). REGISTRY_DEMO=1 lets the shipped dev-only secrets through the start-up
# check (app/secrets_check.py); REGISTRY_SANDBOX=1 selects the local stand-ins of outside services and
# opens the SMS outbox page. `make run` sets both; production sets neither.
DEMO = env("DEMO", False)

# Verification codes by SMS (app/services/verification.py): validity, tries, and sends per phone and purpose.
REGISTRY_CODE_MINUTES = env("CODE_MINUTES", 5)
REGISTRY_CODE_TRIES = env("CODE_TRIES", 5)
REGISTRY_CODE_RESEND_SECONDS = env("CODE_RESEND_SECONDS", 60)
REGISTRY_CODE_SENDS_PER_HOUR = env("CODE_SENDS_PER_HOUR", 5)
REGISTRY_CODE_SENDS_PER_DAY = env("CODE_SENDS_PER_DAY", 10)

# E-mail notices (app/services/mail.py): an SMTP server; without one only the sandbox records them.
REGISTRY_SMTP_HOST = env("SMTP_HOST", "")
REGISTRY_SMTP_PORT = env("SMTP_PORT", 25)
REGISTRY_SMTP_STARTTLS = env("SMTP_STARTTLS", False)
REGISTRY_SMTP_USER = env("SMTP_USER", "")
REGISTRY_SMTP_PASSWORD = env("SMTP_PASSWORD", "")
REGISTRY_SMTP_FROM = env("SMTP_FROM", "noreply@registry.local")

# Request limits (app/limits.py, Flask-Limiter): "N per minute;M per hour", per client IP unless
# named otherwise. memory:// counts per process (make run); redis://host:port/db shares the counts
# between instances (production). REGISTRY_RATELIMIT_ENABLED=0 turns the limits and the progressive
# login delay off (the test suite does; tests/test_limits.py turns them on).
REGISTRY_RATELIMIT_ENABLED = env("RATELIMIT_ENABLED", True)
REGISTRY_RATELIMIT_STORAGE = env("RATELIMIT_STORAGE", "memory://")
REGISTRY_RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "10 per minute;50 per hour")
REGISTRY_RATELIMIT_LOGIN_ACCOUNT = env("RATELIMIT_LOGIN_ACCOUNT", "10 per minute;30 per hour")  # per account name
REGISTRY_RATELIMIT_SMS = env("RATELIMIT_SMS", "3 per minute;20 per hour")
REGISTRY_RATELIMIT_PUBLIC = env("RATELIMIT_PUBLIC", "20 per minute;200 per hour")
REGISTRY_RATELIMIT_REGISTER = env("RATELIMIT_REGISTER", "5 per minute;20 per hour")
REGISTRY_RATELIMIT_UPLOAD = env("RATELIMIT_UPLOAD", "30 per minute;300 per hour")
# 办理进度查询 (app/services/progress.py): after this many misses from one address within an hour,
# every further query needs the image captcha.
PROGRESS_CAPTCHA_AFTER = env("PROGRESS_CAPTCHA_AFTER", 3)
# Progressive delay (app/auth/lockout.py): after LOGIN_DELAY_AFTER failures in a row each further
# failure makes the account refuse attempts for LOGIN_DELAY_SECONDS, doubling, until the lock.
REGISTRY_LOGIN_DELAY_AFTER = env("LOGIN_DELAY_AFTER", 3)
REGISTRY_LOGIN_DELAY_SECONDS = env("LOGIN_DELAY_SECONDS", 5)
# A place (IP) the account signed in from within this many days stays open to it during a lock.
REGISTRY_LOGIN_KNOWN_SOURCE_DAYS = env("LOGIN_KNOWN_SOURCE_DAYS", 90)

# Production (issue 8): institution registration documents (sent by anonymous visitors) are capped
# per file and deleted this many days after the registration is rejected (purge-rejected-files).
REGISTRATION_MAX_MB = env("REGISTRATION_MAX_MB", 10)
REJECTED_FILES_DAYS = env("REJECTED_FILES_DAYS", 30)

# Background jobs (app/jobs; README "Deployment"): with BROKER_URL (redis://host:port/db) jobs go to Celery
# workers (`celery -A app.celery_app worker`); without it each app process runs them in a local worker
# thread (make run, tests). Work above these sizes runs as a job; at or below them it stays in the request.
BROKER_URL = env("BROKER_URL", "")
JOB_IMPORT_ROWS = env("JOB_IMPORT_ROWS", 500)     # Excel import rows
IMPORT_MAX_ROWS = env("IMPORT_MAX_ROWS", 20000)   # rows of one Excel import at most (a building's units)
JOB_EXPORT_ROWS = env("JOB_EXPORT_ROWS", 5000)    # rows of an export
EXPORT_MAX_ROWS = env("EXPORT_MAX_ROWS", 1000000)  # rows of one export at most (an Excel sheet holds 1,048,575)
JOB_PRINT_CASES = env("JOB_PRINT_CASES", 10)      # cases in one batch print
JOB_SMS_MESSAGES = env("JOB_SMS_MESSAGES", 5)     # SMS sent by one action (the party confirmations at 提交)

# Lists (app/paging.py): a list's count is exact up to this many rows, then shown as "共 10,000+ 条";
# the count reads at most this many + 1 index entries, whatever the register's size.
REGISTRY_LIST_COUNT_CAP = env("LIST_COUNT_CAP", 10000)

# 参数设置 (app/settings.py, the console's 参数设置 page): these and the password, lockout, session, SMS
# code and certificate-number settings above are the defaults; a value saved in the console overrides them
# at the next request, and resetting it there returns to these.
REGISTRY_PASSWORD_MIN_CLASSES = env("PASSWORD_MIN_CLASSES", 0)   # of lower, upper, digits, symbols; 0: no rule
REGISTRY_LOGIN_CAPTCHA_AFTER = env("LOGIN_CAPTCHA_AFTER", 3)     # failed sign-ins (account or IP); 0: never
REGISTRY_STAFF_IP_ALLOW = env("STAFF_IP_ALLOW", "")  # CIDRs, comma-separated: registry staff only from these
REGISTRY_STAFF_IP_DENY = env("STAFF_IP_DENY", "")    # CIDRs, comma-separated: registry staff never from these
SETTINGS_CACHE_SECONDS = env("SETTINGS_CACHE_SECONDS", 5)  # how soon another instance sees a 参数设置 change
# The open API (/api/v1, app/api): bearer tokens live this long; HMAC signatures and webhook signatures
# are accepted within this many seconds of the clock; a rotated secret keeps working this long; each
# client's request budget; an Idempotency-Key's first answer is kept this long.
API_TOKEN_SECONDS = env("API_TOKEN_SECONDS", 900)
API_SIGNATURE_WINDOW_SECONDS = env("API_SIGNATURE_WINDOW_SECONDS", 300)
API_ROTATION_OVERLAP_HOURS = env("API_ROTATION_OVERLAP_HOURS", 24)
API_RATE_LIMIT = env("API_RATE_LIMIT", "120 per minute;5000 per hour")
API_IDEMPOTENCY_HOURS = env("API_IDEMPOTENCY_HOURS", 24)
# A version's retirement date (HTTP date) once announced: every answer of /api/v1 then carries Sunset.
API_V1_SUNSET = env("API_V1_SUNSET", "")
# Webhook deliveries: attempts, the first retry's delay (doubled each time: 10 s, 20 s, 40 s ...), timeout.
WEBHOOK_MAX_ATTEMPTS = env("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_BACKOFF_SECONDS = env("WEBHOOK_BACKOFF_SECONDS", 10)
WEBHOOK_TIMEOUT_SECONDS = env("WEBHOOK_TIMEOUT_SECONDS", 10)
# Webhook URLs on loopback or private networks (SSRF): refused unless allowed; the demo and tests allow them.
WEBHOOK_ALLOW_PRIVATE = env("WEBHOOK_ALLOW_PRIVATE", DEMO)
