"""In the browser: a new bank registers, is approved, its admin adds an operator and binds a CA
certificate, and the operator signs in with the certificate key + password (WebCrypto signs the
server nonce). Unknown CA, expired certificate and wrong key are each refused with a clear message."""
import re

import pytest

from app.demo import make_uscc
from models import OperatorCertificate
from tests.accounts_helpers import PASSWORD, issue, make_ca, new_account, pem, trusting
from tests.conftest import browser_logout
from tests.factories import institution

DEMO = "Demo@2026"


@pytest.fixture(scope="module")
def pki():
    return make_ca("浏览器测试CA")


@pytest.fixture
def trusted(app, pki, tmp_path):
    with trusting(app, pki[1], path=tmp_path / "trust.pem"):
        yield


def password_login(page, base, username, password=DEMO):
    browser_logout(page, base)
    page.goto(f"{base}/login/")
    page.fill("#tab-password input[name=username]", username)
    page.fill("#tab-password input[name=password]", password)
    page.click("#password-submit")
    page.wait_for_load_state()


def ca_login(page, base, username, key_file, password=PASSWORD):
    browser_logout(page, base)
    page.goto(f"{base}/login/")
    page.click("#tab-ca-link")
    page.set_input_files("#ca-key-file", str(key_file))
    page.fill("#ca-username", username)
    page.fill("#ca-password", password)
    with page.expect_navigation():  # the script signs, then submits the form itself
        page.click("#ca-submit")
    page.wait_for_load_state()


def signed_in(page):
    return page.locator("#logout-form").count() > 0


def test_new_bank_to_operator_signing_in_with_the_ca_key(page, live_server, app, db, pki, trusted, tmp_path):
    uscc = make_uscc("91430104MA4L07777")
    licence = tmp_path / "licence.pdf"
    licence.write_bytes(b"%PDF-1.4 business licence")
    page.goto(f"{live_server}/accounts/register/institution/")
    for name, value in {"name": "浏览器测试银行", "uscc": uscc, "legal_person": "赵强",
                        "legal_person_id_number": "110101199003074514", "contact_name": "赵强",
                        "contact_phone": "13922223333", "address": "长沙市岳麓区", "username": "browserbank_admin",
                        "email": "bb@example.com", "admin_name": "赵强", "admin_phone": "13922223333",
                        "password": "Browser2026", "confirm": "Browser2026"}.items():
        page.fill(f"#institution-register-form [name={name}]", value)
    page.set_input_files("#institution-register-form [name=documents]", str(licence))
    page.check("#accept_terms")
    page.click("#institution-register-form button[type=submit]")
    page.wait_for_url(re.compile(r"/login/"))

    password_login(page, live_server, "reviewer")
    page.goto(f"{live_server}/registrations/")
    page.click("#registrations tr:has-text('浏览器测试银行') a")
    page.fill("[name=opinion]", "材料齐全，同意")
    page.click("#review-form [name=approve]")
    page.wait_for_url(re.compile(r"/registrations/$"))

    person = new_account(db, role="Public")
    password_login(page, live_server, "browserbank_admin", "Browser2026")
    assert signed_in(page)
    page.goto(f"{live_server}/operatorview/lookup/?query={person.phone}")
    page.click("#lookup-results button")
    page.wait_for_url(re.compile(r"/operatorview/show/\d+"))

    key, cert = issue(*pki, "浏览器操作员")
    (tmp_path / "op.pem").write_bytes(pem(cert))
    (tmp_path / "op.key").write_bytes(pem(key))
    page.click("#bind-ca")
    page.set_input_files("#bind-ca-form [name=certificate]", str(tmp_path / "op.pem"))
    page.click("#bind-ca-form button[type=submit]")
    page.wait_for_url(re.compile(r"/operatorview/show/\d+"))
    assert "浏览器操作员" in page.inner_text("#cert-subject")
    assert page.inner_text("#cert-serial").strip() == format(cert.serial_number, "X")

    ca_login(page, live_server, person.username, tmp_path / "op.key")
    assert signed_in(page), page.content()[:2000]


def _bound_operator(db, cert):
    op = new_account(db, institution=institution(db, "bank_a"))
    info = {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "serial": format(cert.serial_number, "X"), "not_before": cert.not_valid_before_utc.replace(tzinfo=None),
            "not_after": cert.not_valid_after_utc.replace(tzinfo=None)}
    db.session.add(OperatorCertificate(operator_id=op.id, institution_id=op.institution_id,
                                       pem=pem(cert).decode(), **info))
    db.session.commit()
    return op


def _refusal(page):
    return page.inner_text(".alert-danger") if page.locator(".alert-danger").count() else page.content()


def test_unknown_ca_expired_certificate_and_wrong_key_are_refused(page, live_server, db, pki, trusted, tmp_path):
    rogue = make_ca("冒牌CA")
    cases = {
        "unknown": (issue(*rogue, "野证书"), None, r"受信任|trusted CA"),
        "expired": (issue(*pki, "过期证书", days=(-400, -1)), None, r"过期|expired"),
        "wrong_key": (issue(*pki, "别人的证书"), issue(*pki, "另一把钥匙")[0], r"不属于|does not belong"),
    }
    for label, ((key, cert), other_key, expected) in cases.items():
        op = _bound_operator(db, cert)
        key_file = tmp_path / f"{label}.key"
        key_file.write_bytes(pem(other_key or key))
        ca_login(page, live_server, op.username, key_file)
        assert not signed_in(page), label
        assert re.search(expected, _refusal(page)), (label, _refusal(page))


def test_no_key_chosen_explains_the_driver_and_refresh(page, live_server):
    browser_logout(page, live_server)
    page.goto(f"{live_server}/login/")
    page.click("#tab-ca-link")
    page.fill("#ca-username", "bank_a_op")
    page.fill("#ca-password", DEMO)
    page.click("#ca-submit")
    message = page.inner_text("#ca-error")
    assert re.search(r"驱动|driver", message) and re.search(r"刷新|Refresh", message)
    assert page.locator("#ca-driver-link").is_visible() and page.locator("#ca-refresh").is_visible()
