"""Every kind of ID, each checked by its own rule; one code list of ID types; one party per number."""
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app import rulebook
from app import validators as v
from app.rulebook import workflow
from app.validators import ValidationFailed
from models import CaseParty, Party

from . import factories
from .test_desk_defaults import _start
from .test_rulebook import edit, line_of, problems_for, rules_copy  # noqa: F401 (fixture)
from .test_workflow import _fill, _units, _walk


def _gb11643(first17):
    return first17 + v.id_card_check_char(first17)


# ---- each type by its own rule -------------------------------------------------------------------

@pytest.mark.parametrize("number, message", [
    (_gb11643("11010520991231001"), "in the future"),      # born in 2099
    (_gb11643("11010518000101001"), "before 1900"),        # born in 1800
    (_gb11643("00000019900101001"), "division code"),      # region 000000
    (_gb11643("99999919900101001"), "division code"),      # no such county
    (_gb11643("81000019900101001"), "residence permit"),   # a 居住证 number is not an ID card
])
def test_id_card_refuses_impossible_births_and_unknown_regions(app, number, message):
    with app.app_context(), pytest.raises(ValidationFailed) as exc:
        v.id_card(number)
    assert message in str(exc.value)


def test_a_birth_today_is_accepted_and_a_birth_tomorrow_is_not(app):
    today = dt.date.today()
    born_today = _gb11643(f"110105{today:%Y%m%d}001")
    assert v.id_card(born_today) == born_today
    tomorrow = today + dt.timedelta(days=1)
    with app.app_context(), pytest.raises(ValidationFailed):
        v.id_card(_gb11643(f"110105{tomorrow:%Y%m%d}001"))


def test_the_region_list_is_gbt_2260_as_data():
    codes = v.region_codes()
    assert len(codes) > 3000 and "430104" in codes and "110105" in codes and "000000" not in codes
    assert codes["810000"] == "香港特别行政区"


@pytest.mark.parametrize("code, good, stored", [
    ("12", _gb11643("81000019900101001"), None),               # 港澳台居民居住证, Hong Kong
    ("12", _gb11643("83000019851231002"), None),               # Taiwan
    ("10", "H12345678", None),                                 # 港澳居民来往内地通行证
    ("10", "m 1234 5678", "M12345678"),
    ("11", "12345678", None),                                  # 台湾居民来往大陆通行证
    ("2", "A123456(3)", None),                                 # Hong Kong identity card
    ("2", "a1234563", "A123456(3)"),
    ("2", "A123456789", None),                                 # Taiwan identity card
    ("3", "usa 531234567", "USA 531234567"),                   # passport: issuing state + number
    ("3", "E12345678", "CHN E12345678"),                       # a Chinese passport alone
    ("3", "GBR-123456789", "GBR 123456789"),
    ("6", "d2143569x", "D2143569-X"),                          # 组织机构代码 GB 11714
    ("7", "110105000001234", None),                            # 营业执照注册号, ISO 7064 MOD 11,10
    ("8", "91110000600037341L", None),                         # 统一社会信用代码 GB 32100
])
def test_each_type_accepts_its_own_numbers(code, good, stored):
    assert v.id_number_of_type(code, good) == (stored or good)


@pytest.mark.parametrize("code, bad, message", [
    ("12", _gb11643("43010419900101001"), "810000"),           # a mainland number is no residence permit
    ("10", "A12345678", "H or M"),
    ("11", "1234567", "8 digits"),
    ("2", "A123456(4)", "check character"),
    ("2", "A123456788", "check digit"),
    ("3", "ZZZ 531234567", "ZZZ is not a known"),              # no such issuing state
    ("3", "531234567", "three-letter code"),                   # a foreign number without its state
    ("3", "CHN 12345678", "Chinese passport"),
    ("6", "D2143569-1", "check character"),
    ("7", "110105000001235", "check digit"),
    ("8", "91110000600037341M", "check character"),
])
def test_each_type_refuses_what_its_rule_refuses(app, code, bad, message):
    with app.app_context(), pytest.raises(ValidationFailed) as exc:
        v.id_number_of_type(code, bad)
    assert message in str(exc.value)


def test_every_id_type_of_the_code_list_has_a_rule_and_a_kind(app):
    with app.app_context():
        codes = {item.code for item in rulebook.vocabulary("id_types")}
    assert codes == set(v.ID_NUMBER_RULES)
    assert codes == set(v.PERSON_ID_TYPES) | set(v.ORGANISATION_ID_TYPES)


# ---- through the case form ------------------------------------------------------------------------

def _post_party(client, case, **row):
    data = {"role": "obligee", "kind": "person", "name": "John Smith", "id_type": "3", "id_number": "USA 531234567",
            "phone": "13900004321", **row}
    return client.post(f"/desk/case/{case.id}/party", data=data)


