"""Party confirmation proves the party (app/services/party_confirmation.py): the code goes to the phone on
record (the register, or the party's own verified account), never simply to the number the operator types;
a changed number resets the confirmation; sends are capped per party."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from app import rulebook
from app.demo import make_id_card
from app.services import verification
from models import Case, CaseParty, OneTimeCode, Party, SmsMessage
from tests.accounts_helpers import forget_request_globals, new_account
from tests.test_desk import find_applicable

KEY = "mortgage_general_online"
ATTACKER = "13811112222"


@pytest.fixture(autouse=True)
def _own_requests(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def signed_in(client, username):
    assert "/logout" in client.auth.login(username).get_data(as_text=True), f"{username} could not sign in"


def draft(client, db):
    """A new mortgage draft of a demo holder, as its bank's operator: (case id, the mortgagor's id)."""
    username, keys, unit = find_applicable(rulebook.get(KEY))
    signed_in(client, username)
    assert client.get(f"/desk/apply/{KEY}/", query_string=keys).status_code == 200  # a POST with one unit starts the case
    r = client.post(f"/desk/apply/{KEY}/start", data={**keys, "unit_id": str(unit.id)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    case_id = int(re.search(r"/desk/case/(\d+)/", r.headers["Location"]).group(1))
    case = db.session.get(Case, case_id)
    return case_id, next(p.id for p in case.parties if p.role == "mortgagor")


def party(db, party_id):
    db.session.expire_all()
    return db.session.get(CaseParty, party_id)


def register_phone(db, cp):
    return db.session.scalar(select(Party.phone).where(Party.id_number == cp.id_number))


def edit_party(client, case_id, cp, **changes):
    data = {"role": cp.role, "kind": cp.kind, "name": cp.name, "id_type": cp.id_type, "id_number": cp.id_number,
            "phone": cp.phone or "", "share": "", "party_id": str(cp.id), **changes}
    r = client.post(f"/desk/case/{case_id}/party", data=data)
    assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))


def send(client, case_id, party_id):
    return client.post(f"/desk/case/{case_id}/party/{party_id}/send-code", follow_redirects=True).get_data(as_text=True)


def confirm(client, case_id, party_id, code):
    return client.post(f"/desk/case/{case_id}/party/{party_id}/confirm", data={"code": code},
                       follow_redirects=True).get_data(as_text=True)


def last_sms(db, phone):
    db.session.expire_all()
    return db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))


def earlier(db, minutes):
    db.session.expire_all()
    for otp in db.session.scalars(select(OneTimeCode)):
        otp.created_at -= dt.timedelta(minutes=minutes)
    db.session.commit()


def test_the_code_goes_to_the_holders_phone_on_record_not_to_the_number_the_operator_types(client, db):
    case_id, party_id = draft(client, db)
    cp = party(db, party_id)
    on_record = register_phone(db, cp)
    assert on_record
    edit_party(client, case_id, cp, phone=ATTACKER)  # the operator types their own number
    assert party(db, party_id).phone == ATTACKER

    page = send(client, case_id, party_id)
    assert f"确认验证码已发送至登记在册的手机号码{on_record[:3]}****{on_record[-4:]}" in page
    assert last_sms(db, ATTACKER) is None
    msg = last_sms(db, on_record)
    assert msg is not None and "138****2222" in msg.body  # the holder sees the number the operator typed
    assert "如非本人申请，请勿告知任何人" in msg.body

    page = confirm(client, case_id, party_id, verification.reveal(msg))
    assert "确认" in page
    cp = party(db, party_id)
    assert cp.confirmed_at is not None and cp.confirmed_phone == on_record


def test_a_phone_swap_resets_the_confirmation_and_the_new_number_must_be_confirmed(client, app, db):
    case_id, party_id = draft(client, db)
    on_record = register_phone(db, party(db, party_id))
    send(client, case_id, party_id)
    confirm(client, case_id, party_id, verification.reveal(last_sms(db, on_record)))
    assert party(db, party_id).confirmed_at is not None

    # The operator changes the party's number on the case: the confirmation is gone.
    edit_party(client, case_id, party(db, party_id), phone="13922223333")
    assert party(db, party_id).confirmed_at is None
    earlier(db, 2)
    send(client, case_id, party_id)
    confirm(client, case_id, party_id, verification.reveal(last_sms(db, on_record)))
    assert party(db, party_id).confirmed_at is not None

    # The registry records a new number for the holder: confirmed on the old one no longer counts.
    cp = party(db, party_id)
    record = db.session.scalar(select(Party).where(Party.id_number == cp.id_number))
    signed_in(client, "reviewer")
    new_number = "13633334444"
    r = client.post(f"/partyview/edit/{record.id}", data={
        "kind": record.kind, "name": record.name, "id_type": record.id_type, "id_number": record.id_number,
        "phone": new_number, "address": record.address or ""})
    assert r.status_code == 302
    assert db.session.scalar(select(Party.phone).where(Party.id == record.id)) == new_number
    cp = party(db, party_id)
    assert cp.confirmed_at is None and cp.confirmed_phone is None

    # The old number's code is refused; the party confirms on the new number.
    old_code = verification.reveal(last_sms(db, on_record))
    signed_in(client, db.session.get(Case, case_id).applicant.username)
    assert "尚未向该号码发送验证码" in confirm(client, case_id, party_id, old_code)
    assert party(db, party_id).confirmed_at is None
    earlier(db, 2)  # past the resend gap, which holds per party whatever the number
    send(client, case_id, party_id)
    confirm(client, case_id, party_id, verification.reveal(last_sms(db, new_number)))
    cp = party(db, party_id)
    assert cp.confirmed_at is not None and cp.confirmed_phone == new_number


def test_a_party_without_a_number_on_record_confirms_only_through_their_own_account(client, db):
    case_id, _mortgagor = draft(client, db)
    id_number = make_id_card(dt.date(1991, 3, 3), 777)
    typed = "13955556666"
    r = client.post(f"/desk/case/{case_id}/party", data={
        "role": "debtor", "kind": "person", "name": "陈晓东", "id_type": "1", "id_number": id_number,
        "phone": typed, "share": "", "party_id": ""})
    assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
    db.session.expire_all()
    cp = db.session.scalar(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.id_number == id_number))

    page = send(client, case_id, cp.id)
    assert "陈晓东没有登记在册的手机号码" in page
    assert last_sms(db, typed) is None

    account = new_account(db, role="Public", id_number=id_number, phone="15988887777")
    send(client, case_id, cp.id)
    assert last_sms(db, typed) is None
    msg = last_sms(db, account.phone)
    assert msg is not None
    confirm(client, case_id, cp.id, verification.reveal(msg))
    assert party(db, cp.id).confirmed_at is not None


def test_confirmation_codes_are_capped_per_party(client, db):
    case_id, party_id = draft(client, db)
    on_record = register_phone(db, party(db, party_id))
    for _ in range(5):
        assert "确认验证码已发送" in send(client, case_id, party_id)
        earlier(db, 2)
    page = send(client, case_id, party_id)
    assert "同一号码每小时最多发送5条验证码，请稍后再试" in page
    db.session.expire_all()
    assert len(db.session.scalars(select(SmsMessage.id).where(SmsMessage.phone == on_record,
                                                              SmsMessage.purpose == "case_confirm")).all()) == 5
