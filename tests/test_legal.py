"""The register's legal constraints, as rules checks, and the Beihai data flows: each refusal names its
regulation in Chinese, and each flow is read back from the register after it is recorded."""
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import rulebook
from app.demo import make_id_card
from app.extensions import db as _db
from app.rulebook import legal
from app.rulebook import workflow
from app.rulebook.workflow import WorkflowError
from models import AuditLog, Building, Case, CaseUnit, Mortgage, PreNotice, Right
from tests import factories
from tests.test_workflow import _fill, _walk, complete, free_unit

ART75 = "《不动产登记暂行条例实施细则》第七十五条"
GUARANTEE_LAW = "原《中华人民共和国担保法》第三十五条"


@pytest.fixture
def reviewer(db):
    return factories.user(db, "reviewer")


def _used():
    return set(_db.session.scalars(select(CaseUnit.unit_id)))


def presale_units(db, *, purchased=None, mortgage_notice=None, filed=False):
    """Units of the demo's pre-sale building in no case yet: with or without a purchase pre-notice (and a
    mortgage pre-notice), or with only a filed pre-sale contract."""
    building = db.session.scalar(select(Building).where(Building.developer_id.isnot(None)))
    used, out = _used(), []
    for u in sorted(building.units, key=lambda u: u.id):
        kinds = {p.kind for p in u.pre_notices if p.status == "current"}
        if u.id in used or u.mortgaged or u.presale_filed != filed or any(r.status == "current" for r in u.rights):
            continue
        if purchased is not None and ("1" in kinds) != purchased:
            continue
        if mortgage_notice is not None and ("3" in kinds) != mortgage_notice:
            continue
        out.append(u)
    return out


def buyer_of(unit):
    notice = next(p for p in unit.pre_notices if p.kind == "1")
    return next(pp.party for pp in notice.parties if pp.role == "obligee")


def messages(case, event="submit"):
    return [str(p.message) for p in workflow.check(case, event) if p.severity == "critical"]


def developer_uscc(db):
    return factories.institution(db, "developer").uscc


# ---- 细则 art. 75 ------------------------------------------------------------------------------

