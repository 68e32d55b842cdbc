"""The institution desk, driven through its views with the test client: every business in rules/
can be applied for up to submission; errors give clear messages and change nothing.

The helpers here know nothing about any particular business: keys, fields, parties and materials
all come from the business's rules.
"""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from app import rulebook
from app.rulebook import legal
from app.demo import make_id_card
from app.extensions import db as _db
from app.rulebook.lookup import RECORDS, evaluate, record_for
from app.services import party_confirmation
from models import Case, CaseUnit, Operator, SmsMessage, Unit
from tests.accounts_helpers import new_account

USERS = ("bank_a_op", "dev_op", "bank_b_op")


def tiny_pdf(tag: str) -> bytes:
    """A distinct, well-formed one-page PDF (distinct so the duplicate check does not refuse it)."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%"
            + tag.encode() + b"\n%%EOF\n")


def business_keys():
    import os
    import pathlib

    import yaml
    keys = []
    folder = os.environ.get("REGISTRY_RULES_DIR") or pathlib.Path(__file__).resolve().parents[1] / "rules"
    for path in sorted(pathlib.Path(folder).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "key" in data and "lookup" in data:
            keys.append(data["key"])
    return keys


def _number_for(business, unit, record):
    kind = RECORDS[business.lookup_record]
    number_field = kind.fields[0]
    if number_field == "survey_number":
        return unit.building.survey_number or unit.survey_number
    if number_field == "case_number":
        row = _db.session.scalar(select(Case).join(CaseUnit).where(
            CaseUnit.unit_id == unit.id, Case.finished_at.is_not(None), Case.official_number.is_not(None)))
        return row.number if row else None
    for name in (number_field, "certificate_number", "proof_number"):
        value = getattr(record, name, None)
        if value:
            return value
    return None


def find_applicable(business, exclude=()):
    """(username, keys, unit) for a unit that can take this business and is in no case yet.

    When the record's identity key is an institution (a mortgagee bank, the developer), that
    institution's operator applies, as in real life.
    """
    used = set(_db.session.scalars(select(CaseUnit.unit_id).join(Case).where(Case.finished_at.is_(None)))) \
        | set(exclude)
    kind = RECORDS[business.lookup_record]
    users = [_db.session.scalar(select(Operator).where(Operator.username == u)) for u in USERS]
    users = [u for u in users if {r.name for r in u.roles} & set(business.applicants)]
    by_uscc = {u.institution.uscc: u for u in users if u.institution}
    for unit in _db.session.scalars(select(Unit).order_by(Unit.id)):
        if unit.id in used:
            continue
        for user in users:
            record = record_for(business, unit, user.institution_id)
            people = kind.parties(record, unit)
            if not people:
                continue
            identity = people[0].id_number
            if identity in by_uscc and by_uscc[identity] is not user:
                continue
            ok, _reasons, _w = evaluate(business, unit, record, user.institution_id, identity)
            number = _number_for(business, unit, record) if ok else None
            if ok and number:
                number_field, identity_field = kind.fields
                return user.username, {number_field: number, identity_field: identity}, unit
    return None


SAMPLES = {"mobile": "13900001111", "id_card": make_id_card(dt.date(1980, 2, 2), 3),
           "id_or_uscc": make_id_card(dt.date(1980, 2, 2), 3), "certificate_number": "湘(2024)长沙市不动产权第0000001号",
           "proof_number": "湘(2024)长沙市不动产证明第0000001号", "survey_number": "430102001001",
           "money": "100000.00"}


def field_value(f, vocab_first):
    return {"choice": vocab_first, "money": "100000.00", "date": "2026-01-01", "boolean": "false",
            "integer": "1", "id_number": make_id_card(dt.date(1980, 1, 1), 7)}.get(f.type, "测试内容")


def fill_form(business, case):
    """Form data a careful operator would type: every field of the rules filled in validly."""
    data = {"version": str(case.version)}

    def value(f):
        if f.validator in SAMPLES:
            return SAMPLES[f.validator]
        if f.type == "choice":
            return rulebook.vocabulary(f.vocabulary)[0].code
        if f.type == "date" and f.after:
            return "2046-01-01"
        return field_value(f, None)
    # Only the fields that apply to the values chosen (一般抵押: no 最高债权额; the server refuses one).
    chosen = {f.field: value(f) for f in business.form.case + business.form.per_unit}
    for f in business.form.case:
        if legal.applies(f, chosen):
            data[f"case__{f.field}"] = value(f)
    for cu in case.units:
        for f in business.form.per_unit:
            if legal.applies(f, chosen):
                data[f"unit__{cu.id}__{f.field}"] = value(f)
    # A money field compared with another (amount vs collateral) stays consistent when all are equal.
    return data


def latest_code(phone):
    """The code of the last SMS to this phone, as only the sandbox can unseal it (the body masks it)."""
    from app.services import verification
    msg = _db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
    return verification.reveal(msg)


def apply_through_views(client, business, exclude=()):
    """Look up, start, fill, add parties, confirm, upload and submit; returns the case id."""
    found = find_applicable(business, exclude)
    assert found, f"no demo unit can take {business.key}"
    username, keys, unit = found
    client.auth.login(username)
    r = client.get(f"/desk/apply/{business.key}/", query_string=keys)
    assert r.status_code == 200 and unit.unit_code in r.get_data(as_text=True), (
        keys, re.findall(r'id="lookup-error"[^>]*>([^<]+)', r.get_data(as_text=True)))
    r = client.post(f"/desk/apply/{business.key}/start", data={**keys, "unit_id": str(unit.id)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    case_id = int(re.search(r"/desk/case/(\d+)/", r.headers["Location"]).group(1))
    case = _db.session.get(Case, case_id)
    _db.session.refresh(case)
    r = client.post(f"/desk/case/{case_id}/form", data=fill_form(business, case))
    assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
    seq = 900 + case_id
    for role, spec in business.form.parties.items():
        have = [p for p in case.parties if p.role == role]
        for i in range(max(0, spec.min - len(have))):
            seq += 1
            number = make_id_card(dt.date(1985, 5, 5), seq) if spec.accepted_id_types() != ("8",) else None
            assert number, f"{business.key}: cannot invent a {role}"
            r = client.post(f"/desk/case/{case_id}/party", data={
                "role": role, "kind": "person", "name": f"测试{role}{i}", "id_type": "1", "id_number": number,
                "phone": f"1390000{seq:04d}"})
            assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
    _db.session.expire_all()
    case = _db.session.get(Case, case_id)
    for role, spec in business.form.parties.items():
        if not spec.confirm:
            continue
        for p in [p for p in case.parties if p.role == role]:
            if party_confirmation.phone_on_record(p) is None:
                # A party new to the register (a buyer) confirms through their own account's verified mobile.
                new_account(_db, role="Public", id_number=p.id_number, phone=p.phone or "13900001234")
            client.post(f"/desk/case/{case_id}/party/{p.id}/send-code")
            r = client.post(f"/desk/case/{case_id}/party/{p.id}/confirm",
                            data={"code": latest_code(party_confirmation.phone_on_record(p))})
            assert r.status_code == 302
    for spec in business.materials:
        if spec.required:
            ext = "pdf" if "pdf" in spec.accept else spec.accept[0]
            assert ext == "pdf", f"{business.key}/{spec.key}: the test only makes PDFs"
            r = client.post(f"/desk/case/{case_id}/materials", data={
                "material_key": spec.key, "files": (__import__("io").BytesIO(tiny_pdf(f"{case_id}{spec.key}")),
                                                    f"{spec.key}.pdf")}, content_type="multipart/form-data")
            assert r.status_code == 302
    _db.session.expire_all()
    case = _db.session.get(Case, case_id)
    return username, case


def complete(case):
    """Drive a submitted case to its final state with the engine (a paid fee where a guard asks)."""
    from app.rulebook import workflow
    from app.services import payment
    _db.session.expire_all()  # the views changed it in their own sessions
    business = rulebook.for_case(case)
    users = {u: _db.session.scalar(select(Operator).where(Operator.username == u)) for u in ("reviewer",) + USERS}
    for _step in range(10):
        if business.workflow.states[case.node].final:
            return case
        t = next(t for t in business.workflow.transitions if case.node in t.from_
                 and not t.requires_reject_type and t.event != "cancel")
        actor = next(u for u in users.values() if {r.name for r in u.roles} & set(t.roles)
                     and (u.institution_id in (None, case.institution_id)))
        if "fees_paid" in t.guards and payment.outstanding(case)[1] > payment.outstanding(case)[2]:
            order = payment.create_order(case)
            order.status = "paid"  # the sandbox provider's signed callback is tested with the payment views
            _db.session.commit()
        workflow.fire(case, t.event, actor, opinion="同意")
        _db.session.refresh(case)
    raise AssertionError(f"{case.number} did not finish")


def submit(client, case):
    return client.post(f"/desk/case/{case.id}/fire", data={"event": "submit", "version": str(case.version)},
                       follow_redirects=True)


@pytest.mark.parametrize("key", business_keys())
def test_every_business_can_be_applied_for_up_to_submission(client, db, key):
    business = rulebook.get(key)
    if RECORDS[business.lookup_record].fields[0] == "case_number":
        # Keyed on a finished first registration: complete one first (category "first" in the rules).
        first = next(b for b in rulebook.all_businesses() if b.category == "first" and b.key != key)
        _u, prior = apply_through_views(client, first)
        submit(client, prior)
        complete(_db.session.get(Case, prior.id))
    _user, case = apply_through_views(client, business)
    r = submit(client, case)
    page = r.get_data(as_text=True)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    submit_to = business.workflow.transition("submit", business.workflow.initial).to
    assert case.node in submit_to, re.findall(r'</button>\s*([^<]+?)\s*</div>', page, re.S)
    assert case.submitted_at is not None


def test_missing_required_field_is_named_and_typed_values_kept(client, db):
    business = rulebook.get("mortgage_first")
    username, case = apply_through_views(client, business)
    version = case.version
    data = fill_form(business, case)
    required = next(f for f in business.form.case if f.required)
    data[f"case__{required.field}"] = ""
    money = next(f for f in business.form.per_unit if f.type == "money")
    data[f"unit__{case.units[0].id}__{money.field}"] = "12a"
    r = client.post(f"/desk/case/{case.id}/form", data=data)
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert page.count("field-error") >= 2
    assert 'value="12a"' in page
    r = submit(client, case)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.node == business.workflow.initial and case.submitted_at is None
    assert case.version >= version


def test_wrong_material_type_is_refused_and_nothing_stored(client, db):
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    before = len(case.materials)
    spec = business.materials[0]
    import io
    r = client.post(f"/desk/case/{case.id}/materials", data={
        "material_key": spec.key, "files": (io.BytesIO(b"MZ\x90\x00 program"), "scan.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "scan.pdf" in r.get_data(as_text=True)
    r = client.post(f"/desk/case/{case.id}/materials", data={
        "material_key": spec.key, "files": (io.BytesIO(b"plain"), "notes.txt")},
        content_type="multipart/form-data", follow_redirects=True)
    assert ".txt" in r.get_data(as_text=True)
    _db.session.expire_all()
    assert len(_db.session.get(Case, case.id).materials) == before


def test_double_submit_is_refused_with_a_message(client, db):
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    stale_version = case.version
    first = submit(client, case)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    node, history = case.node, len(case.history)
    assert node != business.workflow.initial, first.get_data(as_text=True)[-2000:]
    r = client.post(f"/desk/case/{case.id}/fire", data={"event": "submit", "version": str(stale_version)},
                    follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True) or "danger" in r.get_data(as_text=True)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.node == node and len(case.history) == history


def test_submitted_case_is_in_the_reviewer_queue_and_my_done_list(client, db):
    business = rulebook.get("mortgage_first")
    username, case = apply_through_views(client, business)
    submit(client, case)
    r = client.get("/desk/office/done")
    assert case.number in r.get_data(as_text=True)
    assert case.number not in client.get("/desk/office/todo").get_data(as_text=True)
    client.auth.login("reviewer")
    _db.session.expire_all()
    node = _db.session.get(Case, case.id).node
    r = client.get(f"/review/?node={node}")
    assert case.number in r.get_data(as_text=True)


def test_reviewer_rejects_and_operator_reapplies_from_a_chosen_node(client, db):
    business = rulebook.get("mortgage_first")
    username, case = apply_through_views(client, business)
    submit(client, case)
    client.auth.login("reviewer")
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    reject = next(t for t in business.workflow.transitions if t.requires_reject_type and case.node in t.from_)
    code = rulebook.vocabulary("reject_types")[0].code
    client.post(f"/review/case/{case.id}/fire", data={"event": reject.event, "version": case.version,
                                                      "opinion": "材料不清晰", "reject_type": code})
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.node in reject.to
    client.auth.login(username)
    page = client.get("/desk/office/rejected").get_data(as_text=True)
    assert case.number in page and "材料不清晰" in page
    reapply = next(t for t in business.workflow.transitions if case.node in t.from_ and len(t.to) > 1)
    target = reapply.to[-1]
    client.post(f"/desk/office/reapply/{case.id}", data={"event": reapply.event, "version": case.version,
                                                         "target": target})
    _db.session.expire_all()
    assert _db.session.get(Case, case.id).node == target


def test_operator_of_another_bank_cannot_open_the_case(client, db):
    business = rulebook.get("mortgage_first")
    username, case = apply_through_views(client, business)
    other = "bank_b_op" if username != "bank_b_op" else "bank_a_op"
    client.auth.login(other)
    assert client.get(f"/desk/case/{case.id}/").status_code == 404
    assert client.get(f"/desk/case/{case.id}/print").status_code == 404


def test_print_contains_the_mortgagor_name(client, db):
    import io

    from pypdf import PdfReader
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    r = client.get(f"/desk/case/{case.id}/print")
    assert r.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert case.parties[0].name in text.replace("\n", "")


def test_case_page_shows_form_parties_materials_and_history(client, db):
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    for spec in business.materials:
        assert f'data-material="{spec.key}"' in page
    for f in business.form.per_unit:
        assert f'unit__{case.units[0].id}__{f.field}' in page
    assert 'id="party-table"' in page and 'id="history"' in page and 'id="event-submit"' in page
    assert '<svg' in page  # the flowchart with the case's path


def test_workbench_shows_the_menu_lists_and_my_institutions_volume(client, db):
    client.auth.login("bank_a_op")
    page = client.get("/").get_data(as_text=True)
    assert 'id="workbench-menu"' in page and "vendor/echarts.min.js" in page
    assert rulebook.get("mortgage_first").name.zh in page
    data = client.get("/workbench/volume.json").get_json()
    assert len(data["months"]) == 12
    own = sum(sum(s["data"]) for s in data["series"])
    client.auth.login("bank_b_op")
    other = sum(sum(s["data"]) for s in client.get("/workbench/volume.json").get_json()["series"])
    assert own >= 1 and other != own or own == other == 0


def test_apply_page_groups_businesses_by_category_and_refuses_bad_keys(client, db):
    client.auth.login("bank_a_op")
    assert "mortgage_first" in client.get("/desk/apply/").get_data(as_text=True)
    business = rulebook.get("mortgage_first")
    r = client.post("/desk/apply/mortgage_first/", data={k.field: "bad" for k in business.lookup})
    assert r.status_code == 400 and 'id="lookup-error"' in r.get_data(as_text=True)


def test_batch_print_puts_the_ticked_cases_in_one_pdf(client, db):
    import io

    from pypdf import PdfReader
    business = rulebook.get("mortgage_first")
    _u1, first = apply_through_views(client, business)
    username, second = apply_through_views(client, business, exclude=[cu.unit_id for cu in first.units])
    client.auth.login(username)
    r = client.post("/desk/office/print", data={"case_id": [str(first.id), str(second.id)]})
    assert r.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert first.number in text and second.number in text
    client.auth.login("bank_b_op" if username != "bank_b_op" else "bank_a_op")
    other = client.post("/desk/office/print", data={"case_id": [str(first.id)]}, follow_redirects=True)
    assert other.mimetype == "text/html" and "请勾选要打印的案卷" in other.get_data(as_text=True)


def test_a_draft_can_be_cancelled_and_then_leaves_my_todo_list(client, db):
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    cancel = next(t for t in business.workflow.transitions if t.event == "cancel")
    assert case.number in client.get("/desk/office/todo").get_data(as_text=True)
    client.post(f"/desk/case/{case.id}/fire", data={"event": cancel.event, "version": case.version})
    _db.session.expire_all()
    assert _db.session.get(Case, case.id).node in cancel.to
    assert case.number not in client.get("/desk/office/todo").get_data(as_text=True)


def test_a_unit_that_cannot_take_the_business_is_shown_with_its_reason_and_cannot_be_added(client, db):
    business = rulebook.get("mortgage_first")
    kind = RECORDS[business.lookup_record]
    number_field, identity_field = kind.fields
    unit = _db.session.scalar(select(Unit).where(Unit.sealed.is_(True), Unit.rights.any()).order_by(Unit.id))
    record = record_for(business, unit, None)
    keys = {number_field: record.certificate_number, identity_field: kind.parties(record, unit)[0].id_number}
    client.auth.login("bank_a_op")
    page = client.post("/desk/apply/mortgage_first/", data=keys).get_data(as_text=True)
    assert f'id="unit-{unit.id}" disabled' in page or re.search(rf'value="{unit.id}"\s+disabled', page)
    assert "unit-reason" in page
    cases = _db.session.scalar(select(__import__("sqlalchemy").func.count()).select_from(Case))
    r = client.post("/desk/apply/mortgage_first/start", data={**keys, "unit_id": str(unit.id)}, follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True)
    assert _db.session.scalar(select(__import__("sqlalchemy").func.count()).select_from(Case)) == cases


def test_a_number_without_its_second_fact_finds_nothing(client, db):
    """The lookup searches the whole register: a certificate number with someone else's ID number shows no
    unit, and a crafted start cannot use it either."""
    business = rulebook.get("mortgage_first")
    username, keys, unit = find_applicable(business)
    number_field, identity_field = RECORDS[business.lookup_record].fields
    wrong = {**keys, identity_field: make_id_card(dt.date(1970, 7, 7), 99)}  # valid, but not the holder
    client.auth.login(username)
    page = client.post("/desk/apply/mortgage_first/", data=wrong).get_data(as_text=True)
    assert f'value="{unit.id}"' not in page and unit.unit_code not in page and "lookup-error" in page
    cases = _db.session.scalar(select(__import__("sqlalchemy").func.count()).select_from(Case))
    r = client.post("/desk/apply/mortgage_first/start", data={**wrong, "unit_id": str(unit.id)}, follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True)
    assert _db.session.scalar(select(__import__("sqlalchemy").func.count()).select_from(Case)) == cases


def test_desk_pages_follow_the_language_menu(client, db):
    business = rulebook.get("mortgage_first")
    _username, case = apply_through_views(client, business)
    client.get("/lang/en")
    assert business.name.en in client.get("/desk/apply/").get_data(as_text=True)
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert "Save draft" in page and business.materials[0].name.en in page
    client.get("/lang/zh")
