"""Fees as the charging standard writes them (发改价格规〔2016〕2559号, 财税〔2016〕79号): per 件, 住宅 80 /
非住宅 550, 工本费 10 per certificate after the first, half rate for a change of name only, exemptions
with their legal basis; a misspelt condition is refused when the file loads."""
import re
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import rulebook
from app.rulebook import fees
from app.rulebook.loader import RulesError, parse_business
from app.services import payment as payments
from models import Building, CaseUnit, Unit
from tests import factories


def _units(db, n, use="residential", building=None):
    """n units of one building (so of one parcel), set to the given use."""
    building = building or db.session.scalars(select(Building).order_by(Building.id)).first()
    units = db.session.scalars(select(Unit).where(Unit.building_id == building.id).order_by(Unit.id).limit(n)).all()
    assert len(units) == n
    for u in units:
        u.use = use
    db.session.commit()
    return units


def _case(db, key, units, node="pre_review", form=None, per_unit=None, username="bank_a_op"):
    case = factories.case(db, username, business_key=key, node=node)
    case.form_data = dict(form or {})
    for u in units:
        db.session.add(CaseUnit(case_id=case.id, unit_id=u.id, data=dict(per_unit or {})))
    db.session.commit()
    db.session.refresh(case)
    return case


def _due(app, case):
    with app.test_request_context():
        lines, total = payments.outstanding(case)[:2]
    return lines, total


def test_construction_mortgage_of_20_flats_on_one_parcel_is_one_case_of_80_yuan(app, db):
    case = _case(db, "construction_mortgage_first", _units(db, 20))
    lines, total = _due(app, case)
    assert total == Decimal("80.00")
    assert len(lines) == 1 and lines[0]["count"] == 1 and "等 20 个单元" in lines[0]["units"]


def test_construction_mortgage_of_non_residential_units_is_one_case_of_550_yuan(app, db):
    building = db.session.scalars(select(Building).order_by(Building.id.desc())).first()
    case = _case(db, "construction_mortgage_first", _units(db, 5, "non_residential", building))
    assert _due(app, case)[1] == Decimal("550.00")


def test_units_on_two_parcels_are_two_cases(app, db):
    buildings = db.session.scalars(select(Building).order_by(Building.id)).all()
    parcels = {}
    for b in buildings:
        parcels.setdefault(b.parcel_id, b)
    first, second = list(parcels.values())[:2]
    case = _case(db, "construction_mortgage_first", _units(db, 2, building=first) + _units(db, 2, building=second))
    lines, total = _due(app, case)
    assert total == Decimal("160.00") and len(lines) == 2


def test_a_second_certificate_costs_10_yuan(app, db):
    one = _case(db, "new_housing_first", _units(db, 1), node="unpaid", per_unit={"certificate_copies": "1"})
    assert _due(app, one)[1] == Decimal("80.00")
    two = _case(db, "new_housing_first", _units(db, 1), node="unpaid", per_unit={"certificate_copies": "2"})
    lines, total = _due(app, two)
    assert total == Decimal("90.00")
    cost = next(line for line in lines if line["item"] == "certificate_cost")
    assert cost["amount"] == Decimal("10.00") and cost["count"] == 1 and "2559" in cost["basis"]
    three = _case(db, "second_hand_transfer", _units(db, 1), node="unpaid", per_unit={"certificate_copies": "3"})
    assert _due(app, three)[1] == Decimal("100.00")


def test_a_small_or_micro_enterprise_pays_no_mortgage_fee_and_the_basis_is_shown(app, db, client):
    normal = _case(db, "mortgage_first", _units(db, 1), form={"applicant_enterprise_type": "other"})
    assert _due(app, normal)[1] == Decimal("80.00")
    small = _case(db, "mortgage_first", _units(db, 1), form={"applicant_enterprise_type": "small_micro"})
    lines, total = _due(app, small)
    assert total == Decimal("0.00")
    assert lines[0]["exempt"] and lines[0]["adjustment"] == "小微企业免征" and "财税〔2016〕79号" in lines[0]["basis"]
    client.auth.login("bank_a_op")
    page = client.get(f"/desk/case/{small.id}/").get_data(as_text=True)
    breakdown = re.search(r'<table[^>]*id="fee-breakdown".*?</table>', page, re.S).group(0)
    assert "小微企业免征" in breakdown and "财税〔2016〕79号" in breakdown and "免收" in breakdown


def test_affordable_housing_is_exempt(app, db):
    case = _case(db, "second_hand_transfer", _units(db, 1), node="unpaid", per_unit={"housing_kind": "affordable"})
    lines, total = _due(app, case)
    assert total == Decimal("0.00") and lines[0]["adjustment"] == "保障性住房免收"
    assert "廉租住房" in lines[0]["basis"]


def test_a_correction_is_half_rate_and_free_when_the_registry_erred(app, db, client):
    case = _case(db, "mortgage_correction", _units(db, 1), node="accepted")
    assert _due(app, case)[1] == Decimal("40.00")
    client.auth.login("reviewer")
    page = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert 'id="flag-registry_error"' in page
    answer = client.post(f"/review/case/{case.id}/flag", data={"flag": "registry_error", "value": "1"},
                         follow_redirects=True)
    assert answer.status_code == 200
    db.session.expire_all()
    lines, total = _due(app, case)
    assert total == Decimal("0.00") and lines[0]["adjustment"] == "登记机构错误导致的更正免收"
    from models import AuditLog
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "fee_flag_set", AuditLog.object_id == str(case.id)))


