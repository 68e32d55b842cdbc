"""登录日志: every sign-in attempt is recorded once with account, IP, user agent, result and reason;
the Admin lists it (filtered, in words) and unlocks a locked account from it, audited."""
import pytest
from sqlalchemy import select

from models import LoginLog
from tests.accounts_helpers import PASSWORD, forget_request_globals, new_account, reload
from tests.factories import institution

AGENT = "Mozilla/5.0 (登录日志测试)"
IP = "192.0.2.77"


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def attempt(app, username, password=PASSWORD, url="/login/", ip=IP, **extra):
    c = app.test_client()
    return c.post(url, data={"username": username, "password": password, **extra},
                  environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": AGENT}, follow_redirects=True)


def entries(db, username):
    db.session.expire_all()
    return db.session.scalars(select(LoginLog).where(LoginLog.username == username).order_by(LoginLog.id)).all()


def only_reason(db, username):
    rows = entries(db, username)
    assert len(rows) == 1, [(r.reason, r.detail) for r in rows]
    return rows[0]


def test_a_success_is_recorded_with_ip_and_user_agent(app, client, db):
    user = new_account(db)
    page = attempt(app, user.username).get_data(as_text=True)
    assert 'id="logout-form"' in page
    row = only_reason(db, user.username)
    assert (row.result, row.reason, row.method, row.ip, row.user_agent, row.user_id) == \
        ("success", "ok", "password", IP, AGENT, user.id)


def test_a_wrong_password_and_an_unknown_account_are_told_apart_in_the_log_only(app, client, db):
    user = new_account(db)
    told_wrong = attempt(app, user.username, "Wrong2026x").get_data(as_text=True)
    told_unknown = attempt(app, "nobody-here-7731", "Wrong2026x").get_data(as_text=True)
    wrong, unknown = only_reason(db, user.username), only_reason(db, "nobody-here-7731")
    assert (wrong.result, wrong.reason, wrong.user_id) == ("failure", "wrong_password", user.id)
    assert (unknown.result, unknown.reason, unknown.user_id) == ("failure", "no_account", None)
    assert wrong.detail and wrong.detail in told_wrong  # the words the person saw
    assert "账号不存在" not in told_unknown  # the page still does not tell which accounts exist


def test_the_lock_is_recorded_then_each_refusal_while_locked(app, client, db):
    user = new_account(db)
    for _ in range(app.config["REGISTRY_LOCKOUT_FAILURES"]):
        attempt(app, user.username, "Wrong2026x")
    attempt(app, user.username)  # the right password, from a place it never signed in from
    reasons = [r.reason for r in entries(db, user.username)]
    n = app.config["REGISTRY_LOCKOUT_FAILURES"]
    assert reasons == ["wrong_password"] * (n - 1) + ["wrong_password_locked", "locked"]


@pytest.mark.parametrize("values,reason", [({"active": False}, "inactive"), ({"status": "departed"}, "departed")])
def test_accounts_that_may_not_sign_in_are_recorded_with_the_reason(app, client, db, values, reason):
    user = new_account(db, institution=institution(db, "bank_a"), **values)
    attempt(app, user.username)
    row = only_reason(db, user.username)
    assert (row.result, row.reason) == ("failure", reason)


def test_an_unapproved_institution_and_a_ca_only_institution_are_recorded(app, client, db):
    from models import Institution
    pending = db.session.scalar(select(Institution).where(Institution.status != "approved").limit(1))
    if pending is None:
        pending = Institution(name="待审机构日志测试", kind="bank", uscc="91430100MA4L0G0G0X", legal_person="甲",
                              status="pending")
        db.session.add(pending)
        db.session.commit()
    user = new_account(db, institution=pending)
    attempt(app, user.username)
    assert only_reason(db, user.username).reason == "institution"
    bank = institution(db, "bank_a")
    ca_user = new_account(db, institution=bank)
    bank.ca_required = True
    db.session.commit()
    try:
        attempt(app, ca_user.username)
    finally:
        bank.ca_required = False
        db.session.commit()
    assert only_reason(db, ca_user.username).reason == "ca_required"


def test_empty_form_ca_ldap_and_the_json_login_are_recorded(app, client, db):
    user = new_account(db)
    attempt(app, user.username, "")
    assert only_reason(db, user.username).reason == "incomplete"
    other = new_account(db)
    attempt(app, other.username, url="/login/ca/", signature="")
    row = only_reason(db, other.username)
    assert (row.method, row.result) == ("ca", "failure") and row.reason in ("certificate", "incomplete")
    third = new_account(db)
    attempt(app, third.username, url="/login/ldap/")
    row = only_reason(db, third.username)
    assert (row.method, row.reason) == ("ldap", "ldap")
    fourth = new_account(db)
    answer = app.test_client().post("/api/v1/security/login", json={"username": fourth.username, "password": "x"},
                                    environ_base={"REMOTE_ADDR": IP})
    assert answer.status_code == 404
    row = only_reason(db, fourth.username)
    assert (row.method, row.reason, row.result) == ("api", "not_offered", "failure")


def admin(app):
    from app.demo import DEMO_PASSWORD
    c = app.test_client()
    page = c.post("/login/", data={"username": "admin", "password": DEMO_PASSWORD}, follow_redirects=True)
    assert 'id="logout-form"' in page.get_data(as_text=True), "admin could not sign in"
    return c


def test_the_admin_lists_attempts_in_words_and_filters_them(app, client, db):
    user = new_account(db)
    attempt(app, user.username, "Wrong2026x", ip="198.51.100.21")
    attempt(app, user.username, ip="198.51.100.22")
    c = admin(app)
    page = c.get(f"/loginlogview/list/?_flt_3_username={user.username}").get_data(as_text=True)
    assert "密码错误" in page and "成功" in page and "198.51.100.21" in page and "198.51.100.22" in page
    assert ">wrong_password<" not in page and ">failure<" not in page  # codes only as option values
    failures = c.get(f"/loginlogview/list/?_flt_3_username={user.username}&_flt_3_result=failure").get_data(as_text=True)
    assert "198.51.100.21" in failures and "198.51.100.22" not in failures
    by_ip = c.get("/loginlogview/list/?_flt_3_ip=198.51.100.22").get_data(as_text=True)
    assert user.username in by_ip and "198.51.100.21" not in by_ip
    future = c.get(f"/loginlogview/list/?_flt_3_username={user.username}&_flt_1_at=2999-01-01+00:00:00")
    assert future.status_code == 200 and "198.51.100.21" not in future.get_data(as_text=True)


def test_an_institution_administrator_cannot_read_the_login_log(app, client, db):
    client.auth.login("bank_a_admin")
    page = client.get("/loginlogview/list/", follow_redirects=True)
    assert "loginlogview/show" not in page.get_data(as_text=True)


def test_the_admin_unlocks_a_locked_account_from_the_log_audited(app, client, db):
    user = new_account(db)
    for _ in range(app.config["REGISTRY_LOCKOUT_FAILURES"]):
        attempt(app, user.username, "Wrong2026x")
    assert reload(db, user).locked_until is not None
    row = entries(db, user.username)[-1]
    c = admin(app)
    shown = c.get(f"/loginlogview/show/{row.id}").get_data(as_text=True)
    assert 'id="unlock-account"' in shown
    page = c.post(f"/loginlogview/unlock/{row.id}", follow_redirects=True).get_data(as_text=True)
    assert user.username in page
    fresh = reload(db, user)
    assert fresh.locked_until is None and fresh.fail_login_count == 0
    assert _unlock_audited(db, user)  # by the admin, naming the account
    assert 'id="unlock-account"' not in c.get(f"/loginlogview/show/{row.id}").get_data(as_text=True)
    assert 'id="logout-form"' in attempt(app, user.username).get_data(as_text=True)


def _unlock_audited(db, user):
    from models import AuditLog
    return db.session.scalar(select(AuditLog).where(AuditLog.action == "unlock_account",
                                                    AuditLog.object_id == str(user.id))) is not None
