"""Verification codes are never readable (app/services/verification.py): hashed in the database, masked in
the SMS outbox (whose page exists only in sandbox mode and shows a code to the Admin alone), capped per
hour and per day; registry staff cannot reset by SMS; a reset is told to the account's e-mail."""
import datetime as dt
import email
import email.policy
import socketserver
import threading

import pytest
from sqlalchemy import select, text

from app.services import mail, verification
from models import EmailMessage, OneTimeCode, Operator, SmsMessage
from tests.accounts_helpers import PASSWORD, forget_request_globals, last_code, new_account, reload


@pytest.fixture(autouse=True)
def _own_requests(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def signed_in(client, username, password=None):
    page = client.auth.login(username, password).get_data(as_text=True)
    assert "/logout" in page, f"{username} could not sign in"
    return page


def ask_reset_code(client, user, phone=None):
    return client.post("/accounts/forgot/", data={"username": user.username, "phone": phone or user.phone,
                                                  "send_code": "1"}, follow_redirects=True).get_data(as_text=True)


def reset(client, user, code, password="NewPass2027"):
    return client.post("/accounts/forgot/", data={"username": user.username, "phone": user.phone, "code": code,
                                                  "password": password, "confirm": password, "submit": "1"},
                       follow_redirects=True).get_data(as_text=True)


def earlier(db, minutes):
    """Move every code and message sent so far `minutes` into the past (time passing, without sleeping)."""
    delta = dt.timedelta(minutes=minutes)
    db.session.expire_all()
    for otp in db.session.scalars(select(OneTimeCode)):
        otp.created_at -= delta
    for msg in db.session.scalars(select(SmsMessage)):
        msg.sent_at -= delta
    db.session.commit()


def sms_count(db, phone):
    db.session.expire_all()
    return len(db.session.scalars(select(SmsMessage.id).where(SmsMessage.phone == phone)).all())


def test_a_reviewer_reading_the_outbox_cannot_take_over_an_account(client, app, db):
    """The attack: ask a reset code for someone's account, read it in the outbox as a reviewer, reset."""
    victim = new_account(db)
    ask_reset_code(client, victim)
    code = last_code(db, victim.phone)
    assert code and len(code) == 6

    signed_in(client, "reviewer")
    listing = client.get("/smsoutboxview/list/")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert code not in page
    assert victim.phone in page and verification.MASK in page and "找回密码" in page
    msg_id = db.session.scalar(select(SmsMessage.id).where(SmsMessage.phone == victim.phone))
    shown = client.get(f"/smsoutboxview/show/{msg_id}")
    assert shown.status_code == 200 and code not in shown.get_data(as_text=True)

    signed_in(client, "admin")  # the sandbox's Admin reads the code (the demo needs it)
    assert code in client.get("/smsoutboxview/list/").get_data(as_text=True)

    app.config["SANDBOX"] = False
    try:
        assert client.get("/smsoutboxview/list/").status_code == 404
        signed_in(client, "reviewer")
        assert client.get("/smsoutboxview/list/").status_code == 404
        assert client.get(f"/smsoutboxview/show/{msg_id}").status_code == 404
    finally:
        app.config["SANDBOX"] = True
    # And without the code the reviewer's guess resets nothing.
    client.auth.logout()
    reset(client, victim, "000000" if code != "000000" else "111111")
    assert "/logout" in client.auth.login(victim.username, PASSWORD).get_data(as_text=True)


def test_the_database_holds_no_readable_code(client, db):
    user = new_account(db)
    ask_reset_code(client, user)
    phone = "15977770001"
    client.post("/accounts/register/", data={"phone": phone, "send_code": "1"})
    codes = [last_code(db, user.phone), last_code(db, phone)]
    assert all(c and len(c) == 6 for c in codes)
    rows = []
    for table in ("sms_message", "one_time_code"):
        rows += [" ".join(str(v) for v in row) for row in db.session.execute(text(f"SELECT * FROM {table}"))]
    assert len(rows) >= 4
    for code in codes:
        assert not any(code in row for row in rows), code
    # What is kept is a keyed hash, which the right code (and only it) matches.
    otp = db.session.scalar(select(OneTimeCode).where(OneTimeCode.phone == user.phone))
    assert len(otp.code_hash) == 64 and otp.code_hash == verification._hash(codes[0])


def test_a_sixth_code_within_the_hour_and_an_eleventh_within_the_day_are_refused(client, db):
    user = new_account(db)
    for _ in range(5):
        ask_reset_code(client, user)
        earlier(db, 2)
    assert sms_count(db, user.phone) == 5
    page = ask_reset_code(client, user)
    assert "同一号码每小时最多发送5条验证码，请稍后再试" in page
    assert sms_count(db, user.phone) == 5

    earlier(db, 61)  # the hour has passed: five more, then the day's cap
    for _ in range(5):
        ask_reset_code(client, user)
        earlier(db, 2)
    assert sms_count(db, user.phone) == 10
    earlier(db, 61)
    page = ask_reset_code(client, user)
    assert "同一号码每天最多发送10条验证码，请明天再试" in page
    assert sms_count(db, user.phone) == 10


def test_a_code_expires_and_is_used_once(client, db):
    user = new_account(db)
    ask_reset_code(client, user)
    code = last_code(db, user.phone)
    for otp in db.session.scalars(select(OneTimeCode).where(OneTimeCode.phone == user.phone)):
        otp.expires_at -= dt.timedelta(minutes=6)
    db.session.commit()
    # The page words every code problem alike (no enumeration, tests/test_enumeration.py); the reset is refused.
    page = reset(client, user, code)
    assert "验证码错误或已失效，请重新获取" in page and "密码已重置" not in page
    earlier(db, 2)
    ask_reset_code(client, user)
    code = last_code(db, user.phone)
    assert "密码已重置，账号已解锁，请重新登录" in reset(client, user, code)
    assert "验证码错误或已失效，请重新获取" in reset(client, user, code, password="Other2028pw")  # used once
    signed_in(client, user.username, "NewPass2027")


@pytest.mark.parametrize("username", ["admin", "reviewer", "configurator"])
def test_admin_and_registry_accounts_cannot_reset_by_sms(client, db, username):
    staff = db.session.scalar(select(Operator).where(Operator.username == username))
    assert staff.phone
    page = ask_reset_code(client, staff)
    assert "系统管理员和登记机构人员的账号不能通过短信找回密码，请联系系统管理员重置" in page
    assert sms_count(db, staff.phone) == 0
    page = reset(client, staff, "123456")
    assert "不能通过短信找回密码" in page
    signed_in(client, username)  # the demo password still works


def test_a_reset_tells_the_accounts_email(client, db):
    user = new_account(db)
    ask_reset_code(client, user)
    code = last_code(db, user.phone)
    reset(client, user, code)
    assert reload(db, user) is not None
    signed_in(client, user.username, "NewPass2027")
    notice = db.session.scalar(select(EmailMessage).where(EmailMessage.recipient == user.email))
    assert notice is not None and notice.purpose == "reset_notice"
    assert notice.subject == "您的密码已重置"
    assert user.username in notice.body and user.phone[-4:] in notice.body and user.phone not in notice.body
    assert "如非本人操作，请立即联系登记机构" in notice.body and code not in notice.body


class _SmtpStub(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept one message: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 stub ESMTP\r\n")
        lines, in_data = [], False
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.messages.append(b"".join(lines))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line.decode().strip()
            self.server.commands.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "DATA":
                in_data = True
                self.wfile.write(b"354 end with <CRLF>.<CRLF>\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_the_smtp_adapter_delivers_the_notice_to_an_smtp_server(app, db):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpStub)
    server.commands, server.messages = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = {k: app.config[k] for k in ("REGISTRY_SMTP_HOST", "REGISTRY_SMTP_PORT")}
    app.config.update(REGISTRY_SMTP_HOST="127.0.0.1", REGISTRY_SMTP_PORT=server.server_address[1])
    try:
        with app.test_request_context():
            adapter = mail.adapter()
            assert isinstance(adapter, mail.SmtpMail)
            adapter.send("chen@example.cn", "您的密码已重置", "陈晓东：您的密码已于今日重置。", "reset_notice")
    finally:
        app.config.update(saved)
        server.shutdown()
        server.server_close()
    assert any(c.upper().startswith("RCPT TO:<CHEN@EXAMPLE.CN>") for c in server.commands)
    message = email.message_from_bytes(server.messages[0], policy=email.policy.default)
    assert message["Subject"] == "您的密码已重置" and message["To"] == "chen@example.cn"
    assert "陈晓东：您的密码已于今日重置。" in message.get_content()


def test_without_smtp_or_sandbox_there_is_no_silent_mail(app):
    saved = {k: app.config[k] for k in ("SANDBOX", "TESTING")}
    app.config.update(SANDBOX=False, TESTING=False)
    try:
        with app.test_request_context(), pytest.raises(mail.MailUnavailable, match="REGISTRY_SMTP_HOST"):
            mail.adapter()
    finally:
        app.config.update(saved)
