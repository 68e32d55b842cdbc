"""Request limits (app/limits.py) on the real limiter: sign-in per IP and per account, SMS sends, public
queries, the 429 answer (Chinese page or JSON, with the wait), and two instances sharing one Redis."""
import http.client
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.accounts_helpers import PASSWORD, new_account

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = "/usr/bin/redis-server"
_ips = itertools.count(1)


def new_ip():
    """A client address of its own, so each test's counts start from zero."""
    n = next(_ips)
    return f"10.{os.getpid() % 200}.{n // 250}.{n % 250 + 1}"


@pytest.fixture
def limits_on(app):
    from app.extensions import limiter
    app.config["REGISTRY_RATELIMIT_ENABLED"] = True
    limiter.reset()
    yield app.config
    app.config["REGISTRY_RATELIMIT_ENABLED"] = False
    limiter.reset()


def post(client, url, ip, data=None, **kwargs):
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": ip}, **kwargs)


def assert_chinese_429(response):
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 3600
    assert re.search(r"操作过于频繁，请在 \d+ 秒后重试", page), page[:500]


def test_login_limit_per_ip_answers_429_with_the_wait_in_chinese(client, limits_on):
    limit = int(limits_on["REGISTRY_RATELIMIT_LOGIN"].split()[0])
    ip = new_ip()
    for i in range(limit):
        response = post(client, "/login/", ip, {"username": f"nobody{i}", "password": "Wrong2026x"})
        assert response.status_code == 302, i
    assert_chinese_429(post(client, "/login/", ip, {"username": "nobody-else", "password": "Wrong2026x"}))
    # Other addresses are not held back, and showing the form is not an attempt.
    assert client.get("/login/", environ_base={"REMOTE_ADDR": ip}).status_code == 200
    assert post(client, "/login/", new_ip(), {"username": "nobody", "password": "Wrong2026x"}).status_code == 302


