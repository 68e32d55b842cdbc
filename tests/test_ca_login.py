"""CA certificate + password sign-in: the nonce signature, the certificate's validity and issuer."""
import base64
import re

import pytest

from tests.accounts_helpers import (forget_request_globals, PASSWORD, audit_actions, issue, make_ca, new_account, pem, sign, trusting)
from tests.conftest import signed_in
from tests.factories import institution


@pytest.fixture(scope="module")
def pki():
    ca_key, ca_cert = make_ca()
    return ca_key, ca_cert


@pytest.fixture
def trusted(app, pki, tmp_path):
    with trusting(app, pki[1], path=tmp_path / "trust.pem"):
        yield


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def bind(client, admin, operator, cert):
    client.auth.login(admin)
    from io import BytesIO
    return client.post(f"/operatorview/bindca/{operator.id}", data={"certificate": (BytesIO(pem(cert)), "op.pem")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)


def ca_login(client, username, key, password=PASSWORD, tamper=False):
    client.post("/logout/")
    page = client.get("/login/?method=ca").get_data(as_text=True)
    nonce = re.search(r'data-nonce="([^"]+)"', page).group(1)
    data = (nonce + "x").encode() if tamper else nonce.encode()
    signature = base64.b64encode(sign(key, data)).decode()
    return client.post("/login/ca/", data={"username": username, "password": password, "signature": signature},
                       follow_redirects=True).get_data(as_text=True)


def test_operator_signs_in_with_bound_certificate(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "陈晓东")
    page = bind(client, "bank_a_admin", op, cert)
    assert "陈晓东" in page and format(cert.serial_number, "X") in page
    assert "/logout" in ca_login(client, op.username, key)
    assert {"bind_ca", "login"} <= set(audit_actions(db, op.username)) | set(audit_actions(db, "bank_a_admin"))


def test_rsa_certificate_works_too(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "RSA user", kind="rsa")
    bind(client, "bank_a_admin", op, cert)
    assert "/logout" in ca_login(client, op.username, key)


def test_wrong_key_is_refused(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    _, cert = issue(*pki, "持证人")
    other_key, _ = issue(*pki, "别人")
    bind(client, "bank_a_admin", op, cert)
    page = ca_login(client, op.username, other_key)
    assert "/logout" not in page and "不属于" in page


def test_replayed_or_tampered_signature_is_refused(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "持证人")
    bind(client, "bank_a_admin", op, cert)
    assert "/logout" not in ca_login(client, op.username, key, tamper=True)


def test_expired_certificate_is_refused(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "过期", days=(-400, -10))
    page = bind(client, "bank_a_admin", op, cert)
    assert "alert-warning" in page  # the administrator is warned at binding time
    page = ca_login(client, op.username, key)
    assert "/logout" not in page and "过期" in page


def test_certificate_from_unknown_ca_is_refused(client, db, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    rogue_key, rogue_ca = make_ca("冒牌CA")
    key, cert = issue(rogue_key, rogue_ca, "持证人")
    bind(client, "bank_a_admin", op, cert)
    page = ca_login(client, op.username, key)
    assert "/logout" not in page and "受信任" in page
    assert "login_failed" in audit_actions(db, op.username)


def test_no_bound_certificate_is_explained(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, _ = issue(*pki, "x")
    page = ca_login(client, op.username, key)
    assert "/logout" not in page and "绑定" in page


def test_admin_cannot_bind_a_certificate_to_another_institutions_operator(client, db, pki):
    op = new_account(db, institution=institution(db, "bank_b"))
    _, cert = issue(*pki, "x")
    client.auth.login("bank_a_admin")
    from io import BytesIO
    resp = client.post(f"/operatorview/bindca/{op.id}", data={"certificate": (BytesIO(pem(cert)), "op.pem")},
                       content_type="multipart/form-data")
    assert resp.status_code == 404


def test_unbinding_is_audited_and_stops_ca_login(client, db, pki, trusted):
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "解绑")
    bind(client, "bank_a_admin", op, cert)
    client.post(f"/operatorview/unbindca/{op.id}")
    assert "unbind_ca" in audit_actions(db, "bank_a_admin")
    assert "/logout" not in ca_login(client, op.username, key)


def test_demo_ca_command_binds_a_certificate_whose_key_signs_in(app, client, db, tmp_path):
    from cryptography.hazmat.primitives import serialization
    before = app.config["REGISTRY_CA_TRUST_FILE"], app.instance_path
    app.config["REGISTRY_CA_TRUST_FILE"] = str(tmp_path / "trust.pem")
    app.instance_path = str(tmp_path)
    try:
        op = new_account(db, institution=institution(db, "bank_b"))
        result = app.test_cli_runner().invoke(args=["demo-ca", op.username])
        assert result.exit_code == 0, result.output
        key = serialization.load_pem_private_key((tmp_path / "demo-keys" / f"{op.username}.key").read_bytes(), None)
        assert "/logout" in ca_login(client, op.username, key)
    finally:
        app.config["REGISTRY_CA_TRUST_FILE"], app.instance_path = before


def test_a_signed_nonce_is_refused_the_second_time_even_with_the_old_cookie(client, db, pki, trusted):
    """The nonce lives on the server and is used up by the first sign-in: replaying the same signature
    with a copy of the session cookie taken before (which held the nonce) does not sign in again."""
    op = new_account(db, institution=institution(db, "bank_a"))
    key, cert = issue(*pki, "重放")
    bind(client, "bank_a_admin", op, cert)
    client.auth.logout()
    page = client.get("/login/?method=ca").get_data(as_text=True)
    nonce = re.search(r'data-nonce="([^"]+)"', page).group(1)
    cookie = client.get_cookie("session").value  # holds whatever the server put in the session
    form = {"username": op.username, "password": PASSWORD,
            "signature": base64.b64encode(sign(key, nonce.encode())).decode()}
    first = client.post("/login/ca/", data=form, follow_redirects=True).get_data(as_text=True)
    assert signed_in(first)
    client.auth.logout()
    client.set_cookie("session", cookie)
    again = client.post("/login/ca/", data=form, follow_redirects=True).get_data(as_text=True)
    assert not signed_in(again) and "已过期" in again


def test_an_expired_nonce_is_refused_and_cleared_when_new_ones_are_issued(app, db):
    import datetime as dt

    from flask import session
    from sqlalchemy import func, select

    from app.auth import LoginRefused, ca
    from models import CaLoginNonce
    with app.test_request_context("/login/"):
        old = ca.new_nonce()
        row = db.session.scalar(select(CaLoginNonce).where(CaLoginNonce.nonce == old))
        row.issued_at -= dt.timedelta(seconds=ca.NONCE_SECONDS + 1)
        db.session.commit()
        with pytest.raises(LoginRefused):
            ca.take_nonce()
        session["ca_nonce"] = old  # offered again: still too old
        with pytest.raises(LoginRefused):
            ca.take_nonce()
        stale = CaLoginNonce(nonce="stale", issued_at=row.issued_at)
        db.session.add(stale)
        db.session.commit()
        fresh = ca.new_nonce()
        assert db.session.scalar(select(func.count()).select_from(CaLoginNonce).where(CaLoginNonce.nonce == "stale")) == 0
        assert ca.take_nonce() == fresh
