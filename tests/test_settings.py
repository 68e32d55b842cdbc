"""参数设置: settings saved in the console take effect at the next request, without a restart, and fall
back to the environment defaults (config.py) when unset or reset."""
import datetime as dt
import json
import re

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import delete, select

from app import captcha, settings
from app.auth import passwords
from app.services import numbering, verification
from models import AuditLog, Operator, Setting
from tests.accounts_helpers import PASSWORD, new_account
from tests.test_dictionary import fresh

WRONG = "Wrong-password-0"


@pytest.fixture(autouse=True)
def defaults_again(app, db):
    """Every test starts and ends on the environment's defaults."""
    yield
    db.session.execute(delete(Setting))
    db.session.commit()


def post_settings(app, client, **changes):
    """The 参数设置 form as the page posts it: today's values, with changes."""
    data = {}
    for d in settings.DEFINITIONS:
        value = changes.get(d.name, fresh(app, settings.get, d.name))
        if d.kind == "bool":
            if value:
                data[d.name] = "y"
        elif d.kind == "networks":
            data[d.name] = value if isinstance(value, str) else "\n".join(value)
        else:
            data[d.name] = str(value)
    return client.post("/parameters/", data=data, follow_redirects=True)


def admin_saves(app, client, **changes):
    client.auth.login("admin")
    page = post_settings(app, client, **changes)
    assert page.status_code == 200 and "已保存" in page.get_data(as_text=True)
    client.auth.logout()


def test_a_saved_setting_overrides_the_default_until_reset(app, db, client):
    default = app.config["REGISTRY_LOCKOUT_FAILURES"]
    assert fresh(app, settings.get, "lockout_failures") == default
    admin_saves(app, client, lockout_failures=default + 2)
    assert fresh(app, settings.get, "lockout_failures") == default + 2
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "setting_changed"))
    assert entry.username == "admin" and entry.summary == "lockout_failures"
    assert entry.before == {"lockout_failures": default} and entry.after == {"lockout_failures": default + 2}
    client.auth.login("admin")
    page = client.get("/parameters/").get_data(as_text=True)
    assert "参数设置" in page and f'value="{default + 2}"' in page and "恢复默认" in page
    client.post("/parameters/lockout_failures/reset")
    assert fresh(app, settings.get, "lockout_failures") == default
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "setting_reset")).summary == "lockout_failures"


def test_bad_values_are_refused_in_words_and_kept_on_the_page(app, db, client):
    client.auth.login("admin")
    page = post_settings(app, client, lockout_failures="五", staff_ip_deny="10.0.0.300/8").get_data(as_text=True)
    assert "连续登录失败几次锁定账号：请输入整数" in page
    assert "10.0.0.300/8 不是有效的 IP 地址或网段" in page and "10.0.0.300/8</textarea>" in page
    page = post_settings(app, client, session_minutes="1").get_data(as_text=True)
    assert "会话超时（分钟）：须在 5 至 1440 之间" in page
    assert db.session.scalar(select(Setting)) is None


def test_only_the_admin_sets_parameters(client):
    client.auth.login("configurator")
    assert client.get("/parameters/").status_code == 403
    assert client.post("/parameters/", data={"lockout_failures": "3"}).status_code == 403


def test_a_lower_lockout_threshold_locks_at_once(app, db, client):
    user = new_account(db)
    admin_saves(app, client, lockout_failures=3)
    for _ in range(3):
        page = client.auth.attempt_login(user.username, WRONG).get_data(as_text=True)
    assert "该账号因连续 3 次登录失败已被锁定" in page
    db.session.expire_all()
    row = db.session.get(Operator, user.id)
    assert row.fail_login_count == 3 and row.locked_until > dt.datetime.utcnow()


