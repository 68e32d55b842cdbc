"""在线用户: sessions are tracked server-side; the Admin sees who is online and forces a logout, after
which that session's next request lands on the login page; signing out ends the row; last-seen is
written at most once a minute."""
import datetime as dt

import pytest
from sqlalchemy import event, select

from models import AuditLog, UserSession
from models.base import utcnow
from tests.accounts_helpers import PASSWORD, forget_request_globals, new_account
from tests.factories import institution

AGENT = "Mozilla/5.0 (在线用户测试)"


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def browser(app, username, password=PASSWORD, ip="192.0.2.31"):
    c = app.test_client()
    c.environ_base.update({"REMOTE_ADDR": ip, "HTTP_USER_AGENT": AGENT})
    page = c.post("/login/", data={"username": username, "password": password}, follow_redirects=True)
    assert 'id="logout-form"' in page.get_data(as_text=True), f"{username} could not sign in"
    return c


def admin(app):
    from app.demo import DEMO_PASSWORD
    return browser(app, "admin", DEMO_PASSWORD, ip="192.0.2.1")


def open_rows(db, user):
    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.id)).all()


def test_signing_in_opens_a_session_row_and_signing_out_ends_it(app, client, db):
    user = new_account(db, institution=institution(db, "bank_a"))
    c = browser(app, user.username)
    (row,) = open_rows(db, user)
    assert (row.ip, row.user_agent, row.institution_id, row.ended_at) == \
        ("192.0.2.31", AGENT, user.institution_id, None)
    assert len(row.token_hash) == 64  # the table holds a hash, never the cookie's token
    with c.session_transaction() as sess:
        from app.sessions import TOKEN_KEY, token_hash
        assert token_hash(sess[TOKEN_KEY]) == row.token_hash
    c.post("/logout/")
    (row,) = open_rows(db, user)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_the_admin_sees_who_is_online_and_forces_a_logout(app, client, db):
    bank = institution(db, "bank_a")
    user = new_account(db, institution=bank, first_name="林在线")
    victim = browser(app, user.username, ip="192.0.2.44")
    other = browser(app, user.username, ip="192.0.2.45")  # the same person in another browser stays
    boss = admin(app)
    listed = boss.get("/onlineuserview/list/").get_data(as_text=True)
    assert user.username in listed and "林在线" in listed and bank.name in listed and "192.0.2.44" in listed
    row = next(r for r in open_rows(db, user) if r.ip == "192.0.2.44")
    shown = boss.get(f"/onlineuserview/show/{row.id}").get_data(as_text=True)
    assert 'id="force-logout"' in shown
    boss.post(f"/onlineuserview/force/{row.id}")
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).end_reason == "forced"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "force_logout",
                                                    AuditLog.object_id == str(user.id))) is not None
    answer = victim.get("/caseview/list/")
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"]
    page = victim.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="login-page"' in page and "您已被管理员强制下线" in page
    assert 'id="logout-form"' not in victim.get("/").get_data(as_text=True)
    assert 'id="logout-form"' in other.get("/").get_data(as_text=True)
    listed = boss.get("/onlineuserview/list/").get_data(as_text=True)
    assert "192.0.2.44" not in listed and "192.0.2.45" in listed


def test_only_the_admin_reaches_online_users(app, client, db):
    client.auth.login("bank_a_admin")
    answer = client.post("/onlineuserview/force/1")
    assert answer.status_code in (302, 403)
    page = client.get("/onlineuserview/list/", follow_redirects=True).get_data(as_text=True)
    assert "onlineuserview/show" not in page


def test_last_seen_is_written_at_most_once_a_minute(app, client, db):
    from app.extensions import db as database
    user = new_account(db)
    c = browser(app, user.username)
    (row,) = open_rows(db, user)
    writes = []

    def count(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("UPDATE USER_SESSION"):
            writes.append(statement)

    def requests():
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            for _ in range(3):
                assert c.get("/settings/").status_code == 200
        finally:
            event.remove(database.engine, "before_cursor_execute", count)

    requests()
    assert writes == []  # seen just now: nothing written
    row.last_seen_at = utcnow() - dt.timedelta(minutes=2)
    db.session.commit()
    requests()
    assert len(writes) == 1  # the first request of the new minute, not the two after it
    (row,) = open_rows(db, user)
    assert utcnow() - row.last_seen_at < dt.timedelta(seconds=30)


def test_a_session_without_its_token_is_signed_out(app, client, db):
    from app.sessions import TOKEN_KEY
    user = new_account(db)
    c = browser(app, user.username)
    with c.session_transaction() as sess:
        sess.pop(TOKEN_KEY)
    assert 'id="logout-form"' not in c.get("/").get_data(as_text=True)


def test_the_admin_cannot_force_out_their_own_session(app, client, db):
    from models import Operator
    boss = admin(app)
    me = db.session.scalar(select(Operator).where(Operator.username == "admin"))
    own = open_rows(db, me)[-1]
    page = boss.post(f"/onlineuserview/force/{own.id}", follow_redirects=True).get_data(as_text=True)
    assert "不能在此强制下线自己的当前会话" in page and 'id="logout-form"' in page
    db.session.expire_all()
    assert db.session.get(UserSession, own.id).ended_at is None
