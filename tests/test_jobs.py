"""Background jobs on the in-process backend (no broker: `make run` and this suite): a 600-row Excel import
runs as a job to 600/600; a bad row 599 or a failure after the rows were written leaves nothing; another
operator's job is not found; the status JSON and the pages speak Chinese; an unreachable broker refuses
the submit loudly and keeps nothing."""
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import jobs
from app.extensions import db as _db
from models import AuditLog, Case, Job

from .jobs_helpers import case_with_new_units, cases_of, job_id_of, operator, settings, wait_for
from .test_desk_batch import _filled


def _workbook(template_bytes, business, bad_row=None):
    """The template with every row filled as the clerk does (test_desk_batch), one bad money cell if asked."""
    return _filled(template_bytes, business, bad_row)[0]


@pytest.fixture(scope="module")
def import_case(app):
    with app.app_context():
        business, case = case_with_new_units(_db, "bank_a_op", 600)
        return business, case.id


def _import(client, case_id, data):
    return client.post(f"/desk/batch/{case_id}/import", data={"workbook": (io.BytesIO(data), "units.xlsx")},
                       content_type="multipart/form-data")


def _filled_units(case_id):
    _db.session.expire_all()
    return sum(1 for cu in _db.session.get(Case, case_id).units if cu.data)


def test_a_bad_row_599_fails_the_import_job_in_chinese_and_imports_nothing(client, db, import_case):
    business, case_id = import_case
    for cu in db.session.get(Case, case_id).units:   # whatever ran before: no unit holds data now
        cu.data = {}
    db.session.commit()
    client.auth.login("bank_a_op")
    template = client.get(f"/desk/batch/{case_id}/template").data
    job_id = job_id_of(_import(client, case_id, _workbook(template, business, bad_row=599)))
    status = wait_for(client, job_id)
    assert status["state"] == "failed" and status["state_label"] == "失败"
    assert "第 599 行" in status["error"], status["error"]
    assert status["message"].startswith("任务失败：")
    assert _filled_units(case_id) == 0
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "第 599 行" in page and "失败" in page and "下载结果" in page  # the link is there, hidden
    assert 'id="job-result" hidden' in page


def test_an_import_of_600_rows_runs_as_a_job_to_600_of_600_and_every_row_is_there(client, db, import_case):
    business, case_id = import_case
    client.auth.login("bank_a_op")
    template = client.get(f"/desk/batch/{case_id}/template").data
    job_id = job_id_of(_import(client, case_id, _workbook(template, business)))
    queued = db.session.get(Job, job_id)
    assert queued.kind == "excel_import" and queued.total == 600 and queued.user_id is not None
    status = wait_for(client, job_id)
    assert status["state"] == "done", status
    assert (status["done"], status["total"], status["percent"]) == (600, 600, 100)
    assert _filled_units(case_id) == 600
    required = [f.field for f in business.form.per_unit if f.required]
    assert all(all(cu.data.get(n) not in (None, "") for n in required) for cu in db.session.get(Case, case_id).units)
    # start and finish audited, as the operator who started it
    entries = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "Job",
                                                        AuditLog.object_id == str(job_id))).all()
    assert {e.action for e in entries} == {"job_start", "job_finish"}
    assert {e.username for e in entries} == {"bank_a_op"}
    # the uploaded workbook is not kept once the job is over
    assert not jobs.input_path(db.session.get(Job, job_id)).exists()


@jobs.register("test_write_then_fail", "test job")
def _write_then_fail(job, params):
    """Writes every unit's data, stages a result, then fails: nothing of it may remain."""
    case = _db.session.get(Case, params["case_id"])
    for cu in case.units:
        cu.data = {"written": "by the failing job"}
    _db.session.flush()
    raise RuntimeError("boom after writing")


def test_a_job_failing_after_it_wrote_leaves_no_row_and_a_chinese_message(client, db, app, import_case):
    _business, case_id = import_case
    before = {cu.id: dict(cu.data) for cu in db.session.get(Case, case_id).units}
    client.auth.login("bank_a_op")
    with app.test_request_context():
        job = jobs.submit("test_write_then_fail", {"case_id": case_id}, operator(_db, "bank_a_op"), total=1)
        job_id = job.id
    status = wait_for(client, job_id)
    assert status["state"] == "failed"
    assert status["error"] == "任务因意外错误中止，未保存任何数据，请重试或联系系统管理员"
    assert "boom" not in status["error"]
    db.session.expire_all()
    assert {cu.id: dict(cu.data) for cu in db.session.get(Case, case_id).units} == before


