"""The sign-in lock cannot be used to shut the owner out (known places, progressive delay, per-account
limit), and administrators can lift it from a button: the Admin for anyone, an institution
administrator for their own operators; every unlock is audited."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from models import AuditLog
from models.base import utcnow
from tests.accounts_helpers import PASSWORD, audit_actions, forget_request_globals, new_account, reload
from tests.factories import institution

OFFICE, ATTACKER, ELSEWHERE = "192.0.2.10", "198.51.100.66", "203.0.113.5"


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


@pytest.fixture
def limits_on(app):
    from app.extensions import limiter
    app.config["REGISTRY_RATELIMIT_ENABLED"] = True
    limiter.reset()
    yield app.config
    app.config["REGISTRY_RATELIMIT_ENABLED"] = False
    limiter.reset()


def person(app):
    """A browser of its own (its own session)."""
    app.test_client()  # the `client` fixture has set the isolated client class
    return app.test_client()


def sign_in(app, username, password=PASSWORD, ip="127.0.0.1"):
    page = person(app).post("/login/", data={"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": ip}, follow_redirects=True).get_data(as_text=True)
    return page


def signed_in(page):
    return "/logout" in page


def lock(app, db, user, ip=ATTACKER):
    for _ in range(app.config["REGISTRY_LOCKOUT_FAILURES"]):
        assert not signed_in(sign_in(app, user.username, "Wrong2026x", ip=ip))
    fresh = reload(db, user)
    assert fresh.locked_until is not None and fresh.locked_until > utcnow()


def admin_client(app, username):
    c = person(app)
    page = c.post("/login/", data={"username": username, "password": _demo_password()},
                  follow_redirects=True).get_data(as_text=True)
    assert signed_in(page), f"{username} could not sign in"
    return c


def _demo_password():
    from app.demo import DEMO_PASSWORD
    return DEMO_PASSWORD


# --- who the lock binds ----------------------------------------------------------------------------
def test_an_outsiders_failures_do_not_keep_the_owner_out_of_a_known_place(app, client, db):
    user = new_account(db, institution=institution(db, "bank_a"))
    assert signed_in(sign_in(app, user.username, ip=OFFICE))  # the office becomes a known place
    lock(app, db, user, ip=ATTACKER)
    # The right password from somewhere the account never signed in from: refused like the attacker.
    page = sign_in(app, user.username, ip=ELSEWHERE)
    assert not signed_in(page) and "锁定" in page
    assert not signed_in(sign_in(app, user.username, ip=ATTACKER))
    # From the office, the owner signs in, and the lock is lifted.
    assert signed_in(sign_in(app, user.username, ip=OFFICE))
    fresh = reload(db, user)
    assert fresh.locked_until is None and fresh.fail_login_count == 0
    assert "login_despite_lock" in audit_actions(db, user.username)


def test_a_wrong_password_from_the_known_place_is_still_refused_during_the_lock(app, client, db):
    user = new_account(db)
    assert signed_in(sign_in(app, user.username, ip=OFFICE))
    lock(app, db, user)
    page = sign_in(app, user.username, "Wrong2026x", ip=OFFICE)
    assert not signed_in(page) and "锁定" in page


def test_the_per_account_limit_spares_the_known_place(app, client, db, limits_on):
    limits_on["REGISTRY_LOGIN_DELAY_SECONDS"] = 0
    user = new_account(db)
    assert signed_in(sign_in(app, user.username, ip=OFFICE))
    limit = int(limits_on["REGISTRY_RATELIMIT_LOGIN_ACCOUNT"].split()[0])
    for i in range(limit):  # a botnet: each address tries once
        sign_in(app, user.username, "Wrong2026x", ip=f"198.51.100.{i + 1}")
    response = person(app).post("/login/", data={"username": user.username, "password": PASSWORD},
                                environ_base={"REMOTE_ADDR": ELSEWHERE})
    assert response.status_code == 429
    assert signed_in(sign_in(app, user.username, ip=OFFICE))
    limits_on["REGISTRY_LOGIN_DELAY_SECONDS"] = 5


# --- progressive delay -----------------------------------------------------------------------------
def _rewind(db, user):
    """The delay has passed (without sleeping in the test)."""
    fresh = reload(db, user)
    fresh.locked_until = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()


def test_failures_beyond_three_make_the_account_wait_longer_each_time(app, client, db, limits_on):
    limits_on["REGISTRY_LOCKOUT_FAILURES"] = 7
    try:
        user = new_account(db)
        for _ in range(3):
            page = sign_in(app, user.username, "Wrong2026x")
            assert "秒后重试" not in page
        assert reload(db, user).locked_until is None
        waits = []
        for n in (4, 5, 6):
            page = sign_in(app, user.username, "Wrong2026x")
            fresh = reload(db, user)
            assert fresh.fail_login_count == n
            seconds = (fresh.locked_until - utcnow()).total_seconds()
            waits.append(seconds)
            shown = int(re.search(r"请在 (\d+) 秒后重试", page).group(1))
            assert abs(shown - seconds) <= 2
            # While it waits, even the right password is refused, and the refusal does not count.
            page = sign_in(app, user.username, PASSWORD)
            assert not signed_in(page) and "秒后重试" in page
            assert reload(db, user).fail_login_count == n
            _rewind(db, user)
        assert 4 <= waits[0] <= 7 and 9 <= waits[1] <= 12 and 19 <= waits[2] <= 22  # 5, 10, 20 s
        # After the wait, the right password signs in and the count starts again.
        assert signed_in(sign_in(app, user.username, PASSWORD))
        assert reload(db, user).fail_login_count == 0
    finally:
        limits_on["REGISTRY_LOCKOUT_FAILURES"] = 5


# --- unlock buttons --------------------------------------------------------------------------------
def test_admin_unlocks_an_account_from_its_page_and_it_is_audited(app, client, db):
    user = new_account(db, institution=institution(db, "bank_a"))
    lock(app, db, user)
    admin = admin_client(app, "admin")
    page = admin.get(f"/users/show/{user.id}").get_data(as_text=True)
    assert f"/users/action/unlock/{user.id}" in page and "解锁" in page
    assert "登录锁定至" in page and "连续登录失败次数" in page
    response = admin.post(f"/users/action/unlock/{user.id}", follow_redirects=True)
    assert response.status_code == 200 and f"已解锁：{user.username}" in response.get_data(as_text=True)
    fresh = reload(db, user)
    assert fresh.locked_until is None and fresh.fail_login_count == 0
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "unlock_account",
                                                     AuditLog.object_id == str(user.id)))
    assert entry.username == "admin" and entry.summary == user.username
    assert signed_in(sign_in(app, user.username, ip=ELSEWHERE))


def test_admin_unlocks_several_accounts_from_the_list(app, client, db):
    users = [new_account(db) for _ in range(2)]
    for user in users:
        lock(app, db, user)
    admin = admin_client(app, "admin")
    response = admin.post("/users/action_post", data={"action": "unlock", "rowid": [str(u.id) for u in users]})
    assert response.status_code == 302
    for user in users:
        assert reload(db, user).locked_until is None
        assert "unlock_account" in [a.action for a in db.session.scalars(
            select(AuditLog).where(AuditLog.object_id == str(user.id)))]


def test_institution_admin_unlocks_own_operators_only(app, client, db):
    own = new_account(db, institution=institution(db, "bank_a"))
    foreign = new_account(db, institution=institution(db, "bank_b"))
    lock(app, db, own)
    lock(app, db, foreign)
    bank_admin = admin_client(app, "bank_a_admin")
    page = bank_admin.get(f"/operatorview/show/{own.id}").get_data(as_text=True)
    assert f"/operatorview/action/unlock/{own.id}" in page
    bank_admin.post(f"/operatorview/action/unlock/{own.id}")
    assert reload(db, own).locked_until is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "unlock_account",
                                                     AuditLog.object_id == str(own.id)))
    assert entry.username == "bank_a_admin"
    bank_admin.post(f"/operatorview/action/unlock/{foreign.id}")
    assert reload(db, foreign).locked_until is not None


def test_an_operator_cannot_unlock(app, client, db):
    colleague = new_account(db, institution=institution(db, "bank_a"))
    lock(app, db, colleague)
    operator = admin_client(app, "bank_a_op")
    assert operator.post(f"/operatorview/action/unlock/{colleague.id}").status_code == 403
    response = operator.post("/users/action_post", data={"action": "unlock", "rowid": [str(colleague.id)]})
    assert response.status_code == 403
    assert reload(db, colleague).locked_until is not None
