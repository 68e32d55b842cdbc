"""Throughput under load: the product's pages against a bare page running the same SQL (the ceiling).

    python bench/load.py [--units 1000000] [--cases 200000] [--engines sqlite,postgresql]
                         [--seconds 5] [--rounds 3] [--threads 8] [--url URL]

For each database it
1. seeds (or reuses) a register of --units units and --cases cases (bench/pages.py bulk_seed): SQLite in
   /work/benchdata/load-<units>-<cases>.sqlite, PostgreSQL in a cluster of its own under
   /work/benchdata/pg-<units>-<cases>/ started on a free loopback port (stopped at the end); a table
   bench_seeded marks a finished seed, so a second run starts at once. --url names another database.
2. captures, through the product in-process, the data statements of each page (bench/ceiling.py),
3. serves the product (wsgi:app) and the ceiling (bench.ceiling:app) with gunicorn, 2 workers each, the
   project's gunicorn.conf.py, on loopback ports,
4. signs in once per user (the real form, CSRF token and all) and reuses the session cookie (a form
   page, the progress query, is posted with its CSRF token and session as a browser does),
5. drives each page with --threads client threads for --seconds, alternating product and ceiling
   rounds (--rounds of each, the order swapped every round, so a busy machine costs both alike),
6. prints req/s, p50/p95 milliseconds and the ratio product/ceiling per page.

Request limits are off (REGISTRY_RATELIMIT_ENABLED=0: the progress query allows an outsider a few a
minute); REGISTRY_DEMO=1 REGISTRY_SANDBOX=1 let the shipped secrets and sandboxes start. Loopback only.
"""
import argparse
import http.client
import os
import pickle
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("BENCH_DATA", "/work/benchdata"))
BIN = Path(sys.executable).parent
PASSWORD = "Demo@2026"

# (name, user or None for a visitor, path, form posted or None for a GET). The progress query is a form
# (no ID number in a URL): bulk case 2 with the last 4 characters of its party's ID number.
PAGES = [
    ("case list", "bank_a_op", "/caseview/list/", None),
    ("待办", "bank_a_op", "/desk/office/todo", None),
    ("review queue", "reviewer", "/review/", None),
    ("unit search 坐落", "reviewer", "/unitview/list/?" + urlencode({"_flt_2_location": "12栋101室"}), None),
    ("progress query", None, "/public/progress", {"number": "BENCH0000000002", "party": "0002"}),
]
# A statement reading one of these tables is the page's data; the rest is sign-in, permissions, rules.
DATA_TABLES = ("case_file", "case_unit", "case_party", "case_history", "unit", "unit_fts", "building")
_DATA = re.compile(r'\b(?:FROM|JOIN)\s+"?(?:%s)"?(?:\s|$|,|\))' % "|".join(DATA_TABLES), re.I)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--url", help="a database to use (seeded unless marked) instead of --engines")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, product and ceiling alternating")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements the ceiling runs")
    parser.add_argument("--seed-only", action="store_true", help="seed (or check) the databases, measure nothing")
    parser.add_argument("--results", help=argparse.SUPPRESS)  # a child run (one database) writes its rows here
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.pages or p[0] in args.pages.split(",")]
    DATA.mkdir(parents=True, exist_ok=True)
    if args.results:
        with open(args.results, "wb") as f:
            pickle.dump(run(args.url, pages, args), f)
        return
    targets = [(args.url.split(":")[0].split("+")[0], args.url)] if args.url else [(e, None) for e in args.engines.split(",")]
    results = {}
    for engine, url in targets:
        cluster = None
        try:
            if url is None and engine == "postgresql":
                cluster = PgCluster(DATA / f"pg-{args.units}-{args.cases}")
                url = cluster.start()
            elif url is None:
                url = f"sqlite:///{DATA}/load-{args.units}-{args.cases}.sqlite"
            # One process per database: Flask-AppBuilder's appbuilder is built once per process.
            with tempfile.NamedTemporaryFile(suffix=".pickle") as out:
                argv = [f"--{k}={v}" for k, v in (("units", args.units), ("cases", args.cases), ("seconds", args.seconds),
                                                   ("rounds", args.rounds), ("threads", args.threads),
                                                   ("pages", args.pages)) if v is not None]
                argv += ["--show-sql"] if args.show_sql else []
                argv += ["--seed-only"] if args.seed_only else []
                subprocess.run([sys.executable, __file__, *argv, "--url", url, "--results", out.name], check=True)
                with open(out.name, "rb") as f:
                    results[engine] = pickle.load(f)
        finally:
            if cluster:
                cluster.stop()
    for engine, rows in results.items():
        print(f"\n{engine}: {args.units} units, {args.cases} cases; {args.threads} client threads, "
              f"{args.rounds} × {args.seconds:g} s each side")
        print(f"{'page':<18}{'app req/s':>10}{'ceiling':>9}{'ratio':>7}{'app p50/p95 ms':>16}"
              f"{'ceiling p50/p95':>17}{'SQL':>5}")
        for name, a, c, n in rows:
            print(f"{name:<18}{a.rate:>10.1f}{c.rate:>9.1f}{a.rate / c.rate:>7.2f}{a.p50:>9.1f}/{a.p95:<6.1f}"
                  f"{c.p50:>10.1f}/{c.p95:<6.1f}{n:>5}")


