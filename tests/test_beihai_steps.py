"""The Beihai steps end to end (issue 14.7): 申明/承诺 signed with the SMS code and 网签备案合同号 checked with the
housing authority before a transfer is submitted; 水电气网过户 sent by a job with retries to the utilities'
platform; 明细表 paged, printed and exported formula-safe; 可转现列表 scoped to the bank with batch conversion;
the booking on the case and the 自助打证 code printing the certificate once at the kiosk.

The outside services run their real HTTP adapters against local stub servers on free ports (tests/stubs)."""
import io
import re
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from app import jobs, rulebook
from app.rulebook import workflow
from app.services import party_confirmation, tax, verification
from models import (AuditLog, Case, CaseDeclaration, Certificate, KioskCode, Party, Payment, PreNotice, SmsMessage,
                    UtilityTransfer)
from tests import factories
from tests.accounts_helpers import forget_request_globals
from tests.jobs_helpers import case_with_new_units
from tests.stubs import KEY_ID, SECRET
from tests.stubs.beihai import HousingAuthority, UtilitiesPlatform
from tests.test_legal import presale_units
from tests.test_workflow import _fill, _walk, free_unit


@pytest.fixture(autouse=True)
def _own_requests(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def use(monkeypatch, app, service, stub):
    """Switch the service to its real adapter, pointed at the stub."""
    for key, value in {"ADAPTER": "http", "URL": stub.url, "KEY_ID": KEY_ID, "SECRET": SECRET}.items():
        monkeypatch.setitem(app.config, f"{service}_{key}", value)


@pytest.fixture
def housing(app, monkeypatch):
    stub = HousingAuthority()
    use(monkeypatch, app, "HOUSING", stub)
    yield stub
    stub.close()


@pytest.fixture
def platform(app, monkeypatch):
    stub = UtilitiesPlatform()
    use(monkeypatch, app, "UTILITIES", stub)
    monkeypatch.setitem(app.config, "UTILITIES_RETRY_SECONDS", 0)
    yield stub
    stub.close()


def signed_in(client, username):
    assert "/logout" in client.auth.login(username).get_data(as_text=True), f"{username} could not sign in"


def page_of(client, case):
    response = client.get(f"/desk/case/{case.id}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flashes(html):
    return " ".join(re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


# ---- 申明/承诺 and 网签备案合同号 before submission -----------------------------------------------------------
def _transfer_draft(db, seq):
    """A 二手房转移 draft of bank A, filled in, its parties with a phone on record and not yet confirmed."""
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case("second_hand_transfer", op, [free_unit(db).id])
    _fill(db, case, rulebook.for_case(case), seq=seq)
    db.session.execute(delete(CaseDeclaration).where(CaseDeclaration.case_id == case.id))
    for i, p in enumerate(case.parties):
        p.confirmed_at = p.confirmed_phone = None
        if party_confirmation.phone_on_record(p) is None:
            db.session.add(Party(kind=p.kind, name=p.name, id_type=p.id_type, id_number=p.id_number,
                                 phone=f"1390000{seq:02d}{i:02d}"))
    db.session.commit()
    return case


def _filing(case):
    people = lambda role: [{"name": p.name, "id_number": p.id_number} for p in case.parties if p.role == role]  # noqa: E731
    return {"unit_codes": [cu.unit.unit_code for cu in case.units], "buyers": people("obligee"),
            "sellers": people("obligor")}


def _submit(client, case):
    response = client.post(f"/desk/case/{case.id}/fire", data={"event": "submit"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/desk/case/{case.id}/"), \
        (response.status_code, response.headers.get("Location"))
    return page_of(client, case)


def test_a_transfer_is_submitted_only_with_a_filed_contract_and_every_party_signed(app, client, db, housing):
    case = _transfer_draft(db, seq=71)
    business = rulebook.for_case(case)
    case.form_data = {**case.form_data, "contract_number": "WQ2026-0071"}
    db.session.commit()
    signed_in(client, "bank_a_op")
    html = page_of(client, case)
    assert 'id="declaration"' in html and business.declaration.text.zh in html and "申请人申明" in html
    assert html.count('class="declaration-unsigned"') == 2

    # unknown to the housing authority: refused, in words, nothing moves
    html = _submit(client, case)
    assert "没有编号为 WQ2026-0071 的网签备案合同" in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).node == "draft"
    assert housing.received[-1][2] == {"contract_number": "WQ2026-0071"} and housing.refused == []

    # filed, but for another buyer: refused naming the buyer
    filing = _filing(case)
    buyer = next(p for p in case.parties if p.role == "obligee")
    housing.contracts["WQ2026-0071"] = {**filing, "buyers": [{"name": "王五", "id_number": "110101199001011237"}]}
    html = _submit(client, case)
    assert f"备案合同 WQ2026-0071 未列明 {buyer.name} 为当事人" in html
    housing.contracts["WQ2026-0071"] = {**filing, "unit_codes": ["450502000000GB00001F00010001"]}
    html = _submit(client, case)
    assert f"备案合同 WQ2026-0071 不是 {case.units[0].unit.location} 的合同" in html

    # the filing matches; the parties have not signed: the submission waits for their codes
    housing.contracts["WQ2026-0071"] = filing
    html = _submit(client, case)
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.node == "confirming", flashes(html)
    assert db.session.scalar(select(CaseDeclaration).where(CaseDeclaration.case_id == case.id)) is None
    for p in case.parties:
        phone = party_confirmation.phone_on_record(p)
        sms = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
        assert "《申请人申明》" in sms.body, "the code says what it signs"
        client.post(f"/desk/case/{case.id}/party/{p.id}/confirm", data={"code": verification.reveal(sms)})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    signed = db.session.scalars(select(CaseDeclaration).where(CaseDeclaration.case_id == case.id)).all()
    assert {d.case_party_id for d in signed} == {p.id for p in case.parties}
    assert all(d.text == business.declaration.text.zh and d.signed_at and "****" in d.phone for d in signed)
    assert case.node == "pre_review", "the last signature moved the case on"
    html = page_of(client, case)
    assert html.count('class="declaration-signed"') == 2 and 'class="declaration-unsigned"' not in html
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "declaration_signed",
                                                    AuditLog.object_id == str(case.id))) is not None


def test_a_signature_is_of_the_declared_text_only(app, db):
    case = _transfer_draft(db, seq=72)
    case.form_data = {**case.form_data, "contract_number": "WQ2026-0072"}
    db.session.commit()
    business = rulebook.for_case(case)
    party = case.parties[0]
    db.session.add(CaseDeclaration(case_id=case.id, case_party_id=party.id, role=party.role, name=party.name,
                                   id_number=party.id_number, title="申请人申明", text="另一段文字",
                                   text_sha256="0" * 64, phone="139****0000"))
    db.session.commit()
    with app.test_request_context():
        problems = [str(p.message) for p in workflow.check(case, "submit")]
    assert f"{party.name} 尚未签署《申请人申明》" in problems, problems


def test_the_loader_ties_each_step_guard_to_its_rules_key(app):
    from app.rulebook.loader import RulesError
    text = (rulebook._rules_dir() / "second_hand_transfer.yaml").read_text(encoding="utf-8")
    with app.test_request_context():
        no_declaration = re.sub(r"\ndeclaration:\n(  .*\n)+", "\n", text)
        with pytest.raises(RulesError) as exc:
            rulebook.validate_text(no_declaration, "second_hand_transfer")
        assert "declaration_signed" in str(exc.value) and "declaration" in str(exc.value)
        with pytest.raises(RulesError) as exc:
            rulebook.validate_text(text.replace("contract_filing: {field: contract_number",
                                                "contract_filing: {field: contract_no"), "second_hand_transfer")
        assert "contract_no" in str(exc.value)
        with pytest.raises(RulesError) as exc:
            rulebook.validate_text(text.replace("  roles: [obligor, obligee]", "  roles: [obligor, notary]"),
                                   "second_hand_transfer")
        assert "notary" in str(exc.value)
        with pytest.raises(RulesError) as exc:
            rulebook.validate_text(text.replace("utilities: [water, power, gas, network]", "utilities: [water, oil]"),
                                   "second_hand_transfer")
        assert "utilities" in str(exc.value)
        with pytest.raises(RulesError) as exc:
            rulebook.validate_text(text.replace("batch: false", "batch: true"), "second_hand_transfer")
        assert "batch: false" in str(exc.value)


# ---- a recorded transfer: 水电气网过户, booking, 自助打证 ------------------------------------------------------
def _recorded_transfer(app, db, seq):
    """A 二手房转移 of bank A taken through submission, approval, payment and the tax to 登簿 (sandbox housing)."""
    op, reviewer = factories.user(db, "bank_a_op"), factories.user(db, "reviewer")
    case = workflow.start_case("second_hand_transfer", op, [free_unit(db).id])
    business = rulebook.for_case(case)
    _fill(db, case, business, seq=seq)
    for cu in case.units:
        cu.data = {**cu.data, "price": "1000000.00", "first_home": True}
    db.session.commit()
    workflow.fire(case, "submit", op)
    workflow.fire(case, "approve", reviewer, opinion="同意")
    _lines, total = workflow.fees_due(case, business)
    db.session.add(Payment(order_number=f"PAYB{case.id:08d}", case_id=case.id, institution_id=case.institution_id,
                           amount=total, status="paid", items=[]))
    db.session.commit()
    with app.test_request_context():
        for a in tax.adapter().assess(case):
            db.session.flush()
            tax.settle(tax.adapter().notification(a))
        db.session.commit()
        workflow.fire(case, "pay", reviewer, opinion="同意")
    assert case.node == "issued" and case.finished_at
    return case


def _run_job(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    job_id = int(re.search(r"/jobs/(\d+)", response.headers["Location"]).group(1))
    return jobs.wait(job_id)


def test_utilities_are_transferred_by_a_job_with_retries_and_each_status_shows(app, client, db, platform):
    case = _recorded_transfer(app, db, seq=73)
    signed_in(client, "bank_a_op")
    assert 'id="utilities-form"' in page_of(client, case)
    platform.busy, platform.refuse = 1, {"gas": "户号不存在"}
    job = _run_job(client, client.post(f"/desk/case/{case.id}/utilities",
                                       data={"action": "send", "account__water": "W-100", "account__gas": "G-9"}))
    assert job.state == "failed" and "燃气" in job.error
    db.session.expire_all()
    rows = {r.kind: r for r in db.session.scalars(select(UtilityTransfer).where(UtilityTransfer.case_id == case.id))}
    assert {k: r.status for k, r in rows.items()} == {"water": "sent", "power": "sent", "gas": "failed",
                                                      "network": "sent"}
    assert platform.refused == [], "every request was signed as documented"
    first = platform.received[0][2]
    assert first["reference"] == platform.received[1][2]["reference"], "the retry is the same request"
    assert sum(r.attempts for r in rows.values()) == 5 and rows["gas"].attempts == 1, "a refusal is not retried"
    assert rows["water"].account_number == "W-100" and rows["water"].ticket.startswith("WATER-")
    water = next(p for _path, _h, p in platform.received if p["kind"] == "water")
    assert water["account_number"] == "W-100" and water["case_number"] == case.official_number
    assert water["to"] and water["to"][0]["name"].startswith("测试obligee") and water["from"]
    assert water["certificate_number"] == db.session.scalar(select(Certificate.number).where(Certificate.case_id == case.id))
    html = page_of(client, case)
    assert "已受理" in html and "户号不存在" in html and "失败" in html
    # sent again: only the failed one goes out
    platform.refuse = {}
    calls = platform.calls
    job = _run_job(client, client.post(f"/desk/case/{case.id}/utilities", data={"action": "send", "account__gas": "G-10"}))
    assert job.state == "done" and platform.calls == calls + 1
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(UtilityTransfer).where(UtilityTransfer.case_id == case.id))} == {"sent"}
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "utility_transfer_sent",
                                                    AuditLog.object_id == str(case.id))) is not None


