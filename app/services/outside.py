"""Which implementation of each outside service runs: the real one ("http", app/services/signing.py) or the
local stand-in ("sandbox"), chosen by REGISTRY_<SERVICE>_ADAPTER. Sandboxes exist only with REGISTRY_SANDBOX=1:
a deployment where they could answer for the provider or the tax bureau refuses to start."""
from flask import current_app

SERVICES = ("SMS", "PAYMENT", "TAX", "UTILITIES", "HOUSING")
CHOICES = ("http", "sandbox")


def selected(service: str, config=None) -> str:
    config = config if config is not None else current_app.config
    name = (config.get(f"{service}_ADAPTER") or "").strip().lower()
    return name or ("sandbox" if config.get("SANDBOX") else "http")


def check(config) -> None:
    """Refuse at start-up an unknown adapter, or a sandbox adapter without REGISTRY_SANDBOX=1."""
    problems = []
    for service in SERVICES:
        name = selected(service, config)
        if name not in CHOICES:
            problems.append(f"REGISTRY_{service}_ADAPTER={name!r}: choose one of {', '.join(CHOICES)}")
        elif name == "sandbox" and not config.get("SANDBOX"):
            problems.append(f"REGISTRY_{service}_ADAPTER=sandbox needs REGISTRY_SANDBOX=1: a sandbox signs "
                            f"notifications for anyone and must never run in production")
    if problems:
        raise RuntimeError("Outside services misconfigured (外部服务配置错误):\n  " + "\n  ".join(problems))


def unconfigured(config) -> list:
    """The real adapters selected without a URL (they fail clearly when used; start-up logs them)."""
    return [f"REGISTRY_{s}_URL" for s in SERVICES if selected(s, config) == "http" and not config.get(f"{s}_URL")]