def test_a_pre_noticed_unit_is_refused_for_a_construction_mortgage_at_the_building_table_naming_article_75(client, db):
    building = db.session.scalar(select(Building).where(Building.developer_id.isnot(None)))
    noticed = presale_units(db, purchased=True)[0]
    filed = presale_units(db, filed=True)[0]
    free = presale_units(db, purchased=False)[0]
    client.auth.login("bank_a_op")
    keys = {"survey_number": building.survey_number, "obligor_id_number": developer_uscc(db)}
    page = client.get("/desk/apply/construction_mortgage_first/", query_string=keys).get_data(as_text=True)
    assert ART75 in page and "预购商品房预告登记" in page and "预售合同备案" in page
    before = db.session.scalar(select(func.count(Case.id)))
    r = client.post("/desk/apply/construction_mortgage_first/start",
                    data={**keys, "unit_id": [str(noticed.id), str(filed.id), str(free.id)]}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert noticed.location in page and filed.location in page and ART75 in page
    assert db.session.scalar(select(func.count(Case.id))) == before   # nothing started
    with pytest.raises(WorkflowError) as exc:
        workflow.start_case("construction_mortgage_first", factories.user(db, "bank_a_op"), [noticed.id])
    assert ART75 in str(exc.value)


def test_a_unit_pre_noticed_or_filed_after_it_was_ticked_is_refused_at_submit(db):
    op = factories.user(db, "bank_a_op")
    first, second = presale_units(db, purchased=False)[:2]
    case = workflow.start_case("construction_mortgage_first", op, [first.id, second.id])
    _fill(db, case, rulebook.for_case(case), seq=75)
    assert messages(case) == []
    notice = PreNotice(unit_id=first.id, kind="1", proof_number="TEST-ART75-0001")
    db.session.add(notice)
    second.presale_filed = True
    db.session.commit()
    db.session.refresh(first)
    found = messages(case)
    assert any(first.location in m and ART75 in m and "预告" in m for m in found)
    assert any(second.location in m and ART75 in m and "备案" in m for m in found)
    with pytest.raises(WorkflowError):
        workflow.fire(case, "submit", op)
    assert case.node == "draft"


# ---- 一般抵押 / 最高额抵押 ---------------------------------------------------------------------

def _draft(db, key="mortgage_first"):
    op = factories.user(db, "bank_a_op")
    unit = free_unit(db)
    return op, workflow.start_case(key, op, [unit.id])


def test_a_general_mortgage_refuses_a_maximum_amount_and_a_maximum_one_a_secured_amount(client, db):
    _op, case = _draft(db)
    cu = case.units[0]
    client.auth.login("bank_a_op")
    r = client.post(f"/desk/case/{case.id}/form", data={
        "version": case.version, f"unit__{cu.id}__mortgage_kind": "1", f"unit__{cu.id}__secured_amount": "500000",
        f"unit__{cu.id}__maximum_amount": "600000"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "抵押方式为一般抵押时不填写此项" in page and "《中华人民共和国民法典》第三百九十四条、第四百二十条" in page
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    complete(db, case)
    case.units[0].data = {**case.units[0].data, "maximum_amount": "600000.00"}
    db.session.commit()
    assert any("最高债权额" in m and "第四百二十条" in m for m in messages(case))
    case.units[0].data = {**case.units[0].data, "mortgage_kind": "2"}   # 最高额 with a 被担保主债权数额
    db.session.commit()
    assert any("被担保主债权数额" in m and "抵押方式为最高额抵押时不填写此项" in m and "第四百二十条" in m
               for m in messages(case))
    case.units[0].data = {k: v for k, v in case.units[0].data.items() if k != "secured_amount"}
    db.session.commit()
    assert messages(case) == []


def test_the_case_page_shows_the_amount_of_the_chosen_kind_through_a_static_script(client, db):
    _op, case = _draft(db)
    cu = case.units[0]
    cu.data = {**cu.data, "mortgage_kind": "1"}
    db.session.commit()
    client.auth.login("bank_a_op")
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    wrapper = {m.group(2): m.group(0) for m in re.finditer(
        r'<div class="col-md-3"[^>]*data-only-when="([^"]+)"[^>]*>\s*<div class="form-group[^"]*">\s*'
        r'<label class="control-label" for="unit__\d+__(\w+)"', page)}
    assert set(wrapper) == {"secured_amount", "maximum_amount"}
    assert " hidden" in wrapper["maximum_amount"] and " hidden" not in wrapper["secured_amount"]
    assert '/static/desk/only_when.js"' in page
    inline = [s for s in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S) if "src=" not in s[0]
              and "application/json" not in s[0]]
    assert not any("only" in body for _attrs, body in inline)


def test_only_the_kinds_amount_is_printed(app, db):
    from views import desk_common as dc
    _op, case = _draft(db)
    complete(db, case)
    cu = case.units[0]
    cu.data = {**cu.data, "maximum_amount": "600000.00"}   # typed before the kind was chosen
    db.session.commit()
    with app.test_request_context():
        labels = [row["label"] for row in dc.case_summary(case, rulebook.for_case(case))["units"][0]["fields"]]
    assert "被担保主债权数额（元）" in labels and "最高债权额（元）" not in labels


def test_a_maximum_amount_mortgage_is_recorded_with_its_maximum_amount_only(db, reviewer):
    op, case = _draft(db)
    complete(db, case)
    cu = case.units[0]
    cu.data = {**{k: v for k, v in cu.data.items() if k != "secured_amount"}, "mortgage_kind": "2",
               "maximum_amount": "700000.00"}
    db.session.commit()
    _walk(db, case, [op, reviewer])
    m = db.session.get(Mortgage, case.units[0].data["_record"]["id"])
    assert (m.kind, m.maximum_amount, m.secured_amount) == ("2", 700000, None)


# ---- the secured amount and the collateral value -------------------------------------------------

def test_an_amount_above_the_collateral_value_is_refused_where_the_rules_allow_no_acknowledgment(db):
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case("mortgage_general_online", op, [free_unit(db).id])
    _fill(db, case, rulebook.for_case(case), seq=35)
    case.units[0].data = {**case.units[0].data, "secured_amount": "900000.01", "collateral_value": "900000.00"}
    db.session.commit()
    assert any(GUARANTEE_LAW in m and "900000.01" in m for m in messages(case))
    with pytest.raises(WorkflowError):
        workflow.fire(case, "submit", op)


def test_an_amount_above_the_collateral_value_goes_on_only_with_the_reviewers_acknowledgment(client, db, reviewer):
    op, case = _draft(db)
    complete(db, case)
    case.units[0].data = {**case.units[0].data, "secured_amount": "950000.00"}   # collateral 900000.00
    db.session.commit()
    submit = [p for p in workflow.check(case, "submit") if GUARANTEE_LAW in str(p.message)]
    assert [p.severity for p in submit] == ["warning"]   # the applicant may submit; the reviewer decides
    workflow.fire(case, "submit", op)
    assert case.node == "pre_review"
    with pytest.raises(WorkflowError) as exc:
        workflow.fire(case, "accept", reviewer)
    assert GUARANTEE_LAW in str(exc.value) and "登记审核人员确认" in str(exc.value)

    client.auth.login("bank_a_op")   # the applicant cannot acknowledge it
    client.post(f"/review/case/{case.id}/acknowledge", data={"check": "amount_not_above_collateral",
                                                             "version": case.version})
    db.session.expire_all()
    assert not legal.acknowledged(db.session.get(Case, case.id), "amount_not_above_collateral")

    client.auth.login("reviewer")
    page = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert 'id="acknowledge-amount_not_above_collateral"' in page and GUARANTEE_LAW in page
    assert re.search(r'id="event-accept"[^>]*disabled', page)
    case = db.session.get(Case, case.id)
    r = client.post(f"/review/case/{case.id}/acknowledge", data={"check": "amount_not_above_collateral",
                                                                 "version": case.version})
    assert r.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert legal.acknowledged(case, "amount_not_above_collateral")
    assert db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.action == "case_acknowledged", AuditLog.object_id == str(case.id))) == 1
    workflow.fire(case, "accept", reviewer)
    assert case.node == "accepted"


