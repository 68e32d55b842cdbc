"""完税核验: deed tax assessment by rate band, the sandbox tax bureau's signed idempotent notification,
the tax_cleared guard on recording of the transfer businesses, institution isolation, the case pages."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services import tax
from app.rulebook import workflow
from app.rulebook.workflow import WorkflowError
from models import Payment, TaxAssessment
from tests import factories
from tests.test_payment import login
from tests.test_workflow import _fill, free_unit

RATES = tax.Rates(bands=[tax.Band(first_home=True, max_area=Decimal("90"), rate=Decimal("0.01")),
                         tax.Band(first_home=True, rate=Decimal("0.015")), tax.Band(rate=Decimal("0.03"))])


@pytest.mark.parametrize("price, area, first_home, rate, amount", [
    ("1000000.00", "80", True, "0.01", "10000.00"),
    ("1000000.00", "90", True, "0.01", "10000.00"),       # 90 m² itself is still the lower band
    ("1000000.00", "90.01", True, "0.015", "15000.00"),
    ("1000000.00", "60", False, "0.03", "30000.00"),
    ("1,234,567.89", "120", False, "0.03", "37037.04"),   # rounded to the cent, half up
    (Decimal("333333.33"), "89", True, "0.01", "3333.33"),
])
def test_deed_tax_by_rate_band(app, price, area, first_home, rate, amount):
    with app.test_request_context():
        assert tax.deed_tax(price, Decimal(area), first_home, RATES) == (Decimal(rate), Decimal(amount))


def test_the_configured_rates_are_the_documented_defaults(app):
    with app.test_request_context():
        assert tax.rates().price_field == "price"
        assert tax.deed_tax("100.00", Decimal("90"), True) == (Decimal("0.01"), Decimal("1.00"))
        assert tax.deed_tax("100.00", Decimal("91"), True) == (Decimal("0.015"), Decimal("1.50"))
        assert tax.deed_tax("100.00", Decimal("50"), False) == (Decimal("0.03"), Decimal("3.00"))


@pytest.mark.parametrize("price, message", [(None, "成交价格缺失"), ("  ", "成交价格缺失"), ("abc", "不是数字"),
                                            ("0", "必须大于零"), ("-100", "必须大于零"), ("NaN", "必须大于零")])
def test_bad_prices_are_refused_with_a_clear_message(app, price, message):
    with app.test_request_context():
        with pytest.raises(tax.TaxError) as exc:
            tax.deed_tax(price, Decimal("80"), True, RATES)
        assert message in str(exc.value)


# ---- a second-hand transfer of bank A, submitted and approved --------------------------------------
@pytest.fixture
def reviewer(db):
    return factories.user(db, "reviewer")


@pytest.fixture
def transfer(app, db, reviewer):
    """A 二手房转移登记 of bank A at 在线缴费 (approved), price 1,000,000.00, buyer's first home."""
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case("second_hand_transfer", op, [free_unit(db).id])
    business = workflow.rulebook.for_case(case)
    _fill(db, case, business, seq=41)
    for cu in case.units:
        cu.data = {**cu.data, "price": "1000000.00", "first_home": True}
    db.session.commit()
    workflow.fire(case, "submit", op)
    workflow.fire(case, "approve", reviewer, opinion="同意")
    assert case.node == "unpaid"
    return case


def _expected(case):
    cu = case.units[0]
    return tax.deed_tax("1000000.00", cu.unit.area, True)[1]


def _notification(client, case):
    page = client.get(f"/tax/case/{case.id}").get_data(as_text=True)
    assert 'id="tax-assessments"' in page
    reference = re.search(r'name="reference" value="([^"]+)"', page).group(1)
    page = client.post(f"/tax/case/{case.id}", data={"reference": reference}).get_data(as_text=True)
    form = page[page.index('id="tax-notify-form"'):]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("return", None)
    return fields


def test_the_bureau_assesses_per_unit_with_the_buyer(client, db, transfer):
    login(client, "bank_a_op")
    fields = _notification(client, transfer)
    assert Decimal(fields["amount"]) == _expected(transfer)
    db.session.expire_all()
    rows = db.session.scalars(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id)).all()
    assert len(rows) == 1 and rows[0].status == "pending" and rows[0].reference == fields["reference"]
    assert rows[0].buyers and rows[0].buyers[0]["name"].startswith("测试obligee")
    again = client.get(f"/tax/case/{transfer.id}").get_data(as_text=True)
    assert fields["reference"] in again
    assert len(db.session.scalars(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id)).all()) == 1, \
        "visiting again does not assess twice"


def test_a_missing_price_is_reported_on_the_bureau_page(client, db, transfer):
    transfer.units[0].data = {k: v for k, v in transfer.units[0].data.items() if k != "price"}
    db.session.commit()
    login(client, "bank_a_op")
    page = client.get(f"/tax/case/{transfer.id}").get_data(as_text=True)
    assert 'id="tax-error"' in page and "成交价格缺失" in page and transfer.units[0].unit.location in page


def test_a_signed_notification_clears_the_tax_once(client, db, transfer):
    login(client, "bank_a_op")
    fields = _notification(client, transfer)
    assert client.post("/tax/notify", data=fields).get_data(as_text=True) == "success"
    assert client.post("/tax/notify", data=fields).get_data(as_text=True) == "success", "a repeat is harmless"
    db.session.expire_all()
    row = db.session.scalar(select(TaxAssessment).where(TaxAssessment.reference == fields["reference"]))
    assert row.status == "cleared" and row.receipt_number == fields["receipt_number"] and row.cleared_at


