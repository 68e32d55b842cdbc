"""导出 Excel on every list and 列设置 (views/exporting.py): the current filter and visible columns in the
page's words, formula-safe, streamed, scoped like the list, audited; a background job above
REGISTRY_JOB_EXPORT_ROWS; batch export of ticked cases; the import template's typed values as text."""
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.services import excel
from models import AuditLog, ListSetting, Party
from tests import factories

from .jobs_helpers import job_id_of, settings, wait_for

FORMULA = '=HYPERLINK("http://x","y")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data)).active


def values(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def no_formula(ws):
    return all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def last_audit(db, action):
    db.session.expire_all()
    return db.session.scalar(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc()))


@pytest.fixture
def formula_party(db):
    party = Party(kind="person", name=FORMULA, id_type="1", id_number="11010519491231002X")
    existing = db.session.scalar(select(Party).where(Party.id_number == party.id_number))
    if existing is not None:
        existing.name = FORMULA
        db.session.commit()
        return existing
    db.session.add(party)
    db.session.commit()
    return party


def test_a_party_named_as_a_formula_exports_as_text(client, db, formula_party):
    client.auth.login("reviewer")
    list_page = client.get("/partyview/list/").get_data(as_text=True)
    button = re.search(r'<a class="btn btn-sm btn-default list-export" href="([^"]+)"><i[^>]*></i>\s*([^<]+)</a>', list_page)
    assert button and button.group(1).startswith("/partyview/export.xlsx"), "the list offers its export"
    assert button.group(2).replace(" ", "").strip() == "导出Excel", button.group(2)
    ws = sheet(client.get("/partyview/export.xlsx", query_string={"_flt_0_name": FORMULA}))
    rows = values(ws)
    assert rows[0] == ["名称", "类型", "证件类型", "证件号", "手机号"], rows[0]
    assert len(rows) == 2, rows
    cell = ws.cell(row=2, column=1)
    assert cell.value == FORMULA and cell.data_type == "s" and cell.quotePrefix, (cell.value, cell.data_type)
    assert rows[1][1] == "个人" and rows[1][2] == "身份证", rows[1]   # words, not codes
    assert no_formula(ws)
    entry = last_audit(db, "export")
    assert entry is not None and entry.username == "reviewer" and entry.summary.endswith("导出 1 行"), entry.summary


def test_every_excel_writer_makes_formula_starts_text():
    for typed in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        ws = load_workbook(io.BytesIO(excel.stream(["h"], [[typed]]))).active
        cell = ws.cell(row=2, column=1)
        assert cell.value == typed and cell.data_type == "s" and cell.quotePrefix, typed
    ws = load_workbook(io.BytesIO(excel.stream(["h"], [["plain", 12]]))).active
    assert ws.cell(row=2, column=1).quotePrefix is False and ws.cell(row=2, column=2).value == 12


def test_the_import_template_writes_a_typed_formula_as_text(app):
    """The batch template (views/desk_batch.py) carries the units' typed values: text, never a live formula."""
    from app import rulebook
    with app.test_request_context():
        business = next(b for b in rulebook.all_businesses() if list(b.form.per_unit))
        fields = list(business.form.per_unit)
        data = excel.build_template(business, [["UNIT1", FORMULA] + [None] * (len(fields) - 1)])
    ws = load_workbook(io.BytesIO(data)).active
    cell = ws.cell(row=3, column=2)
    assert cell.value == FORMULA and cell.data_type == "s"
    assert no_formula(ws)


def test_the_case_list_export_is_the_operators_institution_only(client, db):
    mine = factories.case(db, "bank_a_op").number
    theirs = factories.case(db, "bank_b_op").number
    client.auth.login("bank_a_op")
    rows = values(sheet(client.get("/caseview/export.xlsx")))
    assert rows[0][:6] == ["编号", "案卷编号", "业务", "机构", "申请人", "当前环节"] and len(rows[0]) == 8, rows[0]
    numbers = {r[0] for r in rows[1:]}
    assert mine in numbers and theirs not in numbers