# ---- term dates --------------------------------------------------------------------------------

def _post_terms(client, case, start, end):
    cu = case.units[0]
    db_case = _db.session.get(Case, case.id)
    _db.session.refresh(db_case)
    return client.post(f"/desk/case/{case.id}/form", data={
        "version": db_case.version, f"unit__{cu.id}__term_start": start, f"unit__{cu.id}__term_end": end})


def test_term_dates_outside_a_sane_range_are_refused(client, db):
    _op, case = _draft(db)
    client.auth.login("bank_a_op")
    r = _post_terms(client, case, "1900-01-01", "2999-12-31")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "1949-10-01" in page and "70 年" in page and "土地使用权出让最高年限七十年" in page
    too_late = (dt.date.today() + dt.timedelta(days=800)).isoformat()
    assert _post_terms(client, case, too_late, "2099-01-01").status_code == 400
    assert _post_terms(client, case, "2026-01-01", "2096-01-02").status_code == 400   # 70 years and a day
    assert _post_terms(client, case, "2026-01-01", "2096-01-01").status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    complete(db, case)
    case.units[0].data = {**case.units[0].data, "term_start": "1900-01-01", "term_end": "2999-12-31"}
    db.session.commit()
    found = messages(case)
    assert any("债务履行起始时间" in m and "1949-10-01" in m for m in found)
    assert any("债务履行结束时间" in m and "七十年" in m for m in found)


# ---- 在建建筑物抵押: one contract, a company's loan ---------------------------------------------

