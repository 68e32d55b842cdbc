"""Without REGISTRY_SANDBOX the sandboxes are gone: the app, served from its own process as a deployment runs it
(tests/stubs/app_server.py) on the test database, has no sandbox route, no page of it hands out a notification
it would accept, the payment and the tax go to the real provider and bureau (local stubs), and only their signed
word can mark an order paid. A sandbox adapter selected without REGISTRY_SANDBOX stops start-up."""
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services import payment as payments
from app.services import tax
from models import Payment, TaxAssessment
from tests.stubs import KEY_ID, SECRET, PaymentProvider, TaxBureau
from tests.test_payment import case_with_fees  # noqa: F401  (fixture)
from tests.test_tax import reviewer, transfer  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def _env(**settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") or k in (
        "REGISTRY_DATABASE_URL", "REGISTRY_DATA_DIR")}
    return {**env, **{f"REGISTRY_{k}": v for k, v in settings.items()}}


@pytest.mark.parametrize("settings, message", [
    ({"PAYMENT_ADAPTER": "sandbox"}, "REGISTRY_PAYMENT_ADAPTER=sandbox needs REGISTRY_SANDBOX=1"),
    ({"TAX_ADAPTER": "mock", "SANDBOX": "1"}, "REGISTRY_TAX_ADAPTER='mock': choose one of http, sandbox"),
])
def test_a_sandbox_adapter_without_the_sandbox_setting_stops_start_up(settings, message):
    run = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"], cwd=ROOT,
                         env=_env(DEMO="1", **settings), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and message in run.stderr, run.stderr[-2000:]


class Browser:
    """A signed-in session against the served app; redirects are answered, not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  self._NoRedirect())

    def open(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=30) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode("utf-8", "replace")


@pytest.fixture
def served(app, db, case_with_fees, transfer):
    """The app without the sandbox, pointed at a stub provider and bureau, with a pending order of bank A."""
    with app.test_request_context():
        order = payments.create_order(case_with_fees)
        db.session.commit()
    provider, bureau = PaymentProvider(), TaxBureau()
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "stubs" / "app_server.py")], cwd=ROOT,
                               env={**_env(PAYMENT_URL=provider.url, PAYMENT_KEY_ID=KEY_ID, PAYMENT_SECRET=SECRET,
                                           TAX_URL=bureau.url, TAX_KEY_ID=KEY_ID, TAX_SECRET=SECRET,
                                           SMS_URL="http://127.0.0.1:9", SMS_KEY_ID=KEY_ID),
                                    "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        started = json.loads(process.stdout.readline())
        yield {"base": f"http://127.0.0.1:{started['port']}", "rules": started["rules"], "order": order.order_number,
               "provider": provider, "bureau": bureau, "case": case_with_fees, "transfer": transfer}
    finally:
        process.terminate()
        process.wait(timeout=30)
        provider.close()
        bureau.close()


def _login(base, username):
    from app.demo import DEMO_PASSWORD
    browser = Browser(base)
    status, headers, _page = browser.open("/login/", {"username": username, "password": DEMO_PASSWORD})
    assert status == 302 and "/login" not in headers["Location"], f"{username} could not sign in"
    assert 'id="logout-form"' in browser.open("/")[2]
    return browser


def test_without_the_sandbox_no_route_or_page_hands_out_a_notification(served, db):
    base, case, transfer, order = served["base"], served["case"], served["transfer"], served["order"]
    rules = [rule for rule, _methods in served["rules"]]
    assert "/pay/notify" in rules and "/tax/notify" in rules and "/pay/order/<int:case_id>" in rules
    assert not [r for r in rules if r.startswith(("/pay/sandbox", "/tax/case"))], "sandbox routes are mounted"

    browser = _login(base, "bank_a_op")
    assert browser.open(f"/pay/sandbox/{order}")[0] == 404
    assert browser.open(f"/pay/sandbox/{order}", {"channel": "wechat"})[0] == 404
    assert browser.open(f"/tax/case/{transfer.id}")[0] == 404
    assert browser.open(f"/tax/case/{transfer.id}", {"reference": "x"})[0] == 404

    # Every page the operator can open, with the ids of its own case and order filled in: none carries a
    # signature, the sandbox's notification form or its return button.
    def fill(rule):
        rule = re.sub(r"<int:[^>]+>", str(case.id), rule)
        rule = re.sub(r"<(string:)?order>", order, rule)
        return re.sub(r"<[^>]+>", "1", rule)

    pages = [fill(rule) for rule, methods in served["rules"] if "GET" in methods
             and not rule.startswith(("/static", "/appbuilder", "/logout", "/lang"))]
    pages += [f"/desk/case/{transfer.id}/", f"/desk/case/{case.id}/"]
    opened = set()
    for path in pages:
        status, _headers, page = browser.open(path)
        if status == 200:
            opened.add(path)
        assert not re.search(r'name="signature"|id="(tax-)?notify-form"|id="(tax-)?return-button"', page), path
    assert len(opened) > 25 and {"/pay/", f"/desk/case/{transfer.id}/", f"/desk/case/{case.id}/"} <= opened, \
        "the operator's own pages were checked"

    # Paying and the tax go to the real provider and bureau (the stubs), never to a page of the app.
    status, headers, _page = browser.open(f"/pay/order/{case.id}", {})
    assert status == 302 and headers["Location"] == f"{served['provider'].url}/checkout/{order}"
    assert served["provider"].refused == [] and served["provider"].received[-1][2]["order_number"] == order
    status, headers, _page = browser.open(f"/tax/declare/{transfer.id}", {})
    assert status == 302 and headers["Location"] == f"{served['bureau'].url}/pay/{transfer.number}"


def test_without_the_sandbox_only_the_signed_word_of_provider_and_bureau_counts(served, db, app, monkeypatch):
    base, order, provider = served["base"], served["order"], served["provider"]
    transfer, bureau = served["transfer"], served["bureau"]
    browser = _login(base, "bank_a_op")
    # exactly what a sandbox cashier and bureau would hand out under the deployment's secrets
    monkeypatch.setitem(app.config, "PAYMENT_SECRET", SECRET)
    monkeypatch.setitem(app.config, "TAX_SECRET", SECRET)
    with app.test_request_context():
        payment = db.session.scalar(select(Payment).where(Payment.order_number == order))
        form = payments.SandboxPayment().notification(payment, "wechat")
    status, _headers, answer = browser.open("/pay/notify", form)
    assert status == 400 and json.loads(answer)["code"] == "FAIL"
    db.session.expire_all()
    assert db.session.scalar(select(Payment).where(Payment.order_number == order)).status == "pending"

    assert browser.open(f"/pay/order/{served['case'].id}", {})[0] == 302   # the order now exists at the provider
    assert provider.orders[order]["notify_url"] == f"{base}/pay/notify"
    assert provider.pay(order) == (200, {"code": "OK", "message": "success"})
    db.session.expire_all()
    assert db.session.scalar(select(Payment).where(Payment.order_number == order)).status == "paid"

    # the tax: the sandbox bureau's form is no proof either
    assert browser.open(f"/tax/declare/{transfer.id}", {})[0] == 302
    db.session.expire_all()
    assessment = db.session.scalar(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id))
    assert assessment.reference == bureau.rows(transfer.number)[0]["reference"]
    with app.test_request_context():
        form = tax.SandboxTax().notification(assessment)
    status, _headers, answer = browser.open("/tax/notify", form)
    assert status == 400 and json.loads(answer)["code"] == "FAIL"
    db.session.expire_all()
    assert db.session.scalar(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id)).status == "pending"
