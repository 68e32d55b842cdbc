"""Who may apply: each business names the kinds of applicant (bank, developer, agent, public) and the
roles that may start it; the apply menu, the workbench, the lookup and the start all follow it."""
import pytest
from sqlalchemy import func, select

from app import rulebook
from app.rulebook.loader import RulesError, parse_business
from app.rulebook import workflow
from models import Building, Case, Unit
from tests import factories

DEVELOPER_ONLY = "新建商品房首次登记"
BANK_ONLY = "房屋抵押权首次登记"


def _developer_units(db):
    building = db.session.scalar(select(Building).where(Building.developer_id.is_not(None)).order_by(Building.id))
    return building, db.session.scalars(select(Unit).where(Unit.building_id == building.id).order_by(Unit.id)).all()


def test_a_bank_operator_does_not_see_developer_businesses_in_the_menu_or_the_workbench(client):
    client.auth.login("bank_a_op")
    menu = client.get("/desk/apply/").get_data(as_text=True)
    assert BANK_ONLY in menu and DEVELOPER_ONLY not in menu and "/desk/apply/new_housing_first/" not in menu
    home = client.get("/").get_data(as_text=True)
    assert BANK_ONLY in home and DEVELOPER_ONLY not in home


def test_a_developer_sees_its_businesses_and_not_the_banks(client):
    client.auth.login("dev_op")
    menu = client.get("/desk/apply/").get_data(as_text=True)
    assert DEVELOPER_ONLY in menu and BANK_ONLY not in menu
    lookup = client.get("/desk/apply/new_housing_first/")
    assert lookup.status_code == 200 and "新建商品房首次登记" in lookup.get_data(as_text=True)


def test_a_bank_operator_cannot_look_up_or_start_a_developer_business_by_url(client, db):
    building, units = _developer_units(db)
    developer = db.session.get(factories.Institution, building.developer_id)
    before = db.session.scalar(select(func.count(Case.id)))
    client.auth.login("bank_a_op")
    page = client.get("/desk/apply/new_housing_first/")
    assert page.status_code == 403 and "您的机构不能申请此业务" in page.get_data(as_text=True)
    keys = {"survey_number": building.survey_number, "obligor_id_number": developer.uscc}
    looked = client.post("/desk/apply/new_housing_first/", data=keys)
    assert looked.status_code == 403 and "您的机构不能申请此业务" in looked.get_data(as_text=True)
    started = client.post("/desk/apply/new_housing_first/start", data={**keys, "unit_id": [u.id for u in units[:2]]})
    assert started.status_code == 403 and "您的机构不能申请此业务" in started.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Case.id))) == before


def test_the_engine_refuses_to_start_a_business_for_the_wrong_kind_of_applicant(app, db):
    _building, units = _developer_units(db)
    with app.test_request_context():
        with pytest.raises(workflow.WorkflowError) as caught:
            workflow.start_case("new_housing_first", factories.user(db, "bank_a_op"), [units[0].id])
        assert "您的机构不能申请此业务" in caught.value.problems[0]
        assert rulebook.get("new_housing_first").applicant_kinds == ["developer"]


def test_every_business_declares_who_may_apply(app):
    with app.test_request_context():
        kinds = {b.key: b.applicant_kinds for b in rulebook.all_businesses()}
    assert all(kinds.values()) and len(kinds) == 14
    assert kinds["new_housing_first"] == ["developer"] and kinds["mortgage_first"] == ["bank"]


@pytest.mark.parametrize("lang, words", [("zh", "申请人类型 'public' 需要 applicants 中有以下角色之一：Public"),
                                         ("en", "applicant kind 'public' needs one of the roles Public in applicants")])
def test_the_loader_refuses_a_kind_no_listed_role_can_act_as(app, lang, words):
    from flask_babel import force_locale
    text = open("rules/mortgage_first.yaml", encoding="utf-8").read()
    text = text.replace("applicant_kinds: [bank]", "applicant_kinds: [bank, public]", 1)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.startswith("applicant_kinds"))
    with app.test_request_context(), force_locale(lang):
        with pytest.raises(RulesError) as caught:
            parse_business(text, "rules/mortgage_first.yaml", rulebook._context())
        shown = "\n".join(str(p) for p in caught.value.problems)
    assert words in shown and str(line) in shown, shown