def run(url, pages, args):
    env = dict(os.environ, REGISTRY_DATABASE_URL=url, REGISTRY_DEMO="1", REGISTRY_SANDBOX="1",
               REGISTRY_RATELIMIT_ENABLED="0", REGISTRY_LOG_LEVEL="warning")
    os.environ.update(env)
    app = ensure_seeded(url, args.units, args.cases)
    if args.seed_only:
        return []
    queries = capture(app, pages)
    if args.show_sql:
        for name, statements in queries.items():
            print(f"-- {name}")
            for sql, params in statements:
                print("   ", " ".join(sql.split())[:300], params)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with open(work / "queries.pickle", "wb") as f:
        pickle.dump(queries, f)
    if os.environ.get("BENCH_KEEP_QUERIES"):
        shutil.copy(work / "queries.pickle", os.environ["BENCH_KEEP_QUERIES"])
    env["BENCH_CEILING_QUERIES"] = str(work / "queries.pickle")
    app = Server("wsgi:app", env, work / "app.log")
    ceiling = Server("bench.ceiling:app", env, work / "ceiling.log")
    try:
        app.wait("/healthz")
        ceiling.wait("/" + quote(pages[0][0]))
        cookies = {user: login(app.port, user) for user in {u for _n, u, _p, _f in pages if u}}
        rows = []
        for name, user, path, form in pages:
            headers, body = ({"Cookie": cookies[user]}, None) if user else ({}, None)
            if form is not None:  # a form: posted as a browser does, with its CSRF token and session
                headers, body = visitor_form(app.port, path, form, headers)
            check(app.port, path, headers, name, body)
            ceiling_path = "/" + quote(name)
            check(ceiling.port, ceiling_path, {}, name)
            for port, p, h, b in ((app.port, path, headers, body), (ceiling.port, ceiling_path, {}, None)):
                drive(port, p, h, 1.0, args.threads, b)  # warm-up: every worker compiles its templates once
            a, c = Tally(), Tally()
            for r in range(args.rounds):
                order = [(a, app.port, path, headers, body), (c, ceiling.port, ceiling_path, {}, None)]
                for tally, port, p, h, b in (order if r % 2 == 0 else order[::-1]):
                    tally.add(*drive(port, p, h, args.seconds, args.threads, b))
            print(f"  {name}: app {a.rate:.1f} req/s, ceiling {c.rate:.1f} req/s, ratio {a.rate / c.rate:.2f}",
                  flush=True)
            rows.append((name, a, c, len(queries[name])))
        return rows
    finally:
        app.stop()
        ceiling.stop()
        shutil.rmtree(work, ignore_errors=True)


# --- the database ------------------------------------------------------------------------------------------
def ensure_seeded(url, units, cases):
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from app import create_app, demo, sync_security
    from app.extensions import db
    from bench.pages import bulk_seed
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if inspect(db.engine).has_table("bench_seeded"):
            done = db.session.execute(text("SELECT units, cases FROM bench_seeded")).first()
            if done == (units, cases):
                # A database seeded before the latest migrations: bring its schema (and roles) up to date.
                print(f"reusing {url} ({units} units, {cases} cases); upgrading its schema", flush=True)
                t0 = time.perf_counter()
                upgrade()
                sync_security(app)
                print(f"schema up to date in {time.perf_counter() - t0:.0f} s", flush=True)
                return app
            sys.exit(f"{url} holds another seed {tuple(done) if done else ''}: give another --url or remove it")
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # WAL lasts (readers never wait for a writer); speed only while seeding
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        upgrade()
    sync_security(app)
    with app.app_context():
        t0 = time.perf_counter()
        demo.seed()
        if db.engine.dialect.name == "sqlite":
            db.session.connection().exec_driver_sql("PRAGMA synchronous=OFF")
        print(f"seeding {units} units and {cases} cases into {url}", flush=True)
        bulk_seed(db, units, cases, say=lambda m: print(m, flush=True))
        db.session.execute(text("CREATE TABLE bench_seeded (units INTEGER, cases INTEGER)"))
        db.session.execute(text("INSERT INTO bench_seeded VALUES (:u, :c)"), {"u": units, "c": cases})
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # the statistics a live database has (PostgreSQL's autovacuum keeps them)
        print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    return app