def test_password_ca_ldap_and_json_sign_in_share_one_budget(client, limits_on):
    limits_on["REGISTRY_RATELIMIT_LOGIN"] = "4 per minute"
    ip = new_ip()
    for url in ("/login/", "/login/ca/", "/login/ldap/", "/login/"):
        assert post(client, url, ip, {"username": "nobody", "password": "Wrong2026x"}).status_code == 302
    response = client.post("/api/v1/security/login", json={"username": "nobody", "password": "x"},
                           environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 429
    body = response.get_json()  # a JSON caller gets JSON
    assert re.fullmatch(r"操作过于频繁，请在 \d+ 秒后重试。", body["message"]) and body["retry_after"] >= 1
    limits_on["REGISTRY_RATELIMIT_LOGIN"] = "10 per minute;50 per hour"


def test_an_xhr_caller_gets_json(client, limits_on):
    limits_on["REGISTRY_RATELIMIT_LOGIN"] = "1 per minute"
    ip = new_ip()
    post(client, "/login/", ip, {"username": "nobody", "password": "Wrong2026x"})
    response = post(client, "/login/", ip, {"username": "nobody", "password": "Wrong2026x"},
                    headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 429 and "秒后重试" in response.get_json()["message"]
    limits_on["REGISTRY_RATELIMIT_LOGIN"] = "10 per minute;50 per hour"


def test_one_account_name_is_limited_whatever_the_address(client, db, limits_on):
    limit = int(limits_on["REGISTRY_RATELIMIT_LOGIN_ACCOUNT"].split()[0])
    user = new_account(db)
    for _ in range(limit):
        response = post(client, "/login/", new_ip(), {"username": user.username, "password": "Wrong2026x"})
        assert response.status_code == 302
    assert_chinese_429(post(client, "/login/", new_ip(), {"username": user.username.upper(), "password": PASSWORD}))


def test_sms_sends_are_limited_per_ip_across_every_route_that_sends_a_code(client, db, limits_on):
    limit = int(limits_on["REGISTRY_RATELIMIT_SMS"].split()[0])
    ip = new_ip()
    users = [new_account(db) for _ in range(limit + 1)]
    for user in users[:limit]:  # a different account and mobile each time: no per-number cap plays
        response = post(client, "/accounts/forgot/", ip, {"username": user.username, "phone": user.phone,
                                                          "send_code": "1"})
        assert response.status_code == 200
    assert_chinese_429(post(client, "/accounts/forgot/", ip, {"username": users[-1].username,
                                                             "phone": users[-1].phone, "send_code": "1"}))
    assert_chinese_429(post(client, "/accounts/register/", ip, {"phone": "13912345678", "send_code": "1"}))
    # Showing the forms is not sending.
    assert client.get("/accounts/forgot/", environ_base={"REMOTE_ADDR": ip}).status_code == 200


def test_the_party_confirmation_code_draws_on_the_same_sms_budget(client, db, limits_on):
    from models import CaseParty
    from tests.factories import case
    row = case(db, "bank_a_op")
    party = CaseParty(case_id=row.id, role="mortgagor", name="陈晓东", id_number="430104199001011234",
                      phone="13911112222")
    db.session.add(party)
    db.session.commit()
    assert "/logout" in client.auth.login("bank_a_op").get_data(as_text=True)
    limit = int(limits_on["REGISTRY_RATELIMIT_SMS"].split()[0])
    ip = new_ip()
    url = f"/desk/case/{row.id}/party/{party.id}/send-code"
    for _ in range(limit):
        assert post(client, url, ip).status_code == 302
    assert_chinese_429(post(client, url, ip))
    assert_chinese_429(post(client, "/accounts/register/", ip, {"phone": "13912345678", "send_code": "1"}))


def test_public_progress_query_is_limited_per_ip(client, limits_on):
    limit = int(limits_on["REGISTRY_RATELIMIT_PUBLIC"].split()[0])
    ip = new_ip()
    env = {"REMOTE_ADDR": ip}
    for i in range(limit):
        response = client.post("/public/progress", data={"number": f"NOPE{i}", "party": "1234"}, environ_base=env)
        assert response.status_code == 200
    assert client.get("/public/progress", environ_base=env).status_code == 200  # the empty form is free
    assert_chinese_429(client.post("/public/progress", data={"number": "NOPE", "party": "1234"}, environ_base=env))
    # Certificate verification draws on the same public budget.
    assert_chinese_429(post(client, "/public/certificate", ip, {"number": "x", "code": "y"}))


def test_registration_is_limited_per_ip(client, limits_on):
    limit = int(limits_on["REGISTRY_RATELIMIT_REGISTER"].split()[0])
    ip = new_ip()
    for _ in range(limit):
        assert post(client, "/accounts/register/institution/", ip, {"name": "x"}).status_code == 200
    assert_chinese_429(post(client, "/accounts/register/institution/", ip, {"name": "x"}))


def test_switched_off_nothing_is_limited(client, app):
    assert app.config["REGISTRY_RATELIMIT_ENABLED"] is False  # how the rest of the suite runs
    ip = new_ip()
    for i in range(25):  # beyond every sign-in budget
        assert post(client, "/login/", ip, {"username": f"nobody{i}", "password": "Wrong2026x"}).status_code == 302


# --- two instances, one Redis ----------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A real redis-server of this test's own, on a free port, with no persistence."""
    assert Path(REDIS_SERVER).exists(), f"{REDIS_SERVER} is needed (apt-get install redis-server)"
    import redis
    port, folder = _free_port(), tempfile.mkdtemp(prefix="registry-redis-")
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise AssertionError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


SERVE = """
from werkzeug.serving import make_server
from app import create_app
app = create_app({"WTF_CSRF_ENABLED": False})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def two_instances(app, redis_url):
    """Two processes, each its own create_app(), on the test database and one Redis for the limits."""
    from tests.conftest import DATABASE_URL, TMP
    env = {**os.environ, "REGISTRY_DATABASE_URL": DATABASE_URL, "REGISTRY_DATA_DIR": str(TMP / "files"),
           "REGISTRY_RATELIMIT_STORAGE": redis_url, "REGISTRY_RATELIMIT_ENABLED": "1",
           "REGISTRY_RATELIMIT_LOGIN": "5 per minute"}
    procs = [subprocess.Popen([sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    try:
        yield [int(p.stdout.readline()) for p in procs]
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def _login(port, username):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login/", urllib.parse.urlencode({"username": username, "password": "Wrong2026x"}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    return response.status, response.read().decode()


def test_two_instances_on_one_redis_share_the_login_limit(two_instances):
    a, b = two_instances
    for i in range(5):
        assert _login(a, f"nobody{i}")[0] == 302, i
    status, page = _login(b, "nobody-on-b")  # B's first attempt: the sixth for this address
    assert status == 429 and re.search(r"操作过于频繁，请在 \d+ 秒后重试", page)
    assert _login(a, "nobody-again")[0] == 429


def test_routes_without_a_limit_skip_the_limiter_and_limited_ones_still_count(client, limits_on, monkeypatch):
    """app/limits.py: only the routes of RULES have limits, so only they ask Flask-Limiter (which looked
    every page's limits up)."""
    from app.extensions import limiter
    asked = []
    identify = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: asked.append(1) or identify())
    client.auth.login("bank_a_op")  # the sign-in form is limited: it asks
    asked.clear()
    assert 'id="logout-form"' in client.get("/desk/office/todo").get_data(as_text=True)
    assert asked == []
    client.auth.logout()
    limit = int(limits_on["REGISTRY_RATELIMIT_PUBLIC"].split()[0])
    env = {"REMOTE_ADDR": new_ip()}
    for i in range(limit):
        client.post("/public/progress", data={"number": f"NOPE{i}", "party": "1234"}, environ_base=env)
    assert len(asked) >= limit
    assert_chinese_429(client.post("/public/progress", data={"number": "NOPE", "party": "1234"}, environ_base=env))
