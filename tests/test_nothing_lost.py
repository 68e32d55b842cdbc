"""Nothing typed on the case page is lost (issue 9), in a real browser (Debian chromium).

For every section of the one case form (basic information, units, parties, materials) the clerk types
a fresh value and, without saving, does one partial action: save a party, upload a file, send the
SMS codes, 提交 with an error, reload the page. Afterwards the value is still on the page and in the
database. Before the fix each of these posted only its own part of the page and the rest was lost.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import rulebook
from app.extensions import db
from models import Case, SmsMessage

from .test_browser_desk import login
from .test_desk import find_applicable, tiny_pdf

KEY = "mortgage_first"


@pytest.fixture
def draft(page, live_server, app):
    """A new first-mortgage draft opened in the browser: (case id, case unit id, mortgagor party id)."""
    with app.app_context():
        username, keys, _unit = find_applicable(rulebook.get(KEY))
    login(page, live_server, username)
    assert page.locator("#logout-form").count() == 1
    page.goto(f"{live_server}/desk/apply/{KEY}/")
    for field, value in keys.items():
        page.fill(f"#lookup-form input[name={field}]", value)
    page.click("#lookup-btn")
    page.wait_for_url(re.compile(r"/desk/case/\d+/"))
    case_id = int(re.search(r"/desk/case/(\d+)/", page.url).group(1))
    with app.app_context():
        case = db.session.get(Case, case_id)
        mortgagor = next(p.id for p in case.parties if p.role == "mortgagor")
        return case_id, case.units[0].id, mortgagor


def _type(page, unit_row, party_id, i):
    values = {"contract": f"HT-LOST-{i}", "collateral": f"{300000 + i}.00", "phone": f"1391111000{i}",
              "new_party": f"赵六{i}"}
    page.fill("[name=case__contract_number]", values["contract"])
    page.fill(f"[name=unit__{unit_row}__collateral_value]", values["collateral"])
    page.fill(f"[name=party__{party_id}__phone]", values["phone"])
    page.fill("#party-name", values["new_party"])   # a party row begun but not complete (no ID number yet)
    return values


def _assert_kept(page, app, case_id, unit_row, party_id, values, files):
    assert page.input_value("[name=case__contract_number]") == values["contract"]
    assert page.input_value(f"[name=unit__{unit_row}__collateral_value]") == values["collateral"]
    assert page.input_value(f"[name=party__{party_id}__phone]") == values["phone"]
    assert page.input_value("#party-name") == values["new_party"]
    assert page.locator("tr[data-material=identity] .material-file").count() == files
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.form_data["contract_number"] == values["contract"]
        assert str(next(cu for cu in case.units if cu.id == unit_row).data["collateral_value"]) == values["collateral"]
        assert next(p for p in case.parties if p.id == party_id).phone == values["phone"]
        assert case.form_data["_pending_party"]["name"] == values["new_party"]
        assert len([m for m in case.materials if m.material_key == "identity"]) == files
        assert case.node == rulebook.for_case(case).workflow.initial


def test_every_partial_action_keeps_what_was_typed_in_every_section(page, live_server, app, draft):
    case_id, unit_row, party_id = draft
    show = f"{live_server}/desk/case/{case_id}/"

    # 1. 保存当事人 with the new party still incomplete: it is refused with its errors, the rest is kept.
    values = _type(page, unit_row, party_id, 1)
    page.click("#party-save")
    page.wait_for_load_state()
    assert page.locator("#party-form .field-error").count() >= 1
    _assert_kept(page, app, case_id, unit_row, party_id, values, files=0)

    # 2. An upload (choosing the file sends it).
    values = _type(page, unit_row, party_id, 2)
    with page.expect_navigation():
        page.set_input_files("#file-identity", files=[{"name": "身份证.pdf", "mimeType": "application/pdf",
                                                       "buffer": tiny_pdf(f"lost{case_id}")}])
    _assert_kept(page, app, case_id, unit_row, party_id, values, files=1)

    # 3. The SMS codes to every party; the code goes to the phone on record, naming the number just typed.
    values = _type(page, unit_row, party_id, 3)
    page.click("#send-codes-btn")
    page.wait_for_load_state()
    _assert_kept(page, app, case_id, unit_row, party_id, values, files=1)
    with app.app_context():
        typed = f'{values["phone"][:3]}****{values["phone"][-4:]}'
        assert db.session.scalar(select(SmsMessage).where(SmsMessage.purpose == "case_confirm",
                                                          SmsMessage.body.contains(typed))) is not None

    # 4. 提交 refused (materials and the debtor's confirmation are missing): the draft kept everything.
    values = _type(page, unit_row, party_id, 4)
    page.click("#event-submit")
    page.wait_for_load_state()
    assert page.locator(".alert-danger").count() >= 1
    assert "申请原因为必填项" not in page.content()
    _assert_kept(page, app, case_id, unit_row, party_id, values, files=1)

    # 5. A reload: the autosave has kept it (the bar says 已保存 hh:mm).
    values = _type(page, unit_row, party_id, 5)
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"已保存 \d\d:\d\d"))
    page.goto(show)
    _assert_kept(page, app, case_id, unit_row, party_id, values, files=1)


def test_leaving_with_unsaved_changes_asks_first(page, live_server, app, draft):
    case_id, unit_row, _party = draft
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.fill("[name=case__contract_number]", "HT-LEAVE")
    page.evaluate("() => { window.__stay = true; }")
    # A navigation attempt before the debounced autosave: the browser asks (beforeunload) and, dismissed, stays.
    page.evaluate("() => { location.href = '/desk/office/todo'; }")
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.evaluate("window.__stay") is True


def test_on_a_phone_the_actions_stay_in_reach(page, live_server, app, draft):
    page.set_viewport_size({"width": 390, "height": 800})
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for button in ("#save-btn", "#event-submit"):
        box = page.locator(button).bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 800, (button, box)
        assert page.evaluate("(b) => document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2)"
                             ".closest('button').id", box) == button[1:]