def test_the_image_code_is_asked_after_n_failures(app, db, client, monkeypatch):
    drawn = []
    real = captcha.new_code
    monkeypatch.setattr(captcha, "new_code", lambda purpose: drawn.append(real(purpose)) or drawn[-1])
    user = new_account(db)
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"  # an address of its own: no failures from other tests
    assert 'id="login-captcha-image"' not in client.get("/login/").get_data(as_text=True)  # off by default here
    admin_saves(app, client, login_captcha_after=2)
    assert 'id="login-captcha-image"' not in client.get("/login/").get_data(as_text=True)
    for _ in range(2):
        client.auth.attempt_login(user.username, WRONG)
    assert 'id="login-captcha-image"' in client.get("/login/").get_data(as_text=True)

    refused = client.post("/login/", data={"username": user.username, "password": PASSWORD}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "登录失败次数较多，请输入图形验证码" in text and 'id="logout-form"' not in text
    db.session.expire_all()
    assert db.session.get(Operator, user.id).fail_login_count == 2  # a missing code is no guess at the password

    assert client.get("/captcha/login.png").status_code == 200
    signed = client.post("/login/", data={"username": user.username, "password": PASSWORD, "captcha": drawn[-1]},
                         follow_redirects=True)
    assert 'id="logout-form"' in signed.get_data(as_text=True)

    # Another browser from the same address is asked too (the address's failures count).
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert 'id="login-captcha-image"' in other.get("/login/").get_data(as_text=True)
    # Back to the default (0 here): never asked.
    db.session.execute(delete(Setting))
    db.session.commit()
    assert 'id="login-captcha-image"' not in other.get("/login/").get_data(as_text=True)


def save_directly(db, **values):
    """A setting saved by another instance (or another administrator from another address)."""
    db.session.execute(delete(Setting))
    for name, value in values.items():
        db.session.add(Setting(name=name, value=json.dumps(value)))
    db.session.commit()


def test_the_admin_cannot_deny_their_own_address(app, db, client):
    client.auth.login("admin")
    page = post_settings(app, client, staff_ip_deny="127.0.0.0/8").get_data(as_text=True)
    assert "未保存：按此地址名单，您当前的地址（127.0.0.1）将被拒绝" in page and "127.0.0.0/8</textarea>" in page
    page = post_settings(app, client, staff_ip_allow="10.0.0.0/8").get_data(as_text=True)
    assert "未保存" in page
    assert db.session.scalar(select(Setting)) is None


def test_a_denied_address_refuses_registry_staff_but_not_institutions(app, db, client):
    client.auth.login("admin")
    save_directly(db, staff_ip_deny=["127.0.0.0/8"])
    refused = client.get("/parameters/")  # the admin's next request, from an address now denied
    assert refused.status_code == 403
    assert "登记机构人员不允许从此地址（127.0.0.1）登录或访问" in refused.get_data(as_text=True)
    assert client.get("/parameters/").status_code == 302  # signed out: to the login page
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "request_refused_address")).username == "admin"

    page = client.auth.attempt_login("reviewer").get_data(as_text=True)
    assert "登记机构人员不允许从此地址（127.0.0.1）登录或访问" in page and 'id="logout-form"' not in page
    client.auth.login("bank_a_op")  # institution users are not registry staff

    save_directly(db, staff_ip_allow=["10.0.0.0/8"])
    page = client.auth.attempt_login("configurator").get_data(as_text=True)
    assert "登记机构人员只能从机构内网登录或访问，此地址（127.0.0.1）不在允许范围内" in page
    save_directly(db, staff_ip_allow=["10.0.0.0/8", "127.0.0.1/32"])
    client.auth.login("configurator")


def test_password_policy_from_the_console(app, client):
    assert fresh(app, passwords.problems, "abcd1234") == []  # the defaults: 8 characters, letters and digits
    admin_saves(app, client, password_min_length=12, password_min_classes=3)
    assert "密码长度不能少于 12 位" in fresh(app, passwords.problems, "abcd1234")
    assert any("3 类" in p for p in fresh(app, passwords.problems, "abcdefgh12345"))
    assert fresh(app, passwords.problems, "Abcdefgh12345") == []


def test_session_timeout_from_the_console(app, client, monkeypatch):
    admin_saves(app, client, session_minutes=10)
    client.auth.login("reviewer")
    later = TimestampSigner.get_timestamp
    # Within a minute of its signature the cookie is not signed again (a request costs no signing) ...
    assert not [v for v in client.get("/").headers.get_all("Set-Cookie") if v.startswith("session=")]
    # ... a minute on, any page signs it again, its expiry the console's timeout from now.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + 2 * 60)
    response = client.get("/")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    expires = dt.datetime.strptime(re.search(r"Expires=([^;]+)", cookie).group(1), "%a, %d %b %Y %H:%M:%S GMT")
    assert abs((expires - dt.datetime.utcnow()).total_seconds() - 600) < 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + 8 * 60)
    assert 'id="logout-form"' in client.get("/").get_data(as_text=True)  # 8 minutes idle < 10
    admin_now = Setting(name="session_minutes", value="5")
    with app.app_context():
        from app.extensions import db
        db.session.execute(delete(Setting).where(Setting.name == "session_minutes"))
        db.session.add(admin_now)
        db.session.commit()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + 16 * 60)
    assert 'id="logout-form"' not in client.get("/").get_data(as_text=True)  # 8 minutes idle > 5: ended


def test_sms_caps_registry_name_and_numbers(app, client):
    admin_saves(app, client, sms_per_hour=1, sms_resend_seconds=0, registry_name="北海市不动产登记网上办事平台",
                province="桂", city="北海市")

    def two_codes():
        verification.send_code("13800001111", "settings_test")
        try:
            verification.check_send_allowed("13800001111", "settings_test")
        except verification.CodeError as exc:
            return str(exc)
        return None
    assert fresh(app, two_codes) == "同一号码每小时最多发送1条验证码，请稍后再试"  # the default allows 5
    client.auth.login("reviewer")
    assert "北海市不动产登记网上办事平台" in client.get("/").get_data(as_text=True)
    assert fresh(app, numbering.certificate_number, 2026).startswith("桂(2026)北海市不动产权第")
