"""列设置 and 导出 Excel in the browser with the CSP on: the control opens without a script, the saved
choice hides a column of the list, and the export button downloads the list's workbook with the same columns."""
import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import factories

from .test_browser_desk import login


def test_column_settings_hide_a_column_and_the_export_follows(page, live_server, db):
    number = factories.case(db, "bank_a_op").number
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    login(page, live_server, "bank_a_admin")
    page.goto(f"{live_server}/caseview/list/")
    expect(page.locator("table thead th").filter(has_text="申请人")).to_have_count(1)
    page.locator(".list-columns > summary").click()
    form = page.locator(".list-columns-form")
    expect(form).to_be_visible()
    form.locator("input[value=applicant]").uncheck()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".alert").filter(has_text="列设置已保存")).to_have_count(1)
    expect(page.locator("table thead th").filter(has_text="申请人")).to_have_count(0)
    expect(page.locator("table thead th").filter(has_text="当前环节")).to_have_count(1)
    with page.expect_download() as info:
        page.locator("a.list-export").click()
    path = info.value.path()
    ws = load_workbook(io.BytesIO(open(path, "rb").read())).active
    header = [c.value for c in ws[1]]
    assert "申请人" not in header and "当前环节" in header and len(header) == 7, header
    assert number in {row[0].value for row in ws.iter_rows(min_row=2)}
    assert problems == [], problems