def test_utilities_may_be_skipped_and_not_before_recording(app, client, db):
    signed_in(client, "bank_a_op")
    draft = _transfer_draft(db, seq=74)
    html = client.post(f"/desk/case/{draft.id}/utilities", data={"action": "send"}, follow_redirects=True).get_data(as_text=True)
    assert "登簿后方可办理水电气网过户" in html
    assert db.session.scalar(select(UtilityTransfer).where(UtilityTransfer.case_id == draft.id)) is None


def test_the_kiosk_code_prints_the_certificate_once_and_the_booking_shows(app, client, db):
    from app.services import appointments
    case = _recorded_transfer(app, db, seq=75)
    op = factories.user(db, "bank_a_op")
    import datetime as dt
    appointments.generate_slots("北海市不动产登记中心", dt.date.today(), 5)
    db.session.commit()
    slot = appointments.open_slots()[0][0]
    appointments.book(slot.id, op, "陈晓东", "13800138000", case)
    db.session.commit()
    signed_in(client, "bank_a_op")
    html = page_of(client, case)
    assert 'class="case-appointment"' in html and slot.day.strftime("%Y-%m-%d") in html and "已预约" in html
    assert 'id="kiosk-code-btn"' in html
    response = client.post(f"/desk/case/{case.id}/kiosk-code")
    assert response.headers["Cache-Control"] == "no-store"
    code = "".join(re.search(r'id="kiosk-code"><strong>(\w+) (\w+)</strong>', response.get_data(as_text=True)).groups())
    stored = db.session.scalar(select(KioskCode).where(KioskCode.case_id == case.id))
    assert code not in stored.code_hash and len(stored.code_hash) == 64 and stored.spent_at is None
    client.auth.logout()

    kiosk = app.test_client()
    assert kiosk.get("/kiosk/").status_code == 200
    bad = kiosk.post("/kiosk/print", data={"code": "ABCDEFGHJK"})
    assert bad.status_code == 400 and "自助打证码无效" in bad.get_data(as_text=True)
    printed = kiosk.post("/kiosk/print", data={"code": code.lower()[:5] + " " + code[5:]})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf" and printed.data[:4] == b"%PDF"
    numbers = db.session.scalars(select(Certificate.number).where(Certificate.case_id == case.id)).all()
    text = subprocess.run(["pdftotext", "-", "-"], input=printed.data, capture_output=True, check=True).stdout.decode()
    assert numbers and all(n in text for n in numbers)
    again = kiosk.post("/kiosk/print", data={"code": code})
    assert again.status_code == 400 and "已使用" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(KioskCode, stored.id).spent_at is not None
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("kiosk_%"))))
    assert {"kiosk_code_issued", "kiosk_printed", "kiosk_refused"} <= actions
    signed_in(client, "bank_a_op")
    assert "在自助打证机使用" in page_of(client, case)