def test_the_applicant_cannot_set_the_registry_error_flag(app, db, client):
    case = _case(db, "mortgage_correction", _units(db, 1), node="draft")
    client.auth.login("bank_a_op")
    client.post(f"/desk/case/{case.id}/form", data={"case___review_flags": "x", "_review_flags": "x"})
    answer = client.post(f"/review/case/{case.id}/flag", data={"flag": "registry_error", "value": "1"})
    assert answer.status_code in (302, 403, 404)
    db.session.expire_all()
    assert fees.flags(case) == {}
    assert _due(app, case)[1] == Decimal("40.00")


@pytest.mark.parametrize("key", ["purchase_pre_notice", "mortgage_pre_notice", "mortgage_cancel",
                                 "mortgage_pre_notice_cancel"])
def test_pre_notice_and_cancellation_are_free_with_their_basis(app, db, key):
    lines, total = _due(app, _case(db, key, _units(db, 1)))
    assert total == Decimal("0.00") and len(lines) == 1 and lines[0]["exempt"]
    assert "不收取不动产登记费" in lines[0]["basis"]


def test_a_change_of_name_only_is_half_rate(app, db):
    name = _case(db, "mortgage_change", _units(db, 1), form={"apply_reason": "name_change"})
    lines, total = _due(app, name)
    assert total == Decimal("40.00") and lines[0]["adjustment"] == "仅名称变更减半收取"
    amount = _case(db, "mortgage_change", _units(db, 1), form={"apply_reason": "amount_change"})
    assert _due(app, amount)[1] == Decimal("80.00")


STANDARD = {"residential": Decimal("80.00"), "non_residential": Decimal("550.00"), "parking": Decimal("80.00")}
FREE = {"purchase_pre_notice", "mortgage_pre_notice", "mortgage_cancel", "mortgage_pre_notice_cancel"}
HALF = {"mortgage_correction"}


def test_every_business_charges_the_standards_amounts(app, db):
    with app.test_request_context():
        keys = [b.key for b in rulebook.all_businesses()]
    assert len(keys) == 14
    for use, amount in STANDARD.items():
        units = _units(db, 1, use)
        for key in keys:
            due = _due(app, _case(db, key, units, node="cancelled"))[1]
            expected = Decimal("0.00") if key in FREE else amount / 2 if key in HALF else amount
            assert due == expected, (key, use, due)


def test_the_payment_page_and_the_receipt_show_the_breakdown_with_its_basis(app, db, client):
    case = _case(db, "mortgage_change", _units(db, 1), form={"apply_reason": "name_change"})
    client.auth.login("bank_a_op")
    page = client.get("/pay/").get_data(as_text=True)
    row = re.search(rf"<tr[^>]*>\s*<td>{case.number}</td>.*?</tr>", page, re.S).group(0)
    assert "仅名称变更减半收取" in row and "财税〔2016〕79号" in row and "40.00" in row
    order = client.post(f"/pay/order/{case.id}")
    cashier = order.headers["Location"]
    form = client.post(cashier, data={"channel": "wechat"}).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    fields.pop("return", None)
    assert client.post("/pay/notify", data=fields).get_data(as_text=True) == "success"
    page = client.get("/pay/").get_data(as_text=True)
    link = re.search(r'href="(/pay/receipt/\d+)"', page).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "仅名称变更减半收取" in text and "财税〔2016〕79号" in text and "40.00" in text
    assert fields["order_number"] in text
    client.auth.login("bank_b_op")
    assert client.get(link).status_code == 404, "another institution's receipt is out of reach"


MISSPELT = "{usee: residentail}"


@pytest.mark.parametrize("lang, words", [
    ("zh", ["费用条件中的属性 'usee' 不存在"]),
    ("en", ["unknown attribute 'usee' in a fee condition"]),
])
def test_a_misspelt_fee_condition_is_refused_with_file_and_line(app, lang, words):
    from flask_babel import force_locale
    text = open("rules/mortgage_first.yaml", encoding="utf-8").read().replace(
        "when: {use: residential}", f"when: {MISSPELT}", 1)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "usee" in s)
    with app.test_request_context(), force_locale(lang):
        with pytest.raises(RulesError) as caught:
            parse_business(text, "rules/mortgage_first.yaml", rulebook._context())
        shown = "\n".join(str(p) for p in caught.value.problems)
    for w in words:
        assert w in shown, shown
    where = f"第 {line} 行" if lang == "zh" else f"line {line}"
    assert f"rules/mortgage_first.yaml {where}" in shown or f"rules/mortgage_first.yaml, {where}" in shown, shown
    assert "fees[0].amounts[0].when.usee" in shown


def test_a_misspelt_value_and_a_misspelt_form_field_are_refused(app):
    text = open("rules/mortgage_change.yaml", encoding="utf-8").read()
    text = text.replace("when: {use: residential}", "when: {use: residentail}", 1)
    text = text.replace("when: {case.apply_reason: name_change}", "when: {case.apply_reasn: name_change}", 1)
    with app.test_request_context():
        with pytest.raises(RulesError) as caught:
            parse_business(text, "rules/mortgage_change.yaml", rulebook._context())
        shown = "\n".join(str(p) for p in caught.value.problems)
    assert "'residentail' 不是 use 的取值" in shown and "'case.apply_reasn' 不存在" in shown, shown


def test_the_console_refuses_a_misspelt_fee_condition(db, client):
    from tests.test_rules_console import active_text, edit_form, save
    client.auth.login("configurator")
    _page, base = edit_form(client, "mortgage_first")
    text = active_text(db, "mortgage_first").replace("when: {use: residential}", f"when: {MISSPELT}", 1)
    before = len(rulebook.versions("mortgage_first"))
    page = save(client, "mortgage_first", text, base).get_data(as_text=True)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "usee" in s)
    assert f"第 {line} 行" in page and "费用条件中的属性 &#39;usee&#39; 不存在" in page
    assert len(rulebook.versions("mortgage_first")) == before
