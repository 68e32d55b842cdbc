"""Two instances as one: two gunicorn servers (different ports) on one PostgreSQL and one Redis, behind a
stand-in for the reverse proxy (each test browser sends its client address in X-Forwarded-For, as the
proxy does), spoken to over real HTTP with CSRF tokens and cookies.

- a login on A is valid on B, and logout on A ends the (copied) cookie on B too;
- failed sign-ins on A and B count towards one lockout, and the sign-in request limit is one budget;
- case numbers taken concurrently through A and B at the start of a day are unique, with no 500;
- a batch print started on A is run by a Celery worker through Redis, and B shows its progress and result.

PostgreSQL is the throwaway cluster this module starts (initdb on a free port) or, when
REGISTRY_TEST_DATABASE_URL points at a PostgreSQL server, a database of this module's own there.
"""
import concurrent.futures
import contextlib
import datetime as dt
import glob
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import signed_in
from tests.test_limits import _free_port, redis_url  # noqa: F401  (redis_url: this module's own redis-server)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Demo@2026"
LOGIN_BUDGET = 10       # sign-in attempts per client address and minute, shared by A and B
LOCKOUT_FAILURES = 5    # the shipped policy
CASES = 20
_ips = itertools.count(1)


def new_ip():
    n = next(_ips)
    return f"10.77.{n // 250}.{n % 250 + 1}"


# --- the servers ----------------------------------------------------------------------------------
def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda path: [int(n) for n in re.findall(r"\d+", path)])  # the newest version last
    if not found or not Path(found[-1], "initdb").exists():
        pytest.fail("The two-instance test needs PostgreSQL: install the server binaries "
                    "(apt-get install postgresql; CI does) or set REGISTRY_TEST_DATABASE_URL to a PostgreSQL database")
    return Path(found[-1])


