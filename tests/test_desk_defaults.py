"""What the desk knows before the clerk types (issue 9), through the rules and the views:
field defaults declared in rules/*.yaml (and refused when they are not one of the field's options),
the debtor copied from the mortgagor, the lookup that starts the case when it finds one unit, files
filed under their material by name, the generated application form, and the 待确认 wait of submit."""
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from app import rulebook
from app.extensions import db as _db
from app.rulebook.loader import RulesError, load_directory
from app.rulebook import workflow
from app.services import party_confirmation
from models import Case, SmsMessage

from . import factories
from .test_desk import find_applicable, latest_code, tiny_pdf
from .test_rulebook import edit, line_of, problems_for, rules_copy  # noqa: F401 (fixture)
from .test_workflow import complete, free_unit

KEY = "mortgage_first"


def _start(client, key=KEY):
    business = rulebook.get(key)
    username, keys, unit = find_applicable(business)
    assert client.auth.login(username).status_code == 200
    r = client.post(f"/desk/apply/{key}/", data=keys)
    assert r.status_code == 302 and "/desk/case/" in r.headers["Location"], r.get_data(as_text=True)[:300]
    case_id = int(re.search(r"/desk/case/(\d+)/", r.headers["Location"]).group(1))
    return business, _db.session.get(Case, case_id)


# ---- rules --------------------------------------------------------------------------------------

def test_a_default_must_be_one_of_the_choices(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "default: housing_loan}", "default: house_loan}")
    problem = next(p for p in problems_for(rules_copy) if "house_loan" in p)
    assert problem.startswith(f"rules/mortgage_first.yaml, line {line_of(f, 'house_loan')}: form.case[0].default: "
                              "should be one of housing_loan, business_loan")


@pytest.mark.parametrize("old,new,needle", [
    ("type: boolean, default: false}", "type: boolean, default: maybe}", "maybe"),
    ("type: date, required: true, default: today}", "type: date, required: true, default: tomorrow}", "tomorrow"),
])
def test_a_default_must_fit_the_field_type(rules_copy, old, new, needle):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, old, new)
    assert any(needle in p and ".default:" in p for p in problems_for(rules_copy))


def test_same_as_must_name_another_role_and_wait_a_known_state(rules_copy):
    edit(rules_copy / "mortgage_first.yaml", "same_as: mortgagor}", "same_as: mortgager}")
    edit(rules_copy / "workflows" / "standard_review.yaml", "wait: {state: confirming, guards: [parties_confirmed]}",
         "wait: {state: confirmng, guards: [fees_paid]}")
    problems = problems_for(rules_copy)
    assert any("form.parties.debtor.same_as" in p and "mortgager" in p for p in problems)
    assert any("wait.state" in p and "unknown state 'confirmng'" in p for p in problems)
    assert any("wait.guards" in p and "'fees_paid' is not one of this transition's guards" in p for p in problems)


def test_the_rules_as_shipped_load_with_their_defaults(db):
    load_directory(rulebook._rules_dir())
    business = rulebook.get(KEY)
    declared = {f.field: f.default for f in business.form.case + business.form.per_unit if f.default is not None}
    assert {"apply_reason", "loan_type", "mortgage_kind", "term_start", "guarantee_scope",
            "transfer_restricted"} <= set(declared)
    assert business.form.parties["debtor"].same_as == "mortgagor"


# ---- starting a case -----------------------------------------------------------------------------

def test_one_unit_found_starts_the_case_with_the_defaults_and_the_register(client, db):
    business, case = _start(client)
    cu = case.units[0]
    assert case.form_data["apply_reason"] == "housing_loan" and case.form_data["loan_type"] == "commercial"
    assert cu.data["mortgage_kind"] == "1" and cu.data["term_start"] == dt.date.today().isoformat()
    assert cu.data["transfer_restricted"] is False and cu.data["guarantee_scope"]
    mortgagors = {(p.id_number, p.phone) for p in case.parties if p.role == "mortgagor"}
    debtors = {(p.id_number, p.phone) for p in case.parties if p.role == "debtor"}
    assert mortgagors and all(phone for _n, phone in mortgagors) and debtors == mortgagors
    mortgagee = next(p for p in case.parties if p.role == "mortgagee")
    assert mortgagee.id_number == case.institution.uscc
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert 'id="same-debtor" value="1" checked' in page


def test_unticking_same_as_removes_the_copied_debtor(client, db):
    _business, case = _start(client)
    r = client.post(f"/desk/case/{case.id}/form", data={"same__debtor__shown": "1", "version": str(case.version)})
    assert r.status_code == 302
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert not [p for p in case.parties if p.role == "debtor"]
    r = client.post(f"/desk/case/{case.id}/form", data={"same__debtor__shown": "1", "same__debtor": "1"})
    _db.session.expire_all()
    assert [p for p in _db.session.get(Case, case.id).parties if p.role == "debtor"]


# ---- materials -----------------------------------------------------------------------------------

