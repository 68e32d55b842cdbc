"""The real adapters of the outside services against local stub servers (tests/stubs) speaking the documented
signed HTTP protocols: the SMS gateway, the payment provider (order, checkout, signed notify with replay window,
amount and order checks) and the tax bureau (declaration, 完税核验 query, signed notify).

The session's app runs with REGISTRY_SANDBOX on; each test switches one service to its real adapter."""
import json
import socket
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.rulebook import workflow
from app.services import payment as payments
from app.services import sms, tax
from models import Payment, SmsMessage, TaxAssessment
from tests.stubs import KEY_ID, SECRET, PaymentProvider, SmsGateway, TaxBureau, signed_headers
from tests.test_payment import case_with_fees, login  # noqa: F401  (fixture)
from tests.test_tax import reviewer, transfer  # noqa: F401  (fixtures)


def use(monkeypatch, app, service, stub, **extra):
    """Switch the service to its real adapter, pointed at the stub."""
    for key, value in {"ADAPTER": "http", "URL": stub.url if stub else "", "KEY_ID": KEY_ID, "SECRET": SECRET,
                       **extra}.items():
        monkeypatch.setitem(app.config, f"{service}_{key}", value)


@pytest.fixture
def gateway(app, monkeypatch):
    stub = SmsGateway()
    use(monkeypatch, app, "SMS", stub)
    yield stub
    stub.close()


@pytest.fixture
def provider(app, monkeypatch):
    stub = PaymentProvider()
    use(monkeypatch, app, "PAYMENT", stub)
    yield stub
    stub.close()


@pytest.fixture
def bureau(app, monkeypatch):
    stub = TaxBureau()
    use(monkeypatch, app, "TAX", stub)
    yield stub
    stub.close()


# ---- SMS ----------------------------------------------------------------------------------------------------
def test_the_sms_gateway_receives_a_signed_post_and_the_text_is_not_kept(app, db, gateway):
    with app.test_request_context():
        assert isinstance(sms.adapter(), sms.GatewaySms)
        message = sms.adapter().send("13800000000", "您的验证码是 482913，5分钟内有效。", "register")
        db.session.commit()
    assert gateway.refused == [] and len(gateway.received) == 1
    path, headers, payload = gateway.received[0]
    assert path == "/v1/messages" and headers["X-Registry-Key-Id"] == KEY_ID
    assert payload == {"phone": "13800000000", "content": "您的验证码是 482913，5分钟内有效。", "purpose": "register"}
    stored = db.session.get(SmsMessage, message.id)
    assert stored.phone == "13800000000" and "482913" not in stored.body and "SMS000001" in stored.body


def test_a_gateway_error_is_raised_with_its_reason(app, db, gateway):
    gateway.error = ("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控")
    with app.test_request_context():
        with pytest.raises(sms.SmsError) as exc:
            sms.adapter().send("13800000000", "text", "register")
    assert "短信发送失败" in str(exc.value) and "触发小时级流控" in str(exc.value)
    assert db.session.scalar(select(SmsMessage).where(SmsMessage.body == "text")) is None


def test_a_wrong_secret_an_unsigned_answer_or_no_gateway_is_an_error(app, db, gateway, monkeypatch):
    with app.test_request_context():
        monkeypatch.setitem(app.config, "SMS_SECRET", "not-the-shared-secret-0123456789")
        with pytest.raises(sms.SmsError):
            sms.adapter().send("13800000000", "text", "register")
        assert gateway.refused == ["bad signature"], "the stub checked the app's signature"
        monkeypatch.setitem(app.config, "SMS_SECRET", SECRET)
        forger = SmsGateway(answer_secret="someone-else-0123456789abcdef")
        monkeypatch.setitem(app.config, "SMS_URL", forger.url)
        with pytest.raises(sms.SmsError) as exc:
            sms.adapter().send("13800000000", "text", "register")
        assert "未经其签名" in str(exc.value)
        forger.close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        monkeypatch.setitem(app.config, "SMS_URL", f"http://127.0.0.1:{closed_port}")
        with pytest.raises(sms.SmsError) as exc:
            sms.adapter().send("13800000000", "text", "register")
        assert "无法连接" in str(exc.value)


# ---- payment ------------------------------------------------------------------------------------------------
def _order(client, provider, case):
    """Confirm the order on the platform: the app creates it at the provider and sends the payer to checkout."""
    response = client.post(f"/pay/order/{case.id}")
    assert response.status_code == 302
    path, _headers, payload = provider.received[-1]
    assert path == "/v1/orders" and provider.refused == []
    assert response.headers["Location"] == f"{provider.url}/checkout/{payload['order_number']}"
    return payload


