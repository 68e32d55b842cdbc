"""Time the case list's 导出 Excel at the load bench's size: 200,000 cases as a background job with progress.

    python bench/export.py [--source /work/benchdata/load-1000000-200000.sqlite] [--user admin]

The seeded database of bench/load.py is never written: it is copied (SQLite's online backup, read-only on
the source, a consistent snapshot even while another process uses it) into a temporary file, which is
migrated to this branch's head. One case is given a number typed as a formula first. Then, through
Flask's test client as --user (the Admin: every case), GET /caseview/export.xlsx: above
REGISTRY_JOB_EXPORT_ROWS it returns the job's page; the in-process backend (make run's) runs the job and
the status endpoint is polled as the page does. Prints the time from submit to done, rows/s, the
progress steps seen, the process's resident memory before and at its peak during the job, and checks the
workbook: every case once, no formula cell, the typed formula kept as text.
"""
import argparse
import io
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMULA = '=HYPERLINK("http://x","y")'


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def copy_database(source, target):
    """SQLite's backup of `source` opened read-only into `target` (the source file is not written)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="/work/benchdata/load-1000000-200000.sqlite")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    db_path = folder / "copy.sqlite"
    started = time.perf_counter()
    copy_database(args.source, db_path)
    print(f"copied {args.source} ({os.path.getsize(db_path) / 2**20:.0f} MB) in {time.perf_counter() - started:.0f} s")
    url = f"sqlite:///{db_path}"
    os.environ["REGISTRY_DATABASE_URL"] = url
    os.environ["REGISTRY_DATA_DIR"] = str(folder / "files")
    os.environ.setdefault("REGISTRY_SANDBOX", "1")
    os.environ.setdefault("REGISTRY_DEMO", "1")

    from flask_migrate import upgrade
    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from app import create_app, demo, sync_security
    from app.extensions import db
    from models import Case

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "REGISTRY_RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
    sync_security(app)
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        marked = db.session.scalar(select(Case).order_by(Case.updated_at.desc()).limit(1))
        marked.official_number = FORMULA
        db.session.commit()
    client = app.test_client()
    landed = client.post("/login/", data={"username": args.user, "password": demo.DEMO_PASSWORD}, follow_redirects=True)
    assert landed.status_code == 200 and 'id="logout-form"' in landed.get_data(as_text=True), f"{args.user} could not sign in"

    peak, stop = [rss_mb()], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)
    before = peak[0]
    threading.Thread(target=sample, daemon=True).start()
    started, cpu = time.perf_counter(), time.process_time()
    r = client.get("/caseview/export.xlsx")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"], (r.status_code, "not a job")
    job_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    steps = []
    while True:
        status = client.get(f"/jobs/{job_id}/status").get_json()
        if not steps or steps[-1] != (status["done"], status["total"]):
            steps.append((status["done"], status["total"]))
        if status["finished"]:
            break
        time.sleep(0.5)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    assert status["state"] == "done", status
    data = client.get(status["result_url"]).data
    print(f"case list export, {total:,} cases (a job, as {args.user}): {took:.1f} s submit to done, "
          f"{total / took:,.0f} rows/s; {cpu:.1f} s of CPU (all threads: {total / cpu:,.0f} rows per CPU second); "
          f"load average {os.getloadavg()[0]:.1f}; {len(steps)} progress steps seen "
          f"({', '.join(f'{d:,}/{t:,}' for d, t in steps[:3])} ... {steps[-1][0]:,}/{steps[-1][1]:,}); "
          f"workbook {len(data) / 2**20:.1f} MB")
    print(f"memory (resident, whole process): {before:.0f} MB before, peak {peak[0]:.0f} MB during the job "
          f"(+{peak[0] - before:.0f} MB, the result file held once in memory included)")
    started = time.perf_counter()
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = formulas = 0
    kept = None
    for row in ws.iter_rows(min_row=2):
        rows += 1
        for c in row:
            if c.data_type == "f":
                formulas += 1
            elif c.value == FORMULA:
                kept = c.data_type
    print(f"checked in {time.perf_counter() - started:.0f} s: {rows:,} rows, {formulas} formula cells, "
          f"the typed formula {'kept as text' if kept == 's' else 'NOT FOUND AS TEXT'}")
    assert rows == total and formulas == 0 and kept == "s"
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