def test_booleans_read_yes_or_no_and_times_to_the_minute(client, db):
    client.auth.login("reviewer")
    rows = values(sheet(client.get("/unitview/export.xlsx")))
    header = rows[0]
    mortgaged = [r[header.index("已抵押")] for r in rows[1:]] if "已抵押" in header else None
    assert mortgaged, header
    assert set(mortgaged) <= {"是", "否"} and "否" in mortgaged
    client.auth.login("admin")
    rows = values(sheet(client.get("/auditlogview/export.xlsx")))
    times = [r[0] for r in rows[1:]]
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", t) for t in times), times[:3]


def test_column_settings_are_kept_per_user_and_honoured_by_the_list_and_its_export(client, db):
    client.auth.login("bank_a_op")
    r = client.post("/caseview/columns", data={"column": ["number", "node"], "next": "/caseview/list/"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/caseview/list/")
    user = factories.user(db, "bank_a_op")
    db.session.expire_all()
    setting = db.session.scalar(select(ListSetting).where(ListSetting.user_id == user.id,
                                                          ListSetting.list_key == "CaseView"))
    assert setting is not None and setting.columns == ["number", "node"]
    page = client.get("/caseview/list/").get_data(as_text=True)
    headers = re.findall(r"<th><a href=[^>]*>([^<]+)<i", page) + re.findall(r"<th>([^<]+)</th>", page)
    assert "列设置" in page
    assert not any("更新" in h for h in headers), headers
    rows = values(sheet(client.get("/caseview/export.xlsx")))
    assert len(rows[0]) == 2, rows[0]
    assert last_audit(db, "list_columns").username == "bank_a_op"
    # another user's list is untouched
    client.auth.login("bank_a_admin")
    assert len(values(sheet(client.get("/caseview/export.xlsx")))[0]) == 8
    # an outside "next" is not followed
    client.auth.login("bank_a_op")
    for outside in ("//evil.example/", "/\\evil.example/", "/\t/evil.example/", "https://evil.example/"):
        r = client.post("/caseview/columns", data={"column": [], "next": outside})
        assert r.status_code == 302 and "evil" not in r.headers["Location"], outside
    db.session.expire_all()
    assert db.session.scalar(select(ListSetting).where(ListSetting.user_id == user.id)) is None


def test_above_the_threshold_the_case_list_export_is_a_job_with_progress(client, db, app, monkeypatch):
    for _ in range(3):
        factories.case(db, "bank_a_op")
    theirs = factories.case(db, "bank_b_op").number
    modes = []
    real = excel.Workbook

    def spy(*args, **kwargs):
        modes.append(kwargs.get("write_only", False))
        return real(*args, **kwargs)
    monkeypatch.setattr(excel, "Workbook", spy)
    client.auth.login("bank_a_op")
    with settings(app, JOB_EXPORT_ROWS=2):
        job_id = job_id_of(client.get("/caseview/export.xlsx"))
    status = wait_for(client, job_id)
    assert status["state"] == "done" and status["kind"].startswith("导出："), status
    assert status["total"] >= 3 and status["done"] == status["total"], status
    ws = load_workbook(io.BytesIO(client.get(status["result_url"]).data)).active
    numbers = [r[0] for r in values(ws)[1:]]
    assert len(numbers) == status["total"] and theirs not in numbers
    assert modes == [True], "the export is written by openpyxl's write-only (streaming) workbook"
    assert last_audit(db, "export").username == "bank_a_op"


def test_at_or_below_the_threshold_the_export_stays_in_the_request(client, db, app):
    factories.case(db, "bank_a_op")
    client.auth.login("bank_a_op")
    with settings(app, JOB_EXPORT_ROWS=100000):
        r = client.get("/caseview/export.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX


def test_the_desk_exports_the_ticked_cases_and_its_columns(client, db):
    a, b, c = (factories.case(db, "bank_a_op") for _ in range(3))
    theirs = factories.case(db, "bank_b_op")
    client.auth.login("bank_a_op")
    page = client.get("/desk/office/todo").get_data(as_text=True)
    assert 'id="batch-export"' in page and "导出所选" in page
    r = client.post("/desk/office/todo/export.xlsx", data={"case_id": [str(a.id), str(c.id), str(theirs.id)]})
    rows = values(sheet(r))
    assert rows[0][0] == "编号"
    assert {row[0] for row in rows[1:]} == {a.number, c.number}
    # nothing ticked: a message, not an empty file
    r = client.post("/desk/office/todo/export.xlsx", data={})
    assert r.status_code == 302
    # column settings of the desk list: the list and the export show the chosen ones
    client.post("/desk/office/todo/columns", data={"column": ["number", "node"]})
    rows = values(sheet(client.get("/desk/office/todo/export.xlsx")))
    assert rows[0] == ["编号", "当前环节"], rows[0]
    assert b.number in {row[0] for row in rows[1:]}
    page = client.get("/desk/office/todo").get_data(as_text=True)
    assert "<th>业务</th>" not in page and "<th>当前环节</th>" in page
    assert client.get("/desk/office/nothing/export.xlsx").status_code == 404


def test_the_review_queue_exports_its_rows(client, db):
    from views.review import reviewer_nodes
    client.auth.login("reviewer")
    with client.application.test_request_context():
        node = reviewer_nodes()[0][0]
    rows = values(sheet(client.get("/review/export.xlsx", query_string={"node": node})))
    assert rows[0] == ["编号", "业务", "机构", "不动产", "应缴（元）", "已缴（元）", "契税", "提交时间", "办结时限"], rows[0]
    client.post("/review/columns", data={"column": ["institution", "fees"]})
    rows = values(sheet(client.get("/review/export.xlsx", query_string={"node": node})))
    assert rows[0] == ["编号", "机构", "应缴（元）", "已缴（元）"], rows[0]
    page = client.get("/review/", query_string={"node": node}).get_data(as_text=True)
    table = page[page.index('id="review-queue"'):]
    assert re.findall(r"<th>([^<]*)</th>", table[:table.index("</tr>")]) == ["编号", "机构", "应缴/已缴"]


def test_an_outsider_cannot_export_a_list_they_cannot_see(client):
    client.auth.login("public")
    assert client.get("/caseview/export.xlsx").status_code in (302, 403)
    assert client.post("/caseview/columns", data={"column": ["number"]}).status_code in (302, 403)
    client.auth.login("bank_a_op")
    assert client.get("/auditlogview/export.xlsx").status_code in (302, 403)


def test_the_proof_list_keeps_its_chosen_columns_in_the_page_and_the_export(client, db):
    from models import Unit

    from .test_proofs import _proof
    unit = db.session.scalars(select(Unit).order_by(Unit.id.desc()).limit(1)).one()
    cert = _proof(db, "bank_a_op", unit, "湘(2026)长沙市不动产证明第9300001号", FORMULA)
    client.auth.login("bank_a_op")
    r = client.post("/proofs/columns", data={"column": ["location", "obligors"], "next": "/proofs/?q=第930000"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/proofs/?q=%E7%AC%AC930000")
    page = client.get("/proofs/", query_string={"q": "第930000"}).get_data(as_text=True)
    table = page[page.index('id="proof-list"'):]
    assert re.findall(r"<th>([^<]*)</th>", table[:table.index("</tr>")]) == ["编号", "坐落", "抵押人/义务人", ""]
    ws = sheet(client.get("/proofs/export.xlsx", query_string={"q": "第930000"}))
    rows = values(ws)
    assert rows == [["编号", "坐落", "抵押人/义务人"], [cert.number, unit.location, FORMULA]], rows
    assert ws.cell(row=2, column=3).data_type == "s" and no_formula(ws)