def test_a_passport_holder_is_added_to_a_second_hand_transfer_through_the_form(client, db):
    business, case = _start(client, "second_hand_transfer")
    r = _post_party(client, case, id_number="usa 531234567")
    assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
    db.session.expire_all()
    buyer = db.session.scalar(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.role == "obligee"))
    assert (buyer.name, buyer.id_type, buyer.id_number) == ("John Smith", "3", "USA 531234567")
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert re.search(r'<small>护照</small>\s*<input[^>]*party__\d+__id_number[^>]*\s+value="USA 531234567"', page)


def test_hong_kong_macao_taiwan_ids_and_residence_permits_are_accepted_through_the_form(client, db):
    business, case = _start(client, "second_hand_transfer")
    permit = _gb11643("82000019900101002")
    for id_type, number, name in (("2", "A123456(3)", "陈大文"), ("12", permit, "何家豪"), ("11", "12345678", "林志明")):
        r = _post_party(client, case, id_type=id_type, id_number=number, name=name)
        assert r.status_code == 302, re.findall(r'field-error">([^<]+)', r.get_data(as_text=True))
    db.session.expire_all()
    got = {(p.id_type, p.id_number) for p in db.session.scalars(select(CaseParty).where(CaseParty.case_id == case.id))}
    assert {("2", "A123456(3)"), ("12", permit), ("11", "12345678")} <= got


def test_a_personal_id_declared_as_a_credit_code_is_refused_in_chinese(client, db):
    business, case = _start(client, "second_hand_transfer")
    r = _post_party(client, case, kind="organisation", name="某公司", id_type="8", id_number="11010519491231002X")
    page = r.get_data(as_text=True)
    assert r.status_code == 400   # the page again, with the row as typed and its error
    assert "该号码是身份证号码，不是统一社会信用代码，请选择正确的证件种类" in page
    db.session.expire_all()
    assert not db.session.scalar(select(CaseParty).where(CaseParty.case_id == case.id,
                                                         CaseParty.id_number == "11010519491231002X"))


def test_a_person_cannot_be_declared_with_an_organisations_id_type(client, db):
    business, case = _start(client, "second_hand_transfer")
    r = _post_party(client, case, kind="person", id_type="8", id_number="91110000600037341L")
    assert r.status_code == 400 and "统一社会信用代码不适用于此处" in r.get_data(as_text=True)


def test_the_register_editor_checks_the_number_against_its_declared_type(client, db):
    assert client.auth.login("reviewer").status_code == 200
    before = db.session.scalar(select(func.count(Party.id)))
    page = client.post("/partyview/add", data={"kind": "organisation", "name": "错号公司", "id_type": "8",
                                               "id_number": "11010519491231002X"}, follow_redirects=True)
    assert "该号码是身份证号码，不是统一社会信用代码" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Party.id))) == before
    form = client.get("/partyview/add").get_data(as_text=True)
    assert '<option value="8">统一社会信用代码</option>' in form and '<option value="6">组织机构代码</option>' in form
    client.post("/partyview/add", data={"kind": "person", "name": "约翰", "id_type": "3", "id_number": "usa 987654321"})
    assert db.session.scalar(select(Party.id_type).where(Party.id_number == "USA 987654321")) == "3"


# ---- one code list, one party per number ------------------------------------------------------------

def test_the_demo_holds_credit_codes_under_the_code_lists_8(db):
    from app.demo import INSTITUTIONS
    for inst in INSTITUTIONS:
        types = set(db.session.scalars(select(Party.id_type).where(Party.id_number == inst["uscc"])))
        assert types <= {"8"}, inst["name"]


def test_recording_a_case_leaves_the_developer_one_party(db):
    reviewer = factories.user(db, "reviewer")
    dev = factories.user(db, "dev_op")
    uscc = dev.institution.uscc
    assert db.session.scalar(select(func.count(Party.id)).where(Party.id_number == uscc)) == 1  # the demo's seller
    case = workflow.start_case("new_housing_first", dev, _units(db, "new_housing_first", dev))
    _fill(db, case, workflow.rulebook.for_case(case), seq=61)
    _walk(db, case, [dev, reviewer])
    assert case.finished_at is not None
    assert db.session.scalar(select(func.count(Party.id)).where(Party.id_number == uscc)) == 1


def test_a_role_naming_an_id_type_the_code_list_lacks_is_refused_at_load(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, 'source: applicant_institution, min: 1, max: 1, id_types: ["8"]',
         'source: applicant_institution, min: 1, max: 1, id_types: ["8", "42"]')
    problem = next(p for p in problems_for(rules_copy) if "42" in p)
    line = line_of(f, '"42"')
    assert problem.startswith(f"rules/mortgage_first.yaml, line {line}: form.parties.mortgagee.id_types[1]: ")
    assert "should be one of 1, 2, 3" in problem
