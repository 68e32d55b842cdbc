"""The production server: gunicorn with gunicorn.conf.py serving wsgi:app, on a database migrated with
the documented command; /healthz answers 200 when the database does, 503 when it cannot be reached,
and every request is logged on stdout."""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update({"REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(tmp_path / "files"),
                "REGISTRY_DEMO": "1", "REGISTRY_SANDBOX": "1", "REGISTRY_CA_TRUST_FILE": str(tmp_path / "ca.pem"),
                "PYTHONPATH": str(ROOT)})
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PAYMENT_SECRET", "TAX_SECRET"):  # never the dev defaults
        env[f"REGISTRY_{name}"] = secrets.token_hex(32)
    return env


def _start(env):
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}",
                             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _get(url, deadline):
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.headers, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.headers, json.loads(e.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


def test_gunicorn_serves_healthz_200_on_a_migrated_database_and_503_without_one(tmp_path):
    good = _env(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}")
    migrate = subprocess.run([str(BIN / "flask"), "--app", "run", "db", "upgrade"], cwd=ROOT, env=good,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    broken = {**good, "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-dir' / 'registry.db'}"}
    up, up_url = _start(good)
    down, down_url = _start(broken)
    try:
        deadline = time.monotonic() + 120
        status, headers, body = _get(f"{up_url}/healthz", deadline)
        assert (status, body) == (200, {"status": "ok"})
        assert headers["Cache-Control"] == "no-store"
        status, headers, body = _get(f"{down_url}/healthz", deadline)
        assert (status, body) == (503, {"status": "unavailable"})
    finally:
        up_log, down_log = _stop(up), _stop(down)
    assert '"GET /healthz HTTP/1.1" 200' in up_log, up_log[-2000:]   # the access log goes to stdout
    assert '"GET /healthz HTTP/1.1" 503' in down_log, down_log[-2000:]
    assert "gthread" in up_log  # the worker class of gunicorn.conf.py