@contextlib.contextmanager
def _own_postgres():
    """A throwaway cluster: initdb into a temp folder, trust auth, a free port, no fsync; removed after."""
    pg = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="registry-pg-"))
    as_postgres = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = folder / "data"
    subprocess.run([*as_postgres, str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
    subprocess.run([*as_postgres, str(pg / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off",
                    "start"], check=True, capture_output=True, timeout=120)
    try:
        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE registry"))
        admin.dispose()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/registry"
    finally:
        subprocess.run([*as_postgres, str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _database_beside(url):
    """A database of this module's own on the PostgreSQL server the suite runs on."""
    server, name = url.rsplit("/", 1)
    name = f"{name}_two_instances"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _postgres():
    url = os.environ.get("REGISTRY_TEST_DATABASE_URL", "")
    return _database_beside(url) if url.startswith("postgresql") else _own_postgres()


def _wait_healthy(base, proc, log, deadline):
    while True:
        try:
            status, _, _ = Browser(new_ip()).request(base, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{base} did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def cluster(redis_url, tmp_path_factory):  # noqa: F811 (the redis_url fixture imported above)
    """PostgreSQL migrated and seeded with the demo data by the documented commands, then instances A and
    B serving it with the same secrets, one Redis for the limits and one file store."""
    folder = tmp_path_factory.mktemp("two-instances")
    with _postgres() as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        env.update({"PYTHONPATH": str(ROOT), "REGISTRY_DATABASE_URL": database_url,
                    "REGISTRY_DATA_DIR": str(folder / "files"), "REGISTRY_CA_TRUST_FILE": str(folder / "ca.pem"),
                    "REGISTRY_DEMO": "1", "REGISTRY_SANDBOX": "1",
                    "REGISTRY_RATELIMIT_ENABLED": "1", "REGISTRY_RATELIMIT_STORAGE": redis_url,
                    "REGISTRY_RATELIMIT_LOGIN": f"{LOGIN_BUDGET} per minute",
                    "REGISTRY_RATELIMIT_LOGIN_ACCOUNT": "30 per minute",
                    "REGISTRY_LOCKOUT_FAILURES": str(LOCKOUT_FAILURES),
                    "REGISTRY_LOGIN_DELAY_AFTER": "3", "REGISTRY_LOGIN_DELAY_SECONDS": "1",
                    "REGISTRY_LOGIN_CAPTCHA_AFTER": "0",  # the lock itself is counted here, not the image code
                    "REGISTRY_PROXY_COUNT": "1",  # the client address comes from the proxy's X-Forwarded-For
                    "REGISTRY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/1",  # jobs: Redis database 1
                    "REGISTRY_JOB_PRINT_CASES": "1"})  # two cases already print as a job
        for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PAYMENT_SECRET", "TAX_SECRET"):
            env[f"REGISTRY_{name}"] = secrets.token_hex(32)  # one value, both instances
        for command in (["db", "upgrade"], ["seed-demo"]):
            done = subprocess.run([str(BIN / "flask"), "--app", "run", *command], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
        servers, worker_log = [], folder / "worker.log"
        with open(worker_log, "wb") as out:  # the documented worker command, one worker for both instances
            worker = subprocess.Popen([str(BIN / "celery"), "-A", "app.celery_app", "worker", "--pool=solo",
                                       "--without-heartbeat", "--without-gossip", "--without-mingle",
                                       "--loglevel=info", "-n", f"two-instances-{os.getpid()}@localhost"],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            for name in ("a", "b"):
                port, log = _free_port(), folder / f"{name}.log"
                with open(log, "wb") as out:
                    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", "1",
                                             "--threads", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                servers.append((proc, f"http://127.0.0.1:{port}", log))
            deadline = time.monotonic() + 120
            for proc, base, log in servers:
                _wait_healthy(base, proc, log, deadline)
            engine = create_engine(database_url)
            yield {"a": servers[0][1], "b": servers[1][1], "db": engine, "logs": [log for _, _, log in servers],
                   "worker": (worker, worker_log)}
            engine.dispose()
        finally:
            worker.send_signal(signal.SIGQUIT)  # cold shutdown: nothing is left to finish
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
            for proc, _, _ in servers:
                proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: nothing is left to finish
            for proc, _, _ in servers:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


# --- a browser over plain HTTP ---------------------------------------------------------------------
class Browser:
    """One person's browser: its cookies, and the client address the proxy reports for it."""

    def __init__(self, ip, cookies=None):
        self.ip, self.cookies = ip, dict(cookies or {})
        self._lock = threading.Lock()

    def request(self, base, method, path, form=None):
        parts = urllib.parse.urlsplit(base)
        headers = {"X-Forwarded-For": self.ip}
        with self._lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            page = response.read().decode(errors="replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            with self._lock:
                for key, morsel in cookie.items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[key] = morsel.value
                    else:
                        self.cookies.pop(key, None)
        return response.status, response.headers, page

    def get(self, base, path):
        """GET, following redirects on the same instance."""
        for _ in range(5):
            status, headers, page = self.request(base, "GET", path)
            if status not in (301, 302, 303):
                return status, page
            path = urllib.parse.urlsplit(headers["Location"])._replace(scheme="", netloc="").geturl()
        raise AssertionError(f"too many redirects from {path}")

    def post(self, base, path, form, token_from):
        """POST a form with the CSRF token of the page `token_from` (fetched first, as a browser shows it)."""
        status, page = self.get(base, token_from)
        assert status == 200, (token_from, status)
        return self.request(base, "POST", path, {**form, "csrf_token": csrf_token(page)})


def csrf_token(page):
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def sign_in(browser, base, username, password=PASSWORD):
    """Sign in on `base`: the POST's status and the page it leads to (empty when refused with 429)."""
    status, headers, _ = browser.post(base, "/login/", {"username": username, "password": password}, "/login/")
    assert status in (302, 429), status
    if status == 429:
        return status, ""
    _, page = browser.get(base, urllib.parse.urlsplit(headers["Location"]).path or "/")
    return status, page


def _utcnow():
    """The naive UTC the database keeps (models.base.utcnow)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# --- the tests -------------------------------------------------------------------------------------
def test_a_login_on_a_is_valid_on_b_and_logout_on_a_ends_it_on_b(cluster):
    a, b = cluster["a"], cluster["b"]
    browser = Browser(new_ip())
    status, landed = sign_in(browser, a, "bank_a_op")
    assert status == 302 and signed_in(landed), landed[:500]
    copied = Browser(browser.ip, browser.cookies)  # the same cookie, sent to the other instance
    _, page = copied.get(b, "/")
    assert signed_in(page), page[:500]
    status, page = copied.get(b, "/desk/office/todo")  # 待办: an operator's page
    assert status == 200 and signed_in(page) and 'id="login-page"' not in page

    status, headers, _ = browser.post(a, "/logout/", {}, "/")  # the navbar's sign-out form, on A
    assert status == 302
    _, page = browser.get(a, "/")
    assert not signed_in(page)
    # The cookie copied before the sign-out is dead on B as well (the account's session nonce rotated).
    _, page = copied.get(b, "/")
    assert not signed_in(page)
    status, page = copied.get(b, "/desk/office/todo")
    assert not signed_in(page) and 'id="login-page"' in page


def test_failed_sign_ins_on_a_and_b_count_towards_one_lockout(cluster):
    a, b = cluster["a"], cluster["b"]
    browser = Browser(new_ip())  # a place bank_b_admin never signed in from: the lock binds here
    for i in range(LOCKOUT_FAILURES - 2):
        status, page = sign_in(browser, (a, b)[i % 2], "bank_b_admin", "Wrong-2026x")
        assert status == 302 and "账号或密码错误" in page and not signed_in(page), i
    status, page = sign_in(browser, b, "bank_b_admin", "Wrong-2026x")  # the 4th: a short delay follows
    assert "再失败 1 次账号将被锁定" in page, page[-1500:]
    status, page = sign_in(browser, a, "bank_b_admin", "Wrong-2026x")  # A knows of B's delay
    assert re.search(r"登录失败次数过多，请在 \d+ 秒后重试", page), page[-1500:]
    with cluster["db"].connect() as conn:
        count, until = conn.execute(text("SELECT fail_login_count, locked_until FROM ab_user "
                                         "WHERE username = 'bank_b_admin'")).one()
    assert count == LOCKOUT_FAILURES - 1  # the refused attempt did not count
    time.sleep(max(0.0, (until - _utcnow()).total_seconds()) + 0.2)
    status, page = sign_in(browser, a, "bank_b_admin", "Wrong-2026x")  # the 5th failure, on A: locked
    assert "该账号因连续 5 次登录失败已被锁定" in page, page[-1500:]
    for base in (b, a):  # now the right password is refused on both
        status, page = sign_in(browser, base, "bank_b_admin")
        assert status == 302 and not signed_in(page) and "已被锁定" in page, base
    with cluster["db"].connect() as conn:
        count, until = conn.execute(text("SELECT fail_login_count, locked_until FROM ab_user "
                                         "WHERE username = 'bank_b_admin'")).one()
    assert count == LOCKOUT_FAILURES and until > _utcnow() + dt.timedelta(minutes=29)


def _guess_together(cluster, name):
    """Wrong passwords for `name` arriving at the same instant on both instances, each from its own
    address (an attacker spreading guesses over addresses and servers); then one more attempt's page."""
    a, b = cluster["a"], cluster["b"]
    attempts = 2 * LOCKOUT_FAILURES

    def guess(i):
        return sign_in(Browser(new_ip()), (a, b)[i % 2], name, f"Wrong-2026-{i}")

    with concurrent.futures.ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(guess, range(attempts)))
    assert all(status == 302 and not signed_in(page) for status, page in outcomes)
    return sign_in(Browser(new_ip()), a, name)[1]


def test_failed_sign_ins_sent_together_to_a_and_b_all_count(cluster):
    """Each checked guess counts: none overwrites another's count, so the account locks."""
    after = _guess_together(cluster, "dev_admin")
    assert "该账号因连续 5 次登录失败已被锁定" in after and not signed_in(after)  # even the right password now
    with cluster["db"].connect() as conn:
        count, until = conn.execute(text("SELECT fail_login_count, locked_until FROM ab_user "
                                         "WHERE username = 'dev_admin'")).one()
        checked = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'login_failed' "
                                    "AND username = 'dev_admin'")).scalar()
    assert count == checked >= LOCKOUT_FAILURES  # every checked guess counted
    assert until > _utcnow() + dt.timedelta(minutes=29)  # locked, not merely delayed


def test_a_name_without_an_account_locks_alike_under_the_same_burst(cluster):
    """The same burst at a name nobody has ends in the same lock (its count is in Redis), so a burst
    does not tell which names are accounts."""
    after = _guess_together(cluster, "no-such-account")
    assert "该账号因连续 5 次登录失败已被锁定" in after and not signed_in(after)


def test_the_sign_in_limit_is_one_budget_across_a_and_b(cluster):
    a, b = cluster["a"], cluster["b"]
    browser = Browser(new_ip())
    for i in range(LOGIN_BUDGET):  # unknown names: no account is locked, only the address counts
        status, _ = sign_in(browser, (a, b)[i % 2], f"nobody-{i}", "Wrong-2026x")
        assert status == 302, i
    for base in (a, b):
        status, _, page = browser.post(base, "/login/", {"username": "nobody-else", "password": "Wrong-2026x"},
                                       "/login/")
        assert status == 429 and re.search(r"操作过于频繁，请在 \d+ 秒后重试", page), (base, status)
    # Another address still has its whole budget.
    assert sign_in(Browser(new_ip()), b, "nobody-new", "Wrong-2026x")[0] == 302


def _units(engine, n):
    """Lookup keys (certificate number + a holder's ID number) of units free for a new mortgage case."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT o.certificate_number, p.id_number, o.unit_id FROM ownership o "
            "JOIN unit u ON u.id = o.unit_id JOIN right_holder h ON h.right_id = o.id JOIN party p ON p.id = h.party_id "
            "WHERE o.status = 'current' AND NOT u.sealed AND NOT u.objected AND NOT u.mortgaged AND NOT u.pre_noticed "
            "AND u.id NOT IN (SELECT cu.unit_id FROM case_unit cu JOIN case_file c ON c.id = cu.case_id "
            "WHERE c.finished_at IS NULL) ORDER BY o.unit_id, h.id")).all()
    seen, found = set(), []
    for certificate, id_number, unit_id in rows:
        if unit_id not in seen:
            seen.add(unit_id)
            found.append((certificate, id_number, unit_id))
    assert len(found) >= n, f"only {len(found)} free units in the demo register"
    return found[:n]


def test_case_numbers_taken_concurrently_through_a_and_b_are_unique_without_a_500(cluster):
    a, b = cluster["a"], cluster["b"]
    engine = cluster["db"]
    units = _units(engine, CASES)
    operators = []
    for base, username in ((a, "bank_a_op"), (b, "bank_b_op")):
        browser = Browser(new_ip())
        status, landed = sign_in(browser, base, username)
        assert status == 302 and signed_in(landed), username
        operators.append(browser)
    today = dt.date.today()
    with engine.begin() as conn:  # the start of a new day: no case numbered yet
        conn.execute(text("DELETE FROM counter WHERE name = :n"), {"n": f"case:{today:%Y%m%d}"})

    def start(i):
        certificate, id_number, unit_id = units[i]
        base, browser = (a, b)[i % 2], operators[(i // 2) % 2]  # each operator through both instances
        keys = {"certificate_number": certificate, "holder_id_number": id_number}
        path = "/desk/apply/mortgage_first/?" + urllib.parse.urlencode(keys)
        status, headers, page = browser.post(base, "/desk/apply/mortgage_first/start",
                                             {**keys, "unit_id": str(unit_id)}, path)
        return status, headers.get("Location", ""), page[:300]

    with concurrent.futures.ThreadPoolExecutor(CASES) as pool:
        outcomes = list(pool.map(start, range(CASES)))
    assert [s for s, _, _ in outcomes] == [302] * CASES, outcomes
    ids = [int(re.search(r"/desk/case/(\d+)/", location).group(1)) for _, location, _ in outcomes]
    with engine.connect() as conn:
        numbers = conn.execute(text("SELECT number FROM case_file WHERE id = ANY(:ids)"), {"ids": ids}).scalars().all()
    assert sorted(numbers) == [f"WS{today:%Y%m%d}{n:05d}" for n in range(1, CASES + 1)]
    for log in cluster["logs"]:  # neither instance answered a 500 or logged a traceback
        written = log.read_text(errors="replace")
        assert '" 500 ' not in written and "Traceback" not in written, written[-3000:]


def test_a_batch_print_started_on_a_is_run_by_the_worker_and_followed_on_b(cluster):
    a, b = cluster["a"], cluster["b"]
    worker, worker_log = cluster["worker"]
    browser = Browser(new_ip())
    status, landed = sign_in(browser, a, "bank_a_op")
    assert status == 302 and signed_in(landed)
    with cluster["db"].connect() as conn:
        ids = conn.execute(text("SELECT c.id FROM case_file c JOIN ab_user u ON u.institution_id = c.institution_id "
                                "WHERE u.username = 'bank_a_op' ORDER BY c.id LIMIT 3")).scalars().all()
    assert len(ids) == 3, ids
    status, headers, page = browser.post(a, "/desk/office/print", {"case_id": [str(i) for i in ids]},
                                         "/desk/office/todo")
    assert status == 302 and re.search(r"/jobs/(\d+)$", headers["Location"]), (status, page[:500])
    job_id = int(re.search(r"/jobs/(\d+)$", headers["Location"]).group(1))
    deadline, seen = time.monotonic() + 90, []
    while True:  # B's status endpoint, polled as the page's script does
        status, page = browser.get(b, f"/jobs/{job_id}/status")
        assert status == 200, (status, page[:300])
        job = json.loads(page)
        seen.append((job["done"], job["total"]))
        if job["finished"]:
            break
        assert worker.poll() is None, worker_log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, (job, worker_log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    assert job["state"] == "done" and job["state_label"] == "已完成" and (job["done"], job["total"]) == (3, 3), job
    assert f"registry job {job_id} ended" in worker_log.read_text(errors="replace")  # the worker ran it, not A
    status, page = browser.get(b, f"/jobs/{job_id}")  # the job page on B, in Chinese, with the result link
    assert status == 200 and "已完成" in page and job["result_url"] in page
    conn = http.client.HTTPConnection(*urllib.parse.urlsplit(b).netloc.split(":"), timeout=60)
    conn.request("GET", job["result_url"], headers={"X-Forwarded-For": browser.ip, "Cookie": "; ".join(
        f"{k}={v}" for k, v in browser.cookies.items())})
    response = conn.getresponse()
    assert response.status == 200 and response.read()[:4] == b"%PDF"
    conn.close()
