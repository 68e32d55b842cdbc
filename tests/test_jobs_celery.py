"""Background jobs through the production backend: a real redis-server and a real Celery worker process
(`celery -A app.celery_app worker`), both started here on free ports and temporary folders, on this
suite's database. A batch print submitted through the app is run by the worker; the page's status
endpoint shows it done; the result downloads."""
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from pypdf import PdfReader

from app.jobs import broker

from .conftest import DATABASE_URL, TMP
from .jobs_helpers import cases_of, job_id_of, settings, wait_for

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    server = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    assert server, "redis-server is not installed: the Celery job test needs it (apt-get install redis-server)"
    port, folder = _free_port(), tempfile.mkdtemp(prefix="registry-redis-")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    end = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert proc.poll() is None and time.monotonic() < end, "redis-server did not start"
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def worker(redis_url):
    log = TMP / f"celery-worker-{os.getpid()}.log"
    env = {**os.environ, "REGISTRY_BROKER_URL": redis_url, "REGISTRY_DATABASE_URL": DATABASE_URL,
           "REGISTRY_DATA_DIR": str(TMP / "files"), "REGISTRY_SANDBOX": "1", "REGISTRY_DEMO": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "app.celery_app", "worker", "--pool=solo",
                                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=info",
                                 "-n", f"test-{os.getpid()}@localhost"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    yield proc, log
    proc.send_signal(signal.SIGQUIT)   # cold shutdown: nothing is left to finish
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_batch_print_runs_on_a_celery_worker_through_redis_and_its_result_downloads(client, db, app, worker,
                                                                                       redis_url):
    proc, log = worker
    cases = cases_of(db, "bank_a_op", 3)
    client.auth.login("bank_a_op")
    # 3 cases print as a job here (faster than 11); afterwards the suite is back on the in-process backend
    with settings(app, BROKER_URL=redis_url, JOB_PRINT_CASES=1):
        job_id = job_id_of(client.post("/desk/office/print", data={"case_id": [str(c.id) for c in cases]}))
    assert app.extensions.get("registry_local_jobs") is None or app.extensions["registry_local_jobs"].queue.empty()
    status = wait_for(client, job_id, timeout=60)
    assert proc.poll() is None, log.read_text(errors="replace")
    assert status["state"] == "done", (status, log.read_text(errors="replace"))
    assert (status["done"], status["total"]) == (3, 3) and status["state_label"] == "已完成"
    # The worker process ran it (its log names the task and the job), through the test's own Redis.
    worker_log = log.read_text(errors="replace")
    assert broker.TASK in worker_log and f"registry job {job_id} ended" in worker_log, worker_log[-2000:]
    assert redis.Redis.from_url(redis_url).llen(broker.QUEUE) == 0
    r = client.get(status["result_url"])
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    assert len(PdfReader(io.BytesIO(r.data)).pages) >= 3   # every case's documents are in the one PDF