def test_a_forged_or_altered_notification_is_refused(client, db, transfer):
    login(client, "bank_a_op")
    fields = _notification(client, transfer)
    cheap = client.post("/tax/notify", data={**fields, "amount": "0.01"})
    assert cheap.status_code == 400 and "签名无效" in cheap.get_data(as_text=True)
    forged = client.post("/tax/notify", data={**fields, "signature": "0" * 64})
    assert forged.status_code == 400
    signed_wrong = tax.adapter().sign({**{k: fields[k] for k in tax.FIELDS}, "amount": "0.01"})
    mismatch = client.post("/tax/notify", data=signed_wrong)
    assert mismatch.status_code == 400
    unknown = client.post("/tax/notify", data=tax.adapter().sign({**{k: fields[k] for k in tax.FIELDS},
                                                                  "reference": "TAXNOSUCH"}))
    assert unknown.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(TaxAssessment).where(TaxAssessment.reference == fields["reference"])).status == "pending"


def test_recording_is_refused_until_the_tax_is_cleared(app, db, reviewer, transfer):
    business = workflow.rulebook.for_case(transfer)
    pay = business.workflow.transition("pay", "unpaid")
    assert "tax_cleared" in pay.guards and "fees_paid" in pay.guards
    _lines, total = workflow.fees_due(transfer, business)
    db.session.add(Payment(order_number=f"PAYT{transfer.id:08d}", case_id=transfer.id,
                           institution_id=transfer.institution_id, amount=total, status="paid", items=[]))
    db.session.commit()
    with app.test_request_context():
        with pytest.raises(WorkflowError) as exc:
            workflow.fire(transfer, "pay", reviewer, opinion="同意")
        assert "完税" in " ".join(str(p) for p in exc.value.problems)
        assessments = tax.adapter().assess(transfer)
        db.session.commit()
        with pytest.raises(WorkflowError) as exc:
            workflow.fire(transfer, "pay", reviewer, opinion="同意")
        assert str(assessments[0].amount) in " ".join(str(p) for p in exc.value.problems)
        tax.settle(tax.adapter().notification(assessments[0]))
        db.session.commit()
        assert tax.adapter().status(transfer)
        workflow.fire(transfer, "pay", reviewer, opinion="同意")
    assert transfer.node == "issued"


def test_a_price_changed_after_payment_needs_a_new_assessment(app, db, transfer):
    with app.test_request_context():
        a = tax.adapter().assess(transfer)[0]
        tax.settle(tax.adapter().notification(a))
        db.session.commit()
        assert tax.problems(transfer) == []
        transfer.units[0].data = {**transfer.units[0].data, "price": "2000000.00"}
        db.session.commit()
        assert tax.problems(transfer)
        again = tax.adapter().assess(transfer)[0]
        assert again.status == "pending" and again.price == Decimal("2000000.00")
        db.session.rollback()


def test_another_institution_cannot_open_the_tax_page(client, db, transfer):
    login(client, "bank_a_op")
    client.get(f"/tax/case/{transfer.id}")
    reference = db.session.scalar(select(TaxAssessment.reference).where(TaxAssessment.case_id == transfer.id))
    login(client, "bank_b_op")
    assert client.get(f"/tax/case/{transfer.id}").status_code == 404
    assert client.post(f"/tax/case/{transfer.id}", data={"reference": reference}).status_code == 404
    assert client.post(f"/tax/declare/{transfer.id}").status_code == 404
    assert client.post(f"/tax/check/{transfer.id}").status_code == 404
    login(client, "public")
    assert client.get(f"/tax/case/{transfer.id}").status_code == 404
    assert client.post(f"/tax/declare/{transfer.id}").status_code == 404


def test_a_business_without_the_tax_check_has_no_tax_page(client, db):
    case = factories.case(db, "bank_a_op", node="pre_review")
    login(client, "bank_a_op")
    assert client.get(f"/tax/case/{case.id}").status_code == 404
    assert 'id="case-tax"' not in client.get(f"/desk/case/{case.id}/").get_data(as_text=True)


def test_the_case_pages_show_the_tax_status(client, db, transfer):
    login(client, "bank_a_op")
    page = client.get(f"/desk/case/{transfer.id}/").get_data(as_text=True)
    assert 'id="tax-status"' in page and 'id="tax-btn"' in page and "未核税" in page
    fields = _notification(client, transfer)
    page = client.get(f"/desk/case/{transfer.id}/").get_data(as_text=True)
    assert "未完税" in page and str(_expected(transfer)) in page
    back = client.post("/tax/notify", data={**fields, "return": "1"})
    assert back.status_code == 302 and f"/tax/case/{transfer.id}" in back.headers["Location"]
    page = client.get(f"/desk/case/{transfer.id}/").get_data(as_text=True)
    assert "已完税" in page and 'id="tax-btn"' not in page
    login(client, "reviewer")
    page = client.get(f"/review/case/{transfer.id}/").get_data(as_text=True)
    assert 'id="tax-status"' in page and "已完税" in page


def test_a_party_who_proves_the_case_reaches_the_tax_bureau(client, db, transfer):
    buyer = next(p for p in transfer.parties if p.role == "obligee")
    login(client, "public")
    page = client.post("/pay/", data={"number": transfer.number, "id_number": buyer.id_number}).get_data(as_text=True)
    assert f'action="/tax/declare/{transfer.id}"' in page
    to_bureau = client.post(f"/tax/declare/{transfer.id}")
    assert to_bureau.status_code == 302 and to_bureau.headers["Location"].endswith(f"/tax/case/{transfer.id}")
    fields = _notification(client, transfer)
    assert client.post("/tax/notify", data=fields).get_data(as_text=True) == "success"
