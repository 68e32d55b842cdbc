"""The password policy (REGISTRY_PASSWORD_* settings): length and character classes; and a password
check that takes the same time whether or not there is an account to check against."""
import re
import secrets

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms.validators import ValidationError


def problems(password: str) -> list:
    """Every way the password breaks the policy, as user-facing messages (empty when it is fine)."""
    cfg = current_app.config
    password = password or ""
    found = []
    minimum = cfg.get("REGISTRY_PASSWORD_MIN_LENGTH", 8)
    if len(password) < minimum:
        found.append(_("The password must have at least %(n)d characters", n=minimum))
    if cfg.get("REGISTRY_PASSWORD_LETTERS_AND_DIGITS", True) and not (
            re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        found.append(_("The password must contain both letters and digits"))
    if "\x00" in password:
        found.append(_("The password contains an invalid character"))
    return found


def policy_validator(form, field):
    """WTForms validator applying the policy."""
    errors = problems(field.data)
    if errors:
        raise ValidationError("; ".join(errors))


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