def test_the_kiosk_is_rate_limited(app, db):
    from app.extensions import limiter
    app.config["REGISTRY_RATELIMIT_ENABLED"] = True
    app.config["REGISTRY_RATELIMIT_PUBLIC"] = "3 per minute"
    limiter.reset()
    try:
        kiosk = app.test_client()
        codes = [kiosk.post("/kiosk/print", data={"code": f"AAAAAAAAA{i}"}).status_code for i in range(4)]
    finally:
        app.config["REGISTRY_RATELIMIT_ENABLED"] = False
        app.config["REGISTRY_RATELIMIT_PUBLIC"] = "20 per minute;200 per hour"
        limiter.reset()
    assert codes == [400, 400, 400, 429]


# ---- 明细表 ------------------------------------------------------------------------------------------------
def test_the_detail_list_is_paged_printed_and_exported_formula_safe(app, client, db):
    _business, case = case_with_new_units(db, "bank_a_op", 25)
    tricky = ["=HYPERLINK(\"http://evil\")", "+SUM(1,2)", "-2+3", "@cmd", "\t=1", "\r=2"]
    for cu, text in zip(case.units, tricky):
        cu.unit.location = text
    db.session.commit()
    signed_in(client, "bank_a_op")
    assert 'id="details-link"' in page_of(client, case)
    first = client.get(f"/desk/case/{case.id}/details").get_data(as_text=True)
    assert first.count('class="detail-row"') == 20 and 'id="detail-pages"' in first and "序号" in first
    second = client.get(f"/desk/case/{case.id}/details?page=2").get_data(as_text=True)
    assert second.count('class="detail-row"') == 5 and case.units[-1].unit.unit_code in second
    assert case.units[-1].unit.unit_code not in first

    pdf = client.get(f"/desk/case/{case.id}/details.pdf")
    assert pdf.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "不动产登记明细表" in text and case.units[-1].unit.unit_code in text and case.units[0].unit.unit_code in text

    xlsx = client.get(f"/desk/case/{case.id}/details.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in ws[1]] == ["序号", "不动产单元号", "坐落", "面积（㎡）", "用途", "当事人"]
    assert ws.max_row == 26
    for row, text in zip(range(2, 8), tricky):
        cell = ws.cell(row=row, column=3)
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix, (text, cell.data_type)
    normal = ws.cell(row=10, column=3)
    assert not normal.quotePrefix and ws.cell(row=10, column=1).value == 9, "numbers stay numbers"
    audit = set(db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(case.id))))
    assert {"detail_list_printed", "detail_list_exported"} <= audit

    signed_in(client, "bank_b_op")
    assert client.get(f"/desk/case/{case.id}/details").status_code == 404
    assert client.get(f"/desk/case/{case.id}/details.xlsx").status_code == 404