@pytest.fixture
def print_jobs(app):
    """Batch prints of more than one case run as jobs here (REGISTRY_JOB_PRINT_CASES, 10 by default): the
    same path as 11 cases, rendered faster."""
    with settings(app, JOB_PRINT_CASES=1):
        yield


def test_another_operators_job_is_not_found_and_the_admin_sees_it(client, db, print_jobs):
    cases = cases_of(db, "bank_a_op", 2)
    client.auth.login("bank_a_op")
    job_id = job_id_of(client.post("/desk/office/print", data={"case_id": [str(c.id) for c in cases]}))
    assert wait_for(client, job_id)["state"] == "done"
    assert client.get(f"/jobs/{job_id}/result").data[:4] == b"%PDF"
    for other in ("bank_b_op", "bank_b_admin", "bank_a_op2", "reviewer"):
        client.auth.login(other)
        for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/status", f"/jobs/{job_id}/result"):
            assert client.get(url).status_code == 404, (other, url)
        listing = client.get("/jobs/")
        assert listing.status_code == 200 and f'data-job="{job_id}"' not in listing.get_data(as_text=True)
    client.auth.login("admin")
    assert client.get(f"/jobs/{job_id}/status").get_json()["state"] == "done"
    assert f'data-job="{job_id}"' in client.get("/jobs/").get_data(as_text=True)


def test_the_status_json_and_the_pages_speak_chinese(client, db, print_jobs):
    cases = cases_of(db, "bank_a_op", 2)
    client.auth.login("bank_a_op")
    r = client.post("/desk/office/print", data={"case_id": [str(c.id) for c in cases]})
    job_id = job_id_of(r)
    landed = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "任务已提交，本页显示处理进度" in landed and "批量打印" in landed
    assert 'src="/static/js/jobs.js"' in landed and "<script>" not in landed
    status = wait_for(client, job_id)
    assert status["kind"] == "批量打印" and status["state_label"] == "已完成"
    assert status["message"] == "已完成：2 / 2" and status["result_name"] == "cases.pdf"
    assert status["result_url"] == f"/jobs/{job_id}/result"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "已完成" in page and "下载结果" in page and f'href="/jobs/{job_id}/result"' in page
    for word in ("None", "True", "False", "done", "queued"):
        assert f">{word}<" not in page
    listing = client.get("/jobs/").get_data(as_text=True)
    assert "我的任务" in listing and "批量打印" in listing and "已完成" in listing and "提交人" in listing
    assert operator(db, "bank_a_op").get_full_name() in listing   # who started it, by name as written
    assert 'href="/jobs/"' in client.get("/desk/office/todo").get_data(as_text=True)  # in the nav


def test_a_few_cases_still_print_in_the_request(client, db):
    cases = cases_of(db, "bank_a_op", 2)
    client.auth.login("bank_a_op")
    before = db.session.scalar(select(func.count(Job.id)))
    r = client.post("/desk/office/print", data={"case_id": [str(c.id) for c in cases]})
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    assert db.session.scalar(select(func.count(Job.id))) == before


def test_eleven_cases_print_as_a_job_by_default(client, db):
    cases = cases_of(db, "bank_a_op", 11)
    client.auth.login("bank_a_op")
    job = db.session.get(Job, job_id_of(client.post("/desk/office/print",
                                                    data={"case_id": [str(c.id) for c in cases]})))
    assert job.kind == "batch_print" and job.total == 11 and job.params["case_ids"] == [c.id for c in cases]
    assert wait_for(client, job.id)["state"] == "done"


def test_an_unreachable_broker_refuses_the_submit_in_chinese_and_keeps_nothing(client, db, app):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cases = cases_of(db, "bank_a_op", 11)
    client.auth.login("bank_a_op")
    before = db.session.scalar(select(func.count(Job.id)))
    with settings(app, BROKER_URL=f"redis://127.0.0.1:{port}/0"):
        r = client.post("/desk/office/print", data={"case_id": [str(c.id) for c in cases]}, follow_redirects=True)
    assert "任务队列无法连接，任务未提交" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Job.id))) == before


