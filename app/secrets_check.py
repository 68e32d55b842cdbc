"""Start-up refuses signing secrets that anyone could know: a shipped default or one too short to resist
guessing. With such a key anyone can forge a session cookie, a payment or a tax notification.

Demo (`REGISTRY_DEMO=1`, set by `make run`) and tests (TESTING) may run on the shipped defaults.
"""
import re

MIN_BYTES = 32
SHIPPED_PREFIX = "dev-only-"  # every default secret in config.py starts so
# Every setting named like a signing secret: SECRET_KEY, JWT_SECRET_KEY, PAYMENT_SECRET, TAX_SECRET ...
_SECRET_NAME = re.compile(r"^(?:[A-Z0-9_]+_)?SECRET(?:_KEY)?$")
ALWAYS_USED = ("SECRET_KEY", "JWT_SECRET_KEY")  # others may be empty: their service is then not in use


class InsecureSecrets(RuntimeError):
    """str() lists every secret to set, one line each, naming its environment variable."""


def problems(config) -> list:
    """One line per signing secret that is a shipped default or shorter than MIN_BYTES."""
    out = []
    for key in sorted(k for k in config if _SECRET_NAME.match(k)):
        value = config[key]
        if not isinstance(value, (str, bytes)):
            continue
        raw = value.encode() if isinstance(value, str) else value
        if not raw and key not in ALWAYS_USED:
            continue
        variable = key if key.startswith("REGISTRY_") else f"REGISTRY_{key}"  # config.env() naming
        if raw.startswith(SHIPPED_PREFIX.encode()):
            out.append(f"{variable} is the shipped default; set it to {MIN_BYTES}+ random bytes")
        elif len(raw) < MIN_BYTES:
            out.append(f"{variable} is shorter than {MIN_BYTES} bytes; set it to {MIN_BYTES}+ random bytes")
    return out


def check(config) -> None:
    """Raise InsecureSecrets unless every signing secret is safe, or demo or testing mode is on."""
    if config.get("TESTING") or config.get("DEMO"):
        return
    found = problems(config)
    if found:
        raise InsecureSecrets(
            "Refusing to start with secrets anyone could know (for a demo set REGISTRY_DEMO=1):\n  "
            + "\n  ".join(found)
            + '\nGenerate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"')
