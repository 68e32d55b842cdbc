"""Online payment: order for what is due, sandbox cashier, signed idempotent notification, fees_paid guard."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services import payment as payments
from models import Case, CaseParty, CaseUnit, Payment, Unit
from tests import factories


@pytest.fixture
def case_with_fees(db):
    """A submitted 房屋抵押权首次登记 case of bank A on residential units of two parcels: 2 件 × 80 yuan (units of
    one parcel under one loan would be one 件, tests/test_fees.py)."""
    from models import Building
    parcels = {}
    for b in db.session.scalars(select(Building).order_by(Building.id)):
        parcels.setdefault(b.parcel_id, b.id)
    units = [db.session.scalars(select(Unit).where(Unit.building_id == bid, Unit.use == "residential")).first()
             for bid in list(parcels.values())[:2]]
    case = factories.case(db, "bank_a_op", node="pre_review")
    for unit in units:
        db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
    db.session.add(CaseParty(case_id=case.id, role="debtor", name="孙悦", id_type="1", id_number="11010519491231002X"))
    db.session.commit()
    return case


def login(client, username):
    """Sign in (Auth.login asserts it worked)."""
    client.auth.login(username)


def _pay(client, case, channel="wechat"):
    response = client.post(f"/pay/order/{case.id}")
    assert response.status_code == 302
    cashier = response.headers["Location"]
    page = client.post(cashier, data={"channel": channel}).get_data(as_text=True)
    import re
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields.pop("csrf_token", None)
    fields.pop("return", None)
    return fields


def test_an_order_covers_the_fees_of_every_unit(client, db, case_with_fees):
    login(client, "bank_a_op")
    fields = _pay(client, case_with_fees)
    assert Decimal(fields["amount"]) == Decimal("160.00")
    order = db.session.scalar(select(Payment).where(Payment.order_number == fields["order_number"]))
    assert order.status == "pending" and len(order.items) == 2


def test_a_signed_notification_marks_the_order_paid_once(app, client, db, case_with_fees):
    login(client, "bank_a_op")
    fields = _pay(client, case_with_fees)
    assert client.post("/pay/notify", data=fields).get_data(as_text=True) == "success"
    assert client.post("/pay/notify", data=fields).get_data(as_text=True) == "success", "a repeat is harmless"
    db.session.expire_all()
    paid = db.session.scalars(select(Payment).where(Payment.case_id == case_with_fees.id, Payment.status == "paid")).all()
    assert len(paid) == 1 and paid[0].provider_ref == fields["provider_ref"]
    _, total, paid_total = payments.outstanding(db.session.get(Case, case_with_fees.id))
    assert paid_total == total == Decimal("160.00")


def test_a_forged_or_altered_notification_is_refused(client, db, case_with_fees):
    login(client, "bank_a_op")
    fields = _pay(client, case_with_fees)
    cheap = client.post("/pay/notify", data={**fields, "amount": "0.01"})
    assert cheap.status_code == 400 and "签名无效" in cheap.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Payment).where(Payment.order_number == fields["order_number"])).status == "pending"


def test_fees_paid_guard_blocks_until_payment(app, db, case_with_fees):
    from app import rulebook
    from app.rulebook.guards import fees_paid
    business = rulebook.get("mortgage_first")
    with app.test_request_context():
        assert fees_paid(case_with_fees, business, None)
        order = payments.create_order(case_with_fees)
        payments.settle(payments.adapter().notification(order, "alipay"))
        db.session.flush()
        assert fees_paid(case_with_fees, business, None) == []
        db.session.rollback()


def test_another_institution_cannot_order_for_my_case(client, case_with_fees):
    login(client, "bank_b_op")
    assert client.post(f"/pay/order/{case_with_fees.id}").status_code == 404


def test_anyone_with_the_case_number_and_a_party_id_can_pay(client, db, case_with_fees):
    login(client, "public")
    assert client.post(f"/pay/order/{case_with_fees.id}").status_code == 404
    page = client.post("/pay/", data={"number": case_with_fees.number, "id_number": "11010519491231002X"})
    assert "160.00" in page.get_data(as_text=True)
    fields = _pay(client, case_with_fees, channel="unionpay")
    assert fields["provider_ref"].startswith("UNIONPAY-")


def test_the_case_page_shows_fees_and_leads_to_payment(client, db, case_with_fees):
    login(client, "bank_a_op")
    page = client.get(f"/desk/case/{case_with_fees.id}/").get_data(as_text=True)
    assert 'id="pay-btn"' in page and "160.00" in page
    fields = _pay(client, case_with_fees)
    client.post("/pay/notify", data=fields)
    page = client.get(f"/desk/case/{case_with_fees.id}/").get_data(as_text=True)
    assert 'id="pay-btn"' not in page
