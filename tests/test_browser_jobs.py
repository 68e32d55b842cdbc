"""我的任务 in the browser with the CSP on: the job page polls the status JSON (app/static/js/jobs.js), moves
its progress bar while the job runs and shows the result link once it is done."""
import threading

from playwright.sync_api import expect

from app import jobs
from app.extensions import db as _db

from .jobs_helpers import operator
from .test_browser_desk import login

GATE = threading.Event()


@jobs.register("test_gated", "test job")
def _gated(job, params):
    """A job that stays at 1 of 4 until the test lets it go on."""
    job.progress(1, 4)
    if not GATE.wait(20):
        raise jobs.JobFailed("the test never let the job go on")
    return "result.csv", "编号,坐落\n".encode()


def test_the_job_page_moves_its_bar_then_offers_the_result(page, live_server, app):
    problems, missing = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    login(page, live_server, "bank_a_op")
    with app.test_request_context():
        job_id = jobs.submit("test_gated", {}, operator(_db, "bank_a_op"), total=4).id
    try:
        page.goto(f"{live_server}/jobs/{job_id}")
        expect(page.locator("#job-bar")).to_have_text("25%", timeout=15000)   # polled while the job runs
        expect(page.locator("#job-message")).to_have_text("正在处理：1 / 4")
        expect(page.locator("#job-result")).to_be_hidden()
    finally:
        GATE.set()
    expect(page.locator("#job-state")).to_have_text("已完成", timeout=15000)
    expect(page.locator("#job-bar")).to_have_text("100%")
    link = page.locator("#job-result-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"/jobs/{job_id}/result"
    assert problems == [], problems   # nothing refused by the Content-Security-Policy, no script error
    assert [u for u in missing if "/jobs" in u] == [], missing
