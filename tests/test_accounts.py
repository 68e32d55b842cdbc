"""Account + password sign-in: lockout, forgotten password by SMS, session nonce and timeout, audit."""
import pytest

from tests.accounts_helpers import forget_request_globals, PASSWORD, audit_actions, last_code, new_account, reload
from tests.conftest import signed_in
from tests.factories import institution


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def login(client, username, password):
    client.post("/logout/")
    return client.post("/login/", data={"username": username, "password": password}, follow_redirects=True)


def test_demo_account_signs_in_through_the_fab_login_path(client):
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "陈" in page and "/logout" in page


def test_wrong_password_is_refused_and_audited(client, db):
    user = new_account(db, institution=institution(db, "bank_a"))
    page = login(client, user.username, "wrong-password1").get_data(as_text=True)
    assert "4" in page and "/logout" not in page
    assert "login_failed" in audit_actions(db, user.username)
    assert reload(db, user).fail_login_count == 1


def test_five_wrong_passwords_lock_the_account_until_the_sms_reset_unlocks_it(client, db):
    user = new_account(db, institution=institution(db, "bank_a"))
    for _ in range(5):
        page = login(client, user.username, "bad-password9").get_data(as_text=True)
    assert reload(db, user).locked_until is not None
    assert "忘记密码" in page
    # Even the right password is refused while locked.
    page = login(client, user.username, PASSWORD).get_data(as_text=True)
    assert "/logout" not in page and "锁定" in page
    assert {"login_failed", "lockout", "login_refused_locked"} <= set(audit_actions(db, user.username))

    client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "send_code": "1"})
    code = last_code(db, user.phone)
    page = client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "code": code,
                                                  "password": "NewPass2027", "confirm": "NewPass2027",
                                                  "submit": "1"}, follow_redirects=True).get_data(as_text=True)
    fresh = reload(db, user)
    assert fresh.locked_until is None and fresh.fail_login_count == 0
    assert "password_reset" in audit_actions(db, user.username)
    assert "/logout" in login(client, user.username, "NewPass2027").get_data(as_text=True)


def test_forgot_password_refuses_a_wrong_code_and_counts_the_tries(client, db):
    user = new_account(db)
    client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "send_code": "1"})
    page = client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "code": "000000",
                                                  "password": "NewPass2027", "confirm": "NewPass2027",
                                                  "submit": "1"}).get_data(as_text=True)
    assert "4" in page and "错误" in page
    assert "/logout" in login(client, user.username, PASSWORD).get_data(as_text=True)


def test_forgot_password_does_not_reveal_whether_the_account_exists(client, db):
    user = new_account(db)
    a = client.post("/accounts/forgot/", data={"username": user.username, "phone": "13900000000",
                                               "send_code": "1"}, follow_redirects=True).get_data(as_text=True)
    b = client.post("/accounts/forgot/", data={"username": "nobody-here", "phone": "13900000000",
                                               "send_code": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "验证码" in a and a.count("alert") == b.count("alert")


def test_a_copied_session_cookie_stops_working_after_logout(app, db):
    user = new_account(db)
    first, thief = app.test_client(), app.test_client()
    login(first, user.username, PASSWORD)
    assert b"my-username" in first.get("/settings/").data
    thief.set_cookie("session", first.get_cookie("session").value)
    assert b"my-username" in thief.get("/settings/").data
    first.post("/logout/")
    assert b"my-username" not in thief.get("/settings/", follow_redirects=True).data


def test_session_is_permanent_so_it_times_out(client, db):
    user = new_account(db)
    assert signed_in(login(client, user.username, PASSWORD).get_data(as_text=True))
    with client.session_transaction() as sess:
        assert sess.permanent
    assert client.application.permanent_session_lifetime.total_seconds() == 30 * 60


def test_departed_operator_cannot_sign_in(client, db):
    user = new_account(db, institution=institution(db, "bank_a"), status="departed")
    page = login(client, user.username, PASSWORD).get_data(as_text=True)
    assert "/logout" not in page and "login_refused" in audit_actions(db, user.username)


@pytest.mark.parametrize("password,ok", [("short1", False), ("lettersonly", False), ("12345678", False),
                                         ("Letters123", True)])
def test_password_policy(app, password, ok):
    from app.auth import passwords
    with app.test_request_context():
        assert (passwords.problems(password) == []) is ok


def test_a_second_code_within_a_minute_is_not_sent(client, db):
    from sqlalchemy import func, select

    from models import SmsMessage
    user = new_account(db)
    for _ in range(3):
        client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "send_code": "1"})
    assert db.session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.phone == user.phone)) == 1


def test_admin_password_reset_applies_the_policy_and_ends_the_users_sessions(client, app, db):
    user = new_account(db)
    other = app.test_client()
    login(other, user.username, PASSWORD)
    assert b"my-username" in other.get("/settings/").data
    client.auth.login("admin")
    client.post(f"/resetpassword/form?pk={user.id}", data={"password": "short", "conf_password": "short"})
    assert "/logout" in login(app.test_client(), user.username, PASSWORD).get_data(as_text=True)
    client.auth.login("admin")
    client.post(f"/resetpassword/form?pk={user.id}", data={"password": "Reset2029ok", "conf_password": "Reset2029ok"})
    assert b"my-username" not in other.get("/settings/", follow_redirects=True).data
    assert "password_reset_by_admin" in audit_actions(db, "admin")


def test_fab_own_password_form_leads_to_personal_settings(client, db):
    user = new_account(db)
    assert signed_in(login(client, user.username, PASSWORD).get_data(as_text=True))
    resp = client.post("/resetmypassword/form", data={"password": "NoOldPass1", "conf_password": "NoOldPass1"})
    assert resp.status_code == 302 and "/settings/" in resp.location
    client.post("/logout/")
    assert "/logout" in login(client, user.username, PASSWORD).get_data(as_text=True)
