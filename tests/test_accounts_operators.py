"""Operator management by the institution administrator, and the registration flows."""
from io import BytesIO

import pytest

from sqlalchemy import select

from models import AuditLog, Case, Institution, Operator
from tests.accounts_helpers import forget_request_globals, PASSWORD, audit_actions, last_code, new_account, reload
from tests.conftest import signed_in
from tests.factories import institution, user


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def test_admin_adds_an_operator_by_looking_up_an_account_without_institution(client, db):
    person = new_account(db, role="Public")
    client.auth.login("bank_a_admin")
    page = client.get("/operatorview/lookup/", query_string={"query": person.phone}).get_data(as_text=True)
    assert person.username in page
    client.post(f"/operatorview/attach/{person.id}", data={"query": person.phone})
    fresh = reload(db, person)
    assert fresh.institution_id == institution(db, "bank_a").id
    assert [r.name for r in fresh.roles] == ["InstitutionOperator"]
    assert "attach_operator" in audit_actions(db, "bank_a_admin")


def test_lookup_never_finds_other_institutions_or_staff_accounts(client, db):
    client.auth.login("bank_a_admin")
    for query in ("bank_b_op", "reviewer", "admin"):
        page = client.get("/operatorview/lookup/", query_string={"query": query}).get_data(as_text=True)
        assert f"<td>{query}</td>" not in page
    staff = user(db, "reviewer")
    client.post(f"/operatorview/attach/{staff.id}", data={"query": "reviewer"})
    assert reload(db, staff).institution_id is None


def test_delete_selected_removes_operators_from_the_institution(client, db):
    bank = institution(db, "bank_a")
    a, b = new_account(db, institution=bank), new_account(db, institution=bank)
    client.auth.login("bank_a_admin")
    client.post("/operatorview/action_post", data={"action": "remove", "rowid": [str(a.id), str(b.id)]})
    assert reload(db, a).institution_id is None and reload(db, b).institution_id is None
    assert audit_actions(db, "bank_a_admin").count("remove_operator") >= 2


def test_other_institutions_operators_cannot_be_touched(client, db):
    other = new_account(db, institution=institution(db, "bank_b"))
    client.auth.login("bank_a_admin")
    assert client.get(f"/operatorview/show/{other.id}").status_code in (302, 404)
    client.post("/operatorview/action_post", data={"action": "remove", "rowid": [str(other.id)]})
    client.post(f"/operatorview/depart/{other.id}", data={})
    fresh = reload(db, other)
    assert fresh.institution_id == institution(db, "bank_b").id and fresh.status == "active"


def test_departed_operators_open_cases_all_move_to_the_chosen_colleague(client, db):
    bank = institution(db, "bank_a")
    leaver, colleague = new_account(db, institution=bank), new_account(db, institution=bank)
    cases = []
    for i, node in enumerate(["draft", "pre_review", "issued"]):
        row = Case(number=f"DEPART{leaver.id:05d}{i}", business_key="mortgage_first", node=node,
                   institution_id=bank.id, applicant_id=leaver.id, executor_id=leaver.id, form_data={})
        db.session.add(row)
        cases.append(row)
    db.session.commit()
    client.auth.login("bank_a_admin")
    page = client.get(f"/operatorview/depart/{leaver.id}").get_data(as_text=True)
    assert cases[0].number in page and cases[2].number not in page
    client.post(f"/operatorview/depart/{leaver.id}", data={"colleague": colleague.id})
    db.session.expire_all()
    moved = {c.number: (c.applicant_id, c.executor_id) for c in db.session.scalars(
        select(Case).where(Case.number.like(f"DEPART{leaver.id:05d}%")))}
    assert moved[cases[0].number] == moved[cases[1].number] == (colleague.id, colleague.id)
    assert moved[cases[2].number] == (leaver.id, leaver.id)  # a finished case keeps its history
    assert reload(db, leaver).status == "departed"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "transfer_cases",
                                                     AuditLog.object_id == str(leaver.id)))
    assert cases[0].number in entry.summary and colleague.username in entry.summary
    client.post("/logout/")
    page = client.post("/login/", data={"username": leaver.username, "password": PASSWORD},
                       follow_redirects=True).get_data(as_text=True)
    assert "/logout" not in page


def test_operator_with_open_cases_cannot_simply_be_deleted(client, db):
    bank = institution(db, "bank_a")
    op = new_account(db, institution=bank)
    db.session.add(Case(number=f"KEEP{op.id:06d}", business_key="mortgage_first", node="draft",
                        institution_id=bank.id, applicant_id=op.id, executor_id=op.id, form_data={}))
    db.session.commit()
    client.auth.login("bank_a_admin")
    client.post("/operatorview/action_post", data={"action": "remove", "rowid": [str(op.id)]})
    assert reload(db, op).institution_id == bank.id


def test_personal_settings_font_size_is_remembered_and_password_needs_the_old_one(client, db):
    me = new_account(db)
    assert signed_in(client.post("/login/", data={"username": me.username, "password": PASSWORD},
                                 follow_redirects=True).get_data(as_text=True))
    client.post("/settings/", data={"font_size": "xlarge", "save_font": "1"})
    client.post("/logout/")
    assert signed_in(client.post("/login/", data={"username": me.username, "password": PASSWORD},
                                 follow_redirects=True).get_data(as_text=True))
    assert "font-xlarge" in client.get("/settings/").get_data(as_text=True)
    page = client.post("/settings/", data={"old_password": "not-it-123", "password": "Another2028",
                                           "confirm": "Another2028", "change_password": "1"}).get_data(as_text=True)
    assert "当前密码错误" in page
    client.post("/settings/", data={"old_password": PASSWORD, "password": "Another2028", "confirm": "Another2028",
                                    "change_password": "1"})
    assert b"my-username" not in client.get("/settings/", follow_redirects=True).data  # signed out everywhere
    assert "change_password" in audit_actions(db, me.username)