def capture(app, pages):
    """{page: [(sql, parameters)]}: the data statements of one request to each page, through the product."""
    from sqlalchemy import event

    from app.extensions import db
    app.config["WTF_CSRF_ENABLED"] = False  # the test client posts the sign-in form without a token
    client = app.test_client()
    statements = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, *rest: statements.append((sql, params)))
    out = {}
    for name, user, path, form in pages:
        if user:
            landed = client.post("/login/", data={"username": user, "password": PASSWORD}, follow_redirects=True)
            assert 'id="logout-form"' in landed.get_data(as_text=True), f"{user} could not sign in"
        ask = (lambda: client.post(path, data=form)) if form is not None else (lambda: client.get(path))
        ask()
        statements.clear()
        assert ask().status_code == 200, path
        out[name] = [(sql, params) for sql, params in statements if _DATA.search(sql)]
        if user:
            client.post("/logout/")
    return out


class PgCluster:
    """A throwaway PostgreSQL cluster of the bench's own (its data kept for the next run), on a free port."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.socket = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.port = free_port()

    def _pg(self, *cmd):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(prefix + [str(self.bin / cmd[0]), *cmd[1:]], check=True, stdout=subprocess.DEVNULL)

    def start(self):
        if os.getuid() == 0:
            shutil.chown(self.socket, "postgres")
        if not (self.dir / "data" / "PG_VERSION").exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            if os.getuid() == 0:
                shutil.chown(self.dir, "postgres")
            self._pg("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--locale=C.UTF-8")
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start", "-o",
                 f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket} -c shared_buffers=256MB")
        self.running = True
        exists = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "-qtAc", "SELECT 1 FROM pg_database WHERE datname = 'registry'"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "registry")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/registry"

    def stop(self):
        if getattr(self, "running", False):
            self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
            self.running = False
        shutil.rmtree(self.socket, ignore_errors=True)


# --- the servers and the load ------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the project's settings, 2 workers, on a free loopback port."""

    def __init__(self, target, env, log):
        self.port = free_port()
        self.log = open(log, "wb")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
             target], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, path, timeout=120):
        end = time.time() + timeout
        while time.time() < end:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited: see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        sys.exit(f"gunicorn did not answer on {self.port}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _cookie(response, jar):
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _eq, rest = value.partition("=")
            jar[key] = rest.split(";")[0]
    return jar


def login(port, user):
    """Sign in through the form as a browser does; returns the Cookie header to reuse."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    page = response.read().decode()
    jar = _cookie(response, {})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token"[^>]*value="([^"]+)"', page)
    body = urlencode({"username": user, "password": PASSWORD, "csrf_token": token.group(1) if token else ""})
    conn.request("POST", "/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    response = conn.getresponse()
    response.read()
    _cookie(response, jar)
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    conn.request("GET", "/", headers={"Cookie": cookie})
    home = conn.getresponse().read().decode()
    if 'id="logout-form"' not in home:
        sys.exit(f"{user} could not sign in on the served app")
    return cookie


def visitor_form(port, path, form, headers):
    """(headers, body) to post `form` to `path` as a visitor's browser does: the session cookie and the
    CSRF token of the form's page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    page = response.read().decode()
    jar = _cookie(response, {})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not token:
        sys.exit(f"{path}: no CSRF token on the form's page")
    return ({"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
             "Content-Type": "application/x-www-form-urlencoded"},
            urlencode({**form, "csrf_token": token.group(1)}))


def check(port, path, headers, name, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST" if body else "GET", path, body=body, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200 or b"<table" not in body:
        sys.exit(f"{name}: {path} answered {response.status} without a table")


class Tally:
    def __init__(self):
        self.count, self.seconds, self.latencies = 0, 0.0, []

    def add(self, count, seconds, latencies):
        self.count += count
        self.seconds += seconds
        self.latencies += latencies

    @property
    def rate(self):
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def p50(self):
        return statistics.median(self.latencies) * 1000

    @property
    def p95(self):
        return sorted(self.latencies)[int(len(self.latencies) * 0.95)] * 1000


def drive(port, path, headers, seconds, threads, body=None):
    """`threads` keep-alive connections GET `path` until `seconds` pass, each keeping the cookies it is
    sent as a browser does; `body`: a form posted instead; (requests, elapsed, latencies).
    A request that is not answered 200 stops the bench: a fast error page must not count as speed."""
    latencies, failures = [], []
    start = time.perf_counter()
    deadline = start + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        own = dict(headers)  # this client's cookies: a browser keeps the session cookie the server re-signs
        while time.perf_counter() < deadline and not failures:
            t = time.perf_counter()
            try:
                conn.request("POST" if body else "GET", path, body=body, headers=own)
                response = conn.getresponse()
                response.read()
                if "Cookie" in own and response.getheader("Set-Cookie"):
                    own["Cookie"] = "; ".join(f"{k}={v}" for k, v in _cookie(response, dict(
                        c.split("=", 1) for c in own["Cookie"].split("; "))).items())
            except (http.client.HTTPException, ConnectionError):  # the server closed an idle keep-alive
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if response.status != 200:
                failures.append(response.status)
            mine.append(time.perf_counter() - t)
        latencies.extend(mine)
        conn.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        sys.exit(f"{path} answered {failures[0]} under load")
    return len(latencies), time.perf_counter() - start, latencies


if __name__ == "__main__":
    main()
