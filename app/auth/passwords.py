"""The password policy (参数设置, app/settings.py; REGISTRY_PASSWORD_* defaults): length and character classes; and a password
check that takes the same time whether or not there is an account to check against."""
import re
import secrets

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms.validators import ValidationError

from app import settings


def problems(password: str) -> list:
    """Every way the password breaks the policy, as user-facing messages (empty when it is fine)."""
    password = password or ""
    found = []
    minimum = settings.get("password_min_length")
    if len(password) < minimum:
        found.append(_("The password must have at least %(n)d characters", n=minimum))
    if settings.get("password_letters_and_digits") and not (
            re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        found.append(_("The password must contain both letters and digits"))
    classes = settings.get("password_min_classes")
    if classes and sum(bool(re.search(p, password)) for p in CLASSES) < classes:
        found.append(_("The password must mix at least %(n)d of: lower-case letters, upper-case letters, "
                       "digits, symbols", n=classes))
    if "\x00" in password:
        found.append(_("The password contains an invalid character"))
    return found


def policy_validator(form, field):
    """WTForms validator applying the policy."""
    errors = problems(field.data)
    if errors:
        raise ValidationError("; ".join(errors))


CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
_dummy_hashes = {}


def _dummy_hash(method):
    # One per process and hash method: a random password nobody knows, hashed like real accounts are.
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def check(stored_hash, password) -> bool:
    """werkzeug's check_password_hash that costs the same when there is nothing to check against (an
    unknown account, an empty or invalid password): a dummy hash of the same method is checked then,
    so the time taken does not tell whether the account exists."""
    method = current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    usable = bool(stored_hash) and bool(password) and "\x00" not in password
    if not usable:
        check_password_hash(_dummy_hash(method), password or "")
        return False
    return check_password_hash(stored_hash, password)
