"""The password policy (REGISTRY_PASSWORD_* settings): length and character classes."""
import re

from flask import current_app
from flask_babel import gettext as _
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