def test_real_provider_order_checkout_notify_and_the_fees_guard(app, client, db, case_with_fees, provider,
                                                                live_server, monkeypatch):
    from app import rulebook
    from app.rulebook.guards import fees_paid
    monkeypatch.setitem(app.config, "PAYMENT_NOTIFY_URL", f"{live_server}/pay/notify")
    login(client, "bank_a_op")
    order = _order(client, provider, case_with_fees)
    assert order["amount"] == "160.00" and order["currency"] == "CNY"
    assert order["notify_url"] == f"{live_server}/pay/notify" and case_with_fees.number in order["description"]
    business = rulebook.get("mortgage_first")
    with app.test_request_context():
        assert fees_paid(case_with_fees, business, None), "not paid yet"
    assert provider.pay(order["order_number"]) == (200, {"code": "OK", "message": "success"})
    db.session.expire_all()
    paid = db.session.scalar(select(Payment).where(Payment.order_number == order["order_number"]))
    assert paid.status == "paid" and paid.provider_ref == f"WX{order['order_number']}" and paid.paid_at
    with app.test_request_context():
        assert fees_paid(db.session.get(type(case_with_fees), case_with_fees.id), business, None) == []
    assert provider.pay(order["order_number"]) == (200, {"code": "OK", "message": "success"}), \
        "a repeat delivery, signed afresh, is answered OK and changes nothing"
    db.session.expire_all()
    assert db.session.scalars(select(Payment).where(Payment.case_id == case_with_fees.id,
                                                    Payment.status == "paid")).all() == [paid]


def _notify(client, payload, secret=SECRET, key_id=KEY_ID, timestamp=None, nonce=None):
    body = json.dumps(payload).encode()
    headers = signed_headers("POST", "/pay/notify", body, secret, key_id, timestamp, nonce)
    return client.post("/pay/notify", data=body, content_type="application/json", headers=headers)


def test_forged_replayed_stale_mismatched_or_unknown_notifications_change_nothing(app, client, db, case_with_fees,
                                                                                  provider):
    login(client, "bank_a_op")
    order = _order(client, provider, case_with_fees)
    number = order["order_number"]
    good = provider.notification(number)

    def refused(response, reason):
        assert response.status_code == 400, response.get_data(as_text=True)
        answer = response.get_json()
        assert answer["code"] == "FAIL" and reason in answer["message"], answer
        db.session.expire_all()
        row = db.session.scalar(select(Payment).where(Payment.order_number == number))
        assert row.status == "pending" and row.provider_ref is None and row.paid_at is None

    refused(_notify(client, good, secret="forged-secret-0123456789abcdef"), "签名无效")
    refused(_notify(client, good, key_id="someone-else"), "签名无效")
    refused(_notify(client, good, timestamp=int(time.time()) - 3600), "过期")
    refused(_notify(client, good, timestamp=int(time.time()) + 3600), "过期")
    refused(_notify(client, provider.notification(number, amount="0.01")), "金额")
    refused(_notify(client, provider.notification(number, amount="160.01")), "金额")
    refused(_notify(client, provider.notification(number, currency="USD")), "币种")
    refused(_notify(client, provider.notification("PAYNOSUCHORDER")), "未知")
    refused(_notify(client, provider.notification(number, status="closed")), "未完成")
    form = payments.SandboxPayment().notification(db.session.scalar(select(Payment).where(
        Payment.order_number == number)), "wechat")
    response = client.post("/pay/notify", data=form)  # the sandbox's form: no proof under the real adapter
    assert response.status_code == 400
    refused(response, "签名无效")

    nonce = "replay-nonce-0123456789abcdef"
    accepted = _notify(client, good, nonce=nonce)
    assert accepted.status_code == 200 and accepted.get_json()["code"] == "OK"
    db.session.expire_all()
    row = db.session.scalar(select(Payment).where(Payment.order_number == number))
    paid_at = row.paid_at
    assert row.status == "paid"
    replay = _notify(client, {**good, "provider_ref": "WXREPLAYED"}, nonce=nonce)
    assert replay.status_code == 400 and "重复" in replay.get_json()["message"]
    db.session.expire_all()
    row = db.session.scalar(select(Payment).where(Payment.order_number == number))
    assert row.provider_ref == good["provider_ref"] and row.paid_at == paid_at