# ---- 可转现列表 ---------------------------------------------------------------------------------------------
def test_the_convertible_list_shows_the_banks_pre_mortgages_once_the_building_is_registered(app, client, db):
    bank_a = factories.user(db, "bank_a_op")
    notices = db.session.scalars(select(PreNotice).where(PreNotice.kind == "3", PreNotice.status == "current",
                                                         PreNotice.institution_id == bank_a.institution_id)).all()
    assert len(notices) >= 3
    signed_in(client, "bank_a_op")
    html = client.get("/desk/convertible/").get_data(as_text=True)
    assert 'id="convertible-empty"' in html, "no building of these pre-mortgages has its first registration yet"

    dev, reviewer = factories.user(db, "dev_op"), factories.user(db, "reviewer")
    unit = presale_units(db, purchased=True, mortgage_notice=False)[0]
    assert unit.building_id == notices[0].unit.building_id
    first = workflow.start_case("new_housing_first", dev, [unit.id])
    _fill(db, first, rulebook.for_case(first), seq=76)
    _walk(db, first, [dev, reviewer])

    html = client.get("/desk/convertible/").get_data(as_text=True)
    listed = re.findall(r'class="convertible-row" data-proof="([^"]+)"', html)
    assert set(listed) == {p.proof_number for p in notices if p.unit.building_id == unit.building_id}
    ticked = re.findall(r'name="pre_notice_id" value="(\d+)" (?!disabled)', html)[:2]
    assert len(ticked) == 2

    signed_in(client, "bank_b_op")
    other = client.get("/desk/convertible/").get_data(as_text=True)
    assert not set(re.findall(r'data-proof="([^"]+)"', other)) & set(listed), "another bank sees none of bank A's"
    bank_b_convert = client.post("/desk/convertible/convert", data={"pre_notice_id": ticked}, follow_redirects=True)
    assert "请至少勾选一条" in bank_b_convert.get_data(as_text=True), "bank A's rows are not found for bank B"

    signed_in(client, "bank_a_op")
    response = client.post("/desk/convertible/convert", data={"pre_notice_id": ticked + ["999999999"]})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    case = db.session.get(Case, int(re.search(r"/desk/case/(\d+)/", response.headers["Location"]).group(1)))
    assert case.business_key == "pre_mortgage_conversion" and case.institution_id == bank_a.institution_id
    assert {cu.unit_id for cu in case.units} == {db.session.get(PreNotice, int(i)).unit_id for i in ticked}