def test_a_construction_mortgage_asks_the_loan_once_with_company_reasons_and_land_and_building_only(client, db, reviewer):
    op = factories.user(db, "bank_a_op")
    units = presale_units(db, purchased=False)[:2]
    case = workflow.start_case("construction_mortgage_first", op, [u.id for u in units])
    client.auth.login("bank_a_op")
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert 'name="case__secured_amount"' in page and not re.search(r'name="unit__\d+__secured_amount"', page)
    assert len(re.findall(r'name="unit__\d+__collateral_value"', page)) == 2
    reasons = re.search(r'<select[^>]*name="case__apply_reason".*?</select>', page, re.S).group(0)
    assert "房地产开发贷款抵押" in reasons and "个人住房贷款" not in reasons and "个人消费贷款" not in reasons
    types = re.search(r'<select[^>]*name="case__collateral_type".*?</select>', page, re.S).group(0)
    assert "土地和在建建筑物" in types and "海域" not in types and "林地" not in types
    business = rulebook.for_case(case)
    _fill(db, case, business, seq=76)
    case.form_data = {**case.form_data, "mortgage_kind": "1", "secured_amount": "1500000.00"}
    db.session.commit()
    assert messages(case) == []   # 1,500,000 within the two units' 900,000 + 900,000
    _walk(db, case, [op, reviewer])
    for cu in case.units:
        m = db.session.get(Mortgage, cu.data["_record"]["id"])
        assert m.secured_amount == 1500000 and m.collateral_value == 900000 and m.maximum_amount is None


# ---- Beihai: the buyer, per unit, and the pre-notice closed ---------------------------------------

def test_conversion_makes_the_buyer_the_mortgagor_and_closes_the_purchase_pre_notice(db, reviewer):
    dev, bank = factories.user(db, "dev_op"), factories.user(db, "bank_a_op")
    unit = presale_units(db, purchased=True, mortgage_notice=False)[0]
    buyer = buyer_of(unit)
    first = workflow.start_case("new_housing_first", dev, [unit.id])   # the developer's first registration
    _fill(db, first, rulebook.for_case(first), seq=31)
    _walk(db, first, [dev, reviewer])
    notice_case = workflow.start_case("mortgage_pre_notice", bank, [unit.id])
    assert [p.id_number for p in notice_case.parties if p.role == "mortgagor"] == [buyer.id_number]
    _fill(db, notice_case, rulebook.for_case(notice_case), seq=32)
    _walk(db, notice_case, [bank, reviewer])
    conversion = workflow.start_case("pre_mortgage_conversion", bank, [unit.id])
    assert {p.id_number for p in conversion.parties if p.role in ("mortgagor", "debtor")} == {buyer.id_number}
    _fill(db, conversion, rulebook.for_case(conversion), seq=33)
    _walk(db, conversion, [bank, reviewer])
    mortgage = db.session.get(Mortgage, conversion.units[0].data["_record"]["id"])
    assert [(mp.role, mp.party.id_number) for mp in mortgage.parties if mp.role == "mortgagor"] == \
        [("mortgagor", buyer.id_number)]
    db.session.refresh(unit)
    purchase = next(p for p in unit.pre_notices if p.kind == "1")
    assert purchase.status == "converted" and not unit.pre_noticed


def test_a_batch_purchase_pre_notice_records_each_buyer_on_their_own_unit(client, db, reviewer):
    dev = factories.user(db, "dev_op")
    units = presale_units(db, purchased=False)[:2]
    case = workflow.start_case("purchase_pre_notice", dev, [u.id for u in units])
    client.auth.login("dev_op")
    buyers = []
    for i, cu in enumerate(case.units):
        number = make_id_card(dt.date(1990, 3, 3 + i), 610 + i)
        db.session.refresh(case)
        r = client.post(f"/desk/case/{case.id}/party", data={
            "version": case.version, "role": "obligee", "kind": "person", "name": f"买受人{i}", "id_type": "1",
            "id_number": number, "phone": f"1380000{610 + i:04d}", "case_unit_id": str(cu.id)})
        assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
        buyers.append((cu.unit_id, number))
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert {(p.case_unit_id, p.id_number) for p in case.parties if p.role == "obligee"} == \
        {(cu.id, number) for cu, (_u, number) in zip(case.units, buyers)}
    _fill(db, case, rulebook.for_case(case), seq=61)
    _walk(db, case, [dev, reviewer])
    for unit_id, number in buyers:
        notice = db.session.scalar(select(PreNotice).where(PreNotice.unit_id == unit_id, PreNotice.case_id == case.id))
        assert [pp.party.id_number for pp in notice.parties if pp.role == "obligee"] == [number]