# ---- tax ----------------------------------------------------------------------------------------------------
def _declare(client, bureau, case):
    response = client.post(f"/tax/declare/{case.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"{bureau.url}/pay/{case.number}"
    path, _headers, payload = bureau.received[-1]
    assert path == "/v1/deed-tax/declarations" and bureau.refused == []
    return payload


def _tax_guard(app, db, case):
    from app.rulebook.guards import tax_cleared
    db.session.expire_all()
    case = db.session.get(type(case), case.id)
    with app.test_request_context():
        return tax_cleared(case, workflow.rulebook.for_case(case), None)


def test_real_tax_bureau_declaration_query_and_the_tax_guard(app, client, db, transfer, reviewer, bureau):
    login(client, "bank_a_op")
    declared = _declare(client, bureau, transfer)
    unit = transfer.units[0].unit
    assert declared["case_number"] == transfer.number and declared["business"] == "second_hand_transfer"
    assert declared["units"] == [{"unit_code": unit.unit_code, "location": unit.location, "area": str(unit.area),
                                  "price": "1000000.00", "first_home": True}]
    assert declared["buyers"] and declared["buyers"][0]["name"].startswith("测试obligee")
    [row] = bureau.rows(transfer.number)
    db.session.expire_all()
    local = db.session.scalar(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id))
    assert (local.reference, local.amount, local.status) == (row["reference"], Decimal("30000.00"), "pending"), \
        "the bureau's assessment prevails over the local default rates"
    assert _tax_guard(app, db, transfer), "the tax is not paid yet"

    client.post(f"/tax/check/{transfer.id}")  # asked before payment: still not cleared
    assert bureau.received[-1][0] == "/v1/deed-tax/status" and _tax_guard(app, db, transfer)
    bureau.pay(transfer.number)
    page = client.post(f"/tax/check/{transfer.id}", follow_redirects=True).get_data(as_text=True)
    assert "税务机关确认契税已缴纳" in page
    assert _tax_guard(app, db, transfer) == []
    db.session.expire_all()
    local = db.session.scalar(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id))
    assert local.status == "cleared" and local.receipt_number == f"RC{row['reference']}"
    case = db.session.get(type(transfer), transfer.id)
    _lines, total = workflow.fees_due(case, workflow.rulebook.for_case(case))
    db.session.add(Payment(order_number=f"PAYX{case.id:08d}", case_id=case.id, institution_id=case.institution_id,
                           amount=total, status="paid", items=[]))
    db.session.commit()
    with app.test_request_context():
        workflow.fire(case, "pay", reviewer, opinion="同意")
    assert case.node == "issued"


def test_the_tax_bureau_notify_clears_the_tax_once_and_forgeries_are_refused(app, client, db, transfer, bureau,
                                                                            live_server, monkeypatch):
    monkeypatch.setitem(app.config, "TAX_NOTIFY_URL", f"{live_server}/tax/notify")
    login(client, "bank_a_op")
    declared = _declare(client, bureau, transfer)
    assert declared["notify_url"] == f"{live_server}/tax/notify"
    [row] = bureau.rows(transfer.number)
    forged = {"reference": row["reference"], "amount": row["amount"], "receipt_number": "RCFORGED", "status": "cleared"}
    body = json.dumps(forged).encode()
    response = client.post("/tax/notify", data=body, content_type="application/json",
                           headers=signed_headers("POST", "/tax/notify", body, "forged-0123456789abcdef"))
    assert response.status_code == 400 and response.get_json()["code"] == "FAIL"
    cheap = json.dumps({**forged, "amount": "0.01"}).encode()
    response = client.post("/tax/notify", data=cheap, content_type="application/json",
                           headers=signed_headers("POST", "/tax/notify", cheap))
    assert response.status_code == 400 and "不符" in response.get_json()["message"]
    assert _tax_guard(app, db, transfer)
    assert bureau.pay(transfer.number, notify=True) == [(200, {"code": "OK", "message": "success"})]
    assert _tax_guard(app, db, transfer) == []
    db.session.expire_all()
    local = db.session.scalar(select(TaxAssessment).where(TaxAssessment.case_id == transfer.id))
    assert local.status == "cleared" and local.receipt_number == f"RC{row['reference']}"


def test_a_refusing_gateway_is_a_message_on_the_page_not_an_error_page(client, gateway):
    gateway.error = ("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控")
    page = client.post("/accounts/register/", data={"phone": "13912345678", "send_code": "1"})
    assert page.status_code == 200
    assert "触发小时级流控" in page.get_data(as_text=True)