def test_an_unreachable_broker_keeps_no_uploaded_workbook_either(client, db, app, import_case):
    import socket
    business, case_id = import_case
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client.auth.login("bank_a_op")
    template = client.get(f"/desk/batch/{case_id}/template").data
    folder = Path(app.config["DATA_DIR"]) / "jobs"
    kept = {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
    before = db.session.scalar(select(func.count(Job.id)))
    with settings(app, BROKER_URL=f"redis://127.0.0.1:{port}/0"):
        r = _import(client, case_id, _workbook(template, business))
    assert r.status_code == 302 and f"/desk/case/{case_id}" in r.headers["Location"]
    assert "任务队列无法连接" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Job.id))) == before
    assert {p for p in folder.rglob("*") if p.is_file()} == kept


def test_confirmation_codes_are_sent_by_a_job_to_the_phones_on_record(client, db, app):
    from models import OneTimeCode, SmsMessage

    from .test_party_confirmation import draft, register_phone
    case_id, mortgagor_id = draft(client, db)
    case = db.session.get(Case, case_id)
    mortgagor = next(p for p in case.parties if p.id == mortgagor_id)
    phone = register_phone(db, mortgagor)
    with app.test_request_context():
        job_id = jobs.submit("send_confirmations", {"case_id": case_id}, case.applicant, total=1).id
    status = wait_for(client, job_id)
    assert status["state"] == "done" and status["kind"] == "短信发送确认码", status
    db.session.expire_all()
    sms = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
    assert sms is not None and sms.purpose == "case_confirm" and "******" in sms.body
    assert db.session.scalar(select(func.count(OneTimeCode.id)).where(OneTimeCode.phone == phone)) == 1
    # the job's params never hold the code
    assert set(db.session.get(Job, job_id).params) == {"case_id", "_locale"}


def test_a_large_export_is_a_job_within_the_users_scope(client, db, app):
    """Above REGISTRY_JOB_EXPORT_ROWS (lowered here) the 证书/证明 export runs as a job, as the operator:
    the workbook holds bank A's proofs and none of bank B's."""
    from models import Unit

    from .test_proofs import _proof
    units = db.session.scalars(select(Unit).order_by(Unit.id.desc()).limit(3)).all()
    mine = {_proof(db, "bank_a_op", units[0], "湘(2026)长沙市不动产证明第9200001号", "欧阳晓岚").number,
            _proof(db, "bank_a_op", units[1], "湘(2026)长沙市不动产证明第9200002号", "司马青衫").number}
    theirs = _proof(db, "bank_b_op", units[2], "湘(2026)长沙市不动产证明第9200003号", "诸葛明").number
    client.auth.login("bank_a_op")
    with settings(app, JOB_EXPORT_ROWS=1):
        job_id = job_id_of(client.get("/proofs/export.xlsx", query_string={"q": "第920000"}))
    status = wait_for(client, job_id)
    assert status["state"] == "done" and status["kind"] == "证书/证明导出" and status["total"] == 2, status
    ws = load_workbook(io.BytesIO(client.get(status["result_url"]).data)).active
    numbers = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert numbers == mine and theirs not in numbers


def test_submit_with_many_parties_to_confirm_sends_their_codes_from_a_job(client, db, app):
    """At 提交 a case waits in 待确认 and codes go to every unconfirmed party: above REGISTRY_JOB_SMS_MESSAGES
    (lowered here) a job sends them and the operator lands on its page."""
    from app import rulebook
    from app.services import party_confirmation
    from models import CaseParty, SmsMessage

    from .test_desk import apply_through_views
    _username, case = apply_through_views(client, rulebook.get("mortgage_first"))
    confirming = [p for p in case.parties if p.confirmed_at is not None]
    assert confirming, "the business asks some party to confirm"
    for p in confirming:
        p.confirmed_at = None
    db.session.commit()
    phones = {party_confirmation.phone_on_record(p) for p in confirming}
    before = db.session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.phone.in_(phones)))
    with settings(app, JOB_SMS_MESSAGES=0, REGISTRY_CODE_RESEND_SECONDS=0):
        r = client.post(f"/desk/case/{case.id}/fire", data={"event": "submit", "version": str(case.version)})
        status = wait_for(client, job_id_of(r))
    assert status["state"] == "done" and (status["done"], status["total"]) == (len(confirming), len(confirming))
    db.session.expire_all()
    assert db.session.get(Case, case.id).node == "confirming"
    after = db.session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.phone.in_(phones)))
    assert after - before == len(confirming)
    assert all(db.session.get(CaseParty, p.id).confirmed_at is None for p in confirming)
