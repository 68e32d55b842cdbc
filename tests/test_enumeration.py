"""Nobody learns which accounts exist: unknown and known names get the same words in the same time on
the password and CA sign-in, the same answers from 忘记密码, and /settings/ says no more than needed."""
import html
import re
import statistics
import time

import pytest
from sqlalchemy import select

from tests.accounts_helpers import PASSWORD, forget_request_globals, last_code, new_account, reload
from tests.factories import institution

TRIES = 15


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def alerts(page):
    """The flashed messages and field errors of a page, as text."""
    found = re.findall(r'<div class="alert alert-(?:danger|warning|info|success)">(.*?)</div>', page, re.S)
    found += re.findall(r'class="(?:help-block|field-error)[^"]*">([^<]+)<', page)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>|×", " ", m)).split()) for m in found]


def normalised(messages):
    """Times and second counts differ by the clock, not by the account."""
    return [re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<time>", re.sub(r"\d+ 秒", "N 秒", m)) for m in messages]


def attempt(client, username, password="Wrong2026x", url="/login/"):
    client.post("/logout/")
    if url == "/login/ca/":
        client.get("/login/?method=ca")  # the page hands out the nonce a CA sign-in spends
        data = {"username": username, "password": password, "signature": "AAAA"}
    else:
        data = {"username": username, "password": password}
    return alerts(client.post(url, data=data, follow_redirects=True).get_data(as_text=True))


@pytest.mark.parametrize("url", ["/login/", "/login/ca/"])
def test_unknown_and_known_accounts_are_told_the_same_words_up_to_the_lock(client, db, url):
    user = new_account(db, institution=institution(db, "bank_a"))
    known = [attempt(client, user.username, url=url) for _ in range(6)]
    unknown = [attempt(client, f"ghost-{user.username}", url=url) for _ in range(6)]
    assert known[0] and "账号或密码错误" in known[0][0]
    assert any("锁定" in m for m in known[-1])
    assert normalised(sum(known, [])) == normalised(sum(unknown, []))


def test_with_the_progressive_delay_the_words_are_still_the_same(client, db, app):
    from app.extensions import limiter
    app.config["REGISTRY_RATELIMIT_ENABLED"] = True
    limiter.reset()
    try:
        user = new_account(db)
        known = [attempt(client, user.username) for _ in range(5)]
        unknown = [attempt(client, f"ghost-{user.username}") for _ in range(5)]
    finally:
        app.config["REGISTRY_RATELIMIT_ENABLED"] = False
        limiter.reset()
    assert any("秒后重试" in m for m in known[3]) and any("秒后重试" in m for m in known[4])
    assert normalised(sum(known, [])) == normalised(sum(unknown, []))


def _timed_ms(client, username, url):
    """One refused sign-in, timed from the request to the answer."""
    client.post("/logout/")
    data = {"username": username, "password": "Wrong2026x"}
    if url == "/login/ca/":
        client.get("/login/?method=ca")
        data["signature"] = "AAAA"
    start = time.perf_counter()
    response = client.post(url, data=data)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 302
    return elapsed


@pytest.mark.parametrize("url", ["/login/", "/login/ca/"])
def test_unknown_and_known_accounts_take_the_same_time(client, db, url):
    users = [new_account(db) for _ in range(TRIES)]
    client.post("/login/", data={"username": "warm-up", "password": "Wrong2026x"})  # the dummy hash, once
    known, unknown = [], []
    for user in users:  # interleaved, so load from elsewhere on the machine hits both alike
        known.append(_timed_ms(client, user.username, url))
        unknown.append(_timed_ms(client, f"ghost-{user.username}", url))
    k, u = statistics.median(known), statistics.median(unknown)
    assert abs(k - u) <= 0.2 * max(k, u), f"known {k:.1f} ms, unknown {u:.1f} ms"


def test_forgot_password_answers_alike_whether_or_not_account_and_mobile_match(client, db):
    user = new_account(db)
    sent = [alerts(client.post("/accounts/forgot/", data={"username": name, "phone": phone, "send_code": "1"},
                               follow_redirects=True).get_data(as_text=True))
            for name, phone in ((user.username, user.phone), (user.username, "13900000000"), ("nobody-x", user.phone))]
    assert sent[0] == sent[1] == sent[2] and sent[0]

    def reset(name, phone, code):
        page = client.post("/accounts/forgot/", data={"username": name, "phone": phone, "code": code,
                                                      "password": "NewPass2027", "confirm": "NewPass2027",
                                                      "submit": "1"}).get_data(as_text=True)
        return alerts(page)

    wrong = "000000" if last_code(db, user.phone) != "000000" else "111111"
    matching = reset(user.username, user.phone, wrong)
    mismatched = reset(user.username, "13900000000", wrong)
    unknown = reset("nobody-x", user.phone, wrong)
    assert matching == mismatched == unknown
    assert any("验证码错误或已失效" in m for m in matching)
    # The right code still resets.
    assert not reset(user.username, user.phone, last_code(db, user.phone))
    assert "/logout" in client.auth.login(user.username, "NewPass2027").get_data(as_text=True)


def test_settings_with_an_e_mail_that_is_taken_says_so_without_a_500(client, db):
    other = new_account(db, institution=institution(db, "bank_b"))
    other.email = f"{other.username}@example.com"  # the form refuses the .invalid addresses of new_account
    db.session.commit()
    me = new_account(db, institution=institution(db, "bank_a"))
    assert "/logout" in client.auth.login(me.username, PASSWORD).get_data(as_text=True)
    data = {"first_name": "测", "last_name": "试", "phone": me.phone, "save_info": "1"}
    for email in (other.email, other.email.upper()):
        response = client.post("/settings/", data={**data, "email": email})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "该电子邮箱不能使用，请填写其他邮箱" in page
        assert f'value="{email}"' in page  # what was typed stays in the form
    assert reload(db, me).email == me.email
    # A free address is saved as before.
    response = client.post("/settings/", data={**data, "email": f"new-{me.username}@example.com"})
    assert response.status_code == 302
    assert reload(db, me).email == f"new-{me.username}@example.com"


def test_registration_answers_alike_for_a_registered_mobile_and_tells_only_its_owner(client, db):
    from models import SmsMessage
    taken = new_account(db, role="Public", username="13955550122", phone="13955550122").phone  # as registration makes it
    free = "13955550123"
    pages = [client.post("/accounts/register/", data={"phone": phone, "send_code": "1"}, follow_redirects=True)
             .get_data(as_text=True) for phone in (taken, free)]
    assert all(f"验证码已发送至 {phone}" in page for page, phone in zip(pages, (taken, free))), pages[0][-2000:]
    assert not any("已注册" in page for page in pages)
    told = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == taken).order_by(SmsMessage.id.desc()))
    assert "该手机号已注册本平台账号" in told.body and not re.search(r"\d{6}", told.body)
    sent = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == free).order_by(SmsMessage.id.desc()))
    assert "已注册" not in sent.body


def test_after_the_lock_ends_unknown_and_known_accounts_start_counting_again_alike(client, db, app):
    """A lock that ended is lifted the same way for a name nobody has: the next failure is the first of
    a new count, not another lock (which would tell the name is not an account)."""
    minutes = app.config["REGISTRY_LOCKOUT_MINUTES"]
    app.config["REGISTRY_LOCKOUT_MINUTES"] = 0.03  # about two seconds
    try:
        user = new_account(db)
        names = (user.username, f"ghost-{user.username}")
        for name in names:
            locked = [attempt(client, name) for _ in range(5)][-1]
            assert any("锁定" in m for m in locked), locked
        time.sleep(3.2)
        after = [attempt(client, name) for name in names]
    finally:
        app.config["REGISTRY_LOCKOUT_MINUTES"] = minutes
    assert any("再失败 4 次" in m for m in after[0]), after[0]
    assert normalised(after[0]) == normalised(after[1])