def test_public_registration_needs_the_sms_code_a_valid_id_and_the_terms(client, db):
    phone = "13912345678"
    client.post("/accounts/register/", data={"phone": phone, "send_code": "1"})
    form = {"phone": phone, "code": last_code(db, phone), "name": "王小明", "id_number": "110101199003074514",
            "password": "Public2026", "confirm": "Public2026", "submit": "1"}
    page = client.post("/accounts/register/", data={**form, "id_number": "110101199003074515",
                                                    "accept_terms": "y"}).get_data(as_text=True)
    assert "校验" in page
    page = client.post("/accounts/register/", data=form).get_data(as_text=True)
    assert "条款" in page
    client.post("/accounts/register/", data={**form, "accept_terms": "y"})
    account = db.session.scalar(select(Operator).where(Operator.username == phone))
    assert account.id_number == "110101199003074514" and [r.name for r in account.roles] == ["Public"]
    client.post("/logout/")
    assert "/logout" in client.post("/login/", data={"username": phone, "password": "Public2026"},
                                    follow_redirects=True).get_data(as_text=True)


def test_a_new_bank_registers_is_approved_and_its_admin_signs_in(client, db):
    from app.demo import make_uscc
    uscc = make_uscc("91430104MA4L09999")
    form = {"name": "长沙测试银行", "kind": "bank", "uscc": uscc, "legal_person": "刘强",
            "legal_person_id_number": "110101199003074514", "contact_name": "刘强", "contact_phone": "13911112222",
            "address": "长沙市", "username": "newbank_admin", "email": "nb@example.com", "admin_name": "刘强",
            "admin_phone": "13911112222", "password": "NewBank2026", "confirm": "NewBank2026", "accept_terms": "y",
            "documents": [(BytesIO(b"%PDF-1.4 licence"), "licence.pdf")]}
    client.post("/logout/")
    page = client.post("/accounts/register/institution/", data=form, content_type="multipart/form-data").get_data(as_text=True)
    bank = db.session.scalar(select(Institution).where(Institution.uscc == uscc))
    assert bank is not None, page
    assert bank.status == "pending"
    page = client.post("/login/", data={"username": "newbank_admin", "password": "NewBank2026"},
                       follow_redirects=True).get_data(as_text=True)
    assert "/logout" not in page

    client.auth.login("reviewer")
    page = client.get(f"/registrations/{bank.id}/").get_data(as_text=True)
    assert "licence" not in page or ".pdf" in page
    client.post(f"/registrations/{bank.id}/", data={"opinion": "材料齐全", "approve": "1"})
    db.session.expire_all()
    assert db.session.get(Institution, bank.id).status == "approved"
    assert "approve_registration" in audit_actions(db, "reviewer")
    client.post("/logout/")
    page = client.post("/login/", data={"username": "newbank_admin", "password": "NewBank2026"},
                       follow_redirects=True).get_data(as_text=True)
    assert "/logout" in page


def test_institution_admin_completes_the_information_but_cannot_approve_itself(client, db):
    bank = institution(db, "bank_b")
    form = {"name": bank.name, "kind": bank.kind, "uscc": bank.uscc, "legal_person": bank.legal_person,
            "legal_person_id_number": bank.legal_person_id_number or "", "contact_name": bank.contact_name,
            "contact_phone": bank.contact_phone, "address": "长沙市岳麓区枫林一路9号", "status": "approved"}
    client.auth.login("bank_b_admin")
    client.post(f"/institutionview/edit/{bank.id}", data=form)
    db.session.expire_all()
    assert institution(db, "bank_b").address == "长沙市岳麓区枫林一路9号"
    page = client.post(f"/institutionview/edit/{bank.id}", data={**form, "status": "disabled", "ca_required": "y"},
                       follow_redirects=True).get_data(as_text=True)
    db.session.expire_all()
    fresh = institution(db, "bank_b")
    assert fresh.status == "approved" and not fresh.ca_required
    assert "登记机构" in page


def test_deleting_one_operator_removes_it_from_the_institution_and_keeps_the_account(client, db):
    bank = institution(db, "bank_a")
    op = new_account(db, institution=bank)
    client.auth.login("bank_a_admin")
    client.post(f"/operatorview/delete/{op.id}")
    fresh = reload(db, op)
    assert fresh is not None and fresh.institution_id is None and [r.name for r in fresh.roles] == ["Public"]
    assert client.post(f"/operatorview/delete/{op.id}").status_code == 404  # now outside the scope


@pytest.mark.parametrize("username", ["bank_a_admin", "bank_a_op", "public"])
def test_only_the_registry_reviews_registrations(client, username):
    client.auth.login(username)
    assert client.get("/registrations/").status_code == 403


def test_reviewer_sees_the_registration_queue(client):
    client.auth.login("reviewer")
    assert 'id="registrations"' in client.get("/registrations/").get_data(as_text=True)