def test_a_batch_purchase_pre_notice_takes_each_units_buyer_from_the_excel_rows(client, db):
    dev = factories.user(db, "dev_op")
    units = presale_units(db, purchased=False)[:2]
    case = workflow.start_case("purchase_pre_notice", dev, [u.id for u in units])
    client.auth.login("dev_op")
    wb = load_workbook(io.BytesIO(client.get(f"/desk/batch/{case.id}/template").data))
    ws = wb.active
    names = [c.value for c in ws[2]]
    assert names[-3:] == ["obligee__name", "obligee__id_number", "obligee__phone"]
    expected = {}
    for row, cu in zip(range(3, 5), case.units):
        number = make_id_card(dt.date(1991, 4, 4), 620 + row)
        values = {"contract_number": f"YS-{row}", "amount": "880000.00", "obligee__name": f"购房人{row}",
                  "obligee__id_number": number, "obligee__phone": f"1390000{620 + row:04d}"}
        for col, name in enumerate(names, start=1):
            if name in values:
                ws.cell(row=row, column=col, value=values[name])
        expected[cu.id] = number
    out = io.BytesIO()
    wb.save(out)
    r = client.post(f"/desk/batch/{case.id}/import", data={"workbook": (io.BytesIO(out.getvalue()), "u.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert {p.case_unit_id: p.id_number for p in case.parties if p.role == "obligee"} == expected
    assert not [m for m in messages(case) if "预告权利人" in m]   # each unit has its buyer


def test_new_housing_transfer_prefills_each_units_buyer_and_closes_the_purchase_pre_notice(db, reviewer):
    dev = factories.user(db, "dev_op")
    units = presale_units(db, purchased=True, mortgage_notice=False)[:2]
    buyers = {u.id: buyer_of(u).id_number for u in units}
    first = workflow.start_case("new_housing_first", dev, [u.id for u in units])
    _fill(db, first, rulebook.for_case(first), seq=41)
    _walk(db, first, [dev, reviewer])
    transfer = workflow.start_case("new_housing_transfer", dev, [u.id for u in units])
    by_case_unit = {cu.id: cu.unit_id for cu in transfer.units}
    assert {by_case_unit[p.case_unit_id]: p.id_number for p in transfer.parties if p.role == "obligee"} == buyers
    _fill(db, transfer, rulebook.for_case(transfer), seq=42)
    _walk(db, transfer, [dev, reviewer])
    for cu in transfer.units:
        right = db.session.get(Right, cu.data["_record"]["id"])
        assert [h.party.id_number for h in right.holders] == [buyers[cu.unit_id]]
        db.session.refresh(cu.unit)
        assert [p.status for p in cu.unit.pre_notices if p.kind == "1"] == ["converted"]
        assert not cu.unit.pre_noticed


def test_choosing_the_mortgage_kind_in_the_browser_shows_that_kinds_amount_only(page, live_server, app):
    from tests.test_browser_desk import login
    with app.app_context():
        _op, case = _draft(_db)
        case_id, cu_id = case.id, case.units[0].id
    login(page, live_server, "bank_a_op")
    page.goto(f"{live_server}/desk/case/{case_id}/")
    secured, maximum = (page.locator(f"[name='unit__{cu_id}__{name}']") for name in ("secured_amount", "maximum_amount"))
    page.select_option(f"[name='unit__{cu_id}__mortgage_kind']", "1")
    secured.fill("500000.00")
    assert secured.is_visible() and maximum.is_hidden()
    page.select_option(f"[name='unit__{cu_id}__mortgage_kind']", "2")   # 最高额抵押
    assert maximum.is_visible() and secured.is_hidden() and secured.input_value() == ""
    maximum.fill("800000.00")
    page.select_option(f"[name='unit__{cu_id}__mortgage_kind']", "1")
    assert secured.is_visible() and maximum.is_hidden() and maximum.input_value() == ""