def test_files_of_the_drop_zone_are_filed_by_name_and_unknown_names_are_reported(client, db):
    _business, case = _start(client)
    files = [(io.BytesIO(tiny_pdf(f"dz{case.id}a")), "李伟身份证.pdf"),
             (io.BytesIO(tiny_pdf(f"dz{case.id}b")), "个人住房借款合同.pdf"),
             (io.BytesIO(tiny_pdf(f"dz{case.id}c")), "扫描0001.pdf")]
    r = client.post(f"/desk/case/{case.id}/materials", data={"files": files}, content_type="multipart/form-data",
                    follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "扫描0001.pdf" in page and "未归类" in page
    _db.session.expire_all()
    filed = {m.filename: m.material_key for m in _db.session.get(Case, case.id).materials}
    assert filed == {"李伟身份证.pdf": "identity", "个人住房借款合同.pdf": "contracts"}


def test_submit_attaches_the_generated_application_form_and_waits_for_the_parties(client, db):
    business, case = _start(client)
    cu = case.units[0]
    files = [(io.BytesIO(tiny_pdf(f"sub{case.id}{k}")), f"{k}.pdf") for k in ("身份证", "借款合同", "不动产权证")]
    client.post(f"/desk/case/{case.id}/materials", data={"files": files}, content_type="multipart/form-data")
    r = client.post(f"/desk/case/{case.id}/fire", data={
        "event": "submit", "case__contract_number": "DY-9", f"unit__{cu.id}__secured_amount": "100000.00",
        f"unit__{cu.id}__collateral_value": "200000.00", f"unit__{cu.id}__term_end": "2046-01-01"},
        follow_redirects=True)
    page = r.get_data(as_text=True)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.node == "confirming", page[-1500:]
    assert "待确认" in page and "已向 1 位当事人发送确认短信" in page
    generated = [m for m in case.materials if m.material_key == "application_form"]
    assert len(generated) == 1 and generated[0].pages >= 1
    assert case.submitted_at is None
    mortgagor = next(p for p in case.parties if p.role == "mortgagor")
    r = client.post(f"/desk/case/{case.id}/party/{mortgagor.id}/confirm", data={"code": latest_code(mortgagor.phone)},
                    follow_redirects=True)
    assert "全部当事人已确认" in r.get_data(as_text=True)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.node == "pre_review" and case.submitted_at is not None
    assert [(h.node_from, h.node_to) for h in case.history][-2:] == [("draft", "confirming"),
                                                                      ("confirming", "pre_review")]


def test_a_submit_missing_more_than_confirmations_does_not_wait(db):
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case(KEY, op, [free_unit(db).id])
    with pytest.raises(workflow.WorkflowError):
        workflow.fire(case, "submit", op)
    assert case.node == "draft"
    complete(db, case)
    mortgagor = next(p for p in case.parties if p.role == "mortgagor")
    mortgagor.confirmed_at = None
    db.session.commit()
    workflow.fire(case, "submit", op)
    assert case.node == "confirming" and not workflow.resume(case)
    assert [t.event for t in workflow.available_events(case, op)] == ["withdraw", "cancel"]
    workflow.fire(case, "withdraw", op)
    assert case.node == "draft"


def test_autosave_answers_json_with_the_time_and_refuses_a_stale_page(client, db):
    _business, case = _start(client)
    r = client.post(f"/desk/case/{case.id}/form", data={"case__contract_number": "AUTO-1", "version": str(case.version)},
                    headers={"X-Autosave": "1"})
    assert r.status_code == 200 and r.json["ok"] and re.fullmatch(r"\d\d:\d\d", r.json["saved_at"])
    assert r.json["version"] > case.version
    stale = client.post(f"/desk/case/{case.id}/form", data={"case__contract_number": "AUTO-2",
                                                             "version": str(case.version)},
                        headers={"X-Autosave": "1"})
    assert stale.status_code == 409 and not stale.json["ok"]
    _db.session.expire_all()
    assert _db.session.get(Case, case.id).form_data["contract_number"] == "AUTO-1"
    assert _db.session.scalar(select(SmsMessage).where(SmsMessage.body.contains(case.number))) is None


def test_a_half_typed_party_is_kept_by_autosave_and_becomes_a_party_when_saved(client, db):
    from app.demo import make_id_card
    _business, case = _start(client)
    mortgagor = next(p for p in case.parties if p.role == "mortgagor")
    row = {"role": "debtor", "kind": "person", "name": "赵六", "id_type": "1", "id_number": "", "phone": "",
           f"party__{mortgagor.id}__name": mortgagor.name, f"party__{mortgagor.id}__id_number": mortgagor.id_number,
           f"party__{mortgagor.id}__phone": "1391", f"party__{mortgagor.id}__share": ""}
    r = client.post(f"/desk/case/{case.id}/form", data=row, headers={"X-Autosave": "1"})
    assert r.status_code == 200 and r.json["ok"]
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.form_data["_pending_party"]["name"] == "赵六"
    assert not any(p.name == "赵六" for p in case.parties)
    # A wrong number typed is kept in the draft (not lost) but no code goes to it: codes go to the
    # phone on record (app/services/party_confirmation.py).
    assert next(p for p in case.parties if p.id == mortgagor.id).phone == "1391"
    client.post(f"/desk/case/{case.id}/send-codes", follow_redirects=True)
    assert _db.session.scalar(select(SmsMessage).where(SmsMessage.phone == "1391")) is None
    on_record = party_confirmation.phone_on_record(mortgagor)
    assert on_record and on_record != "1391"
    assert _db.session.scalar(select(SmsMessage).where(SmsMessage.phone == on_record,
                                                       SmsMessage.purpose == "case_confirm")) is not None

    number = make_id_card(dt.date(1990, 3, 3), 77)
    r = client.post(f"/desk/case/{case.id}/party", data={**row, "id_number": number,
                                                          f"party__{mortgagor.id}__phone": "13912340000"})
    assert r.status_code == 302
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert any(p.name == "赵六" and p.id_number == number and p.role == "debtor" for p in case.parties)
    assert "_pending_party" not in case.form_data
    assert next(p for p in case.parties if p.id == mortgagor.id).phone == "13912340000"
