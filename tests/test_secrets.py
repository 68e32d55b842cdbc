"""Start-up refuses signing secrets anyone could know (app/secrets_check.py): the shipped dev-only defaults
or anything shorter than 32 bytes, unless demo (REGISTRY_DEMO=1) or testing mode is on. With a shipped
key anyone could forge a payment or tax notification or re-sign a session cookie."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import config
from app import secrets_check

ROOT = Path(__file__).resolve().parent.parent
STRONG = {name: "x" * 24 + name.lower().ljust(24, "-") for name in
          ("SECRET_KEY", "JWT_SECRET_KEY", "PAYMENT_SECRET", "TAX_SECRET", "SMS_SECRET")}


def _env(**overrides):
    """The caller's environment without demo, sandbox or any REGISTRY_*SECRET*, on a throwaway database."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("REGISTRY_") and ("SECRET" in k or k in ("REGISTRY_DEMO", "REGISTRY_SANDBOX")))}
    env["REGISTRY_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/secrets.db"
    env.update(overrides)
    return env


def _run(args, **overrides):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**overrides), capture_output=True,
                          text=True, timeout=120)


def _config(**values):
    """config.py's settings as shipped, outside demo mode (the test process itself runs with REGISTRY_DEMO=1)."""
    return {name: getattr(config, name) for name in dir(config) if name.isupper()} | {"DEMO": False} | values


def test_python_run_py_with_the_shipped_secrets_exits_naming_every_variable_to_set():
    result = _run(["run.py"])
    assert result.returncode != 0
    for variable in ("REGISTRY_SECRET_KEY", "REGISTRY_JWT_SECRET_KEY", "REGISTRY_PAYMENT_SECRET", "REGISTRY_TAX_SECRET"):
        assert f"{variable} is the shipped default; set it to 32+ random bytes" in result.stderr
    assert "Traceback" not in result.stderr  # a message, not a crash
    assert "Running on" not in result.stderr + result.stdout


def test_flask_cli_is_refused_with_the_shipped_secrets():
    """(In demo mode the CLI runs: tests/test_migrations.py upgrades a fresh database under conftest's REGISTRY_DEMO=1.)"""
    refused = _run(["-m", "flask", "--app", "run", "db", "upgrade"])
    assert refused.returncode != 0
    assert "REGISTRY_SECRET_KEY is the shipped default" in refused.stderr


def test_a_forged_payment_notification_cannot_be_accepted_the_app_refuses_to_start_with_the_default_secret():
    """Every other secret strong, the payment secret left at the shipped default: whoever signs a paid
    notification with the published default key finds no server to take it."""
    strong_but_payment = {f"REGISTRY_{k}": v for k, v in STRONG.items() if k != "PAYMENT_SECRET"}
    result = _run(["run.py"], **strong_but_payment)
    assert result.returncode != 0
    assert "REGISTRY_PAYMENT_SECRET is the shipped default" in result.stderr
    assert "REGISTRY_SECRET_KEY" not in result.stderr and "REGISTRY_TAX_SECRET" not in result.stderr


def test_the_check_refuses_defaults_and_short_secrets_and_lets_demo_testing_and_strong_secrets_through():
    with pytest.raises(secrets_check.InsecureSecrets) as refused:
        secrets_check.check(_config())
    assert "REGISTRY_SECRET_KEY is the shipped default" in str(refused.value)
    with pytest.raises(secrets_check.InsecureSecrets) as short:
        secrets_check.check(_config(**{**STRONG, "TAX_SECRET": "only-20-bytes-long!!"}))
    assert str(short.value).count("shorter than 32 bytes") == 1 and "REGISTRY_TAX_SECRET" in str(short.value)
    # Any other signing secret a later setting adds is covered by its name.
    with pytest.raises(secrets_check.InsecureSecrets, match="REGISTRY_SMS_GATEWAY_SECRET"):
        secrets_check.check(_config(**STRONG, SMS_GATEWAY_SECRET="dev-only-sms-secret-0123456789abcdef"))
    with pytest.raises(secrets_check.InsecureSecrets, match=r"REGISTRY_SMS_SECRET is shorter than 32 bytes"):
        secrets_check.check(_config(**STRONG, REGISTRY_SMS_SECRET="short"))
    with pytest.raises(secrets_check.InsecureSecrets, match=r"REGISTRY_SECRET_KEY is shorter"):
        secrets_check.check(_config(**{**STRONG, "SECRET_KEY": ""}))
    secrets_check.check(_config(**STRONG, REGISTRY_SMS_SECRET=""))  # a service not in use has no secret
    secrets_check.check(_config(DEMO=True))  # make run: demo mode starts on the shipped secrets
    secrets_check.check(_config(TESTING=True))
    secrets_check.check(_config(**STRONG))
    assert secrets_check.problems(_config(**STRONG)) == []


def test_the_outbox_page_does_not_exist_without_sandbox_mode(app):
    code = ("from app import create_app; app = create_app(); "
            "print(sorted({r.rule.split('/')[1] for r in app.url_map.iter_rules()}))")
    plain = _run(["-c", code], REGISTRY_DEMO="1")
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "smsoutboxview" not in plain.stdout and "auditlogview" in plain.stdout
    assert any(r.rule.startswith("/smsoutboxview/") for r in app.url_map.iter_rules())  # the tests' sandbox app
