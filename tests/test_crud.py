"""Bad input to a CRUD form gives a specific message in the user's language and writes nothing."""
import pytest
from sqlalchemy import func, select

from models import Institution, Party, Unit


def _count(app, model):
    from app.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


INSTITUTION = {"name": "长沙农商银行岳麓支行", "kind": "bank", "legal_person": "刘强", "status": "pending",
               "contact_phone": "13912345678"}


@pytest.mark.parametrize("field,value,message_zh", [
    ("uscc", "91430104MA4L00001X", "统一社会信用代码校验码错误"),
    ("uscc", "91430104MA4L0000I1", "统一社会信用代码应为18位"),
    ("contact_phone", "12345", "手机号应为以13-19开头的11位数字"),
    ("legal_person_id_number", "110105194912310021", "身份证号校验码错误"),
])
def test_invalid_institution_is_refused_with_a_chinese_message(app, client, field, value, message_zh):
    client.auth.login("admin")
    before = _count(app, Institution)
    form = {**INSTITUTION, "uscc": "91430104MA4L00009X", field: value}
    page = client.post("/institutionview/add", data=form, follow_redirects=True).get_data(as_text=True)
    assert message_zh in page
    assert INSTITUTION["name"] in page, "what was typed is kept"
    assert _count(app, Institution) == before


def test_the_same_error_reads_in_english_when_english_is_chosen(app, client):
    client.auth.login("admin")
    client.get("/lang/en")
    page = client.post("/institutionview/add", data={**INSTITUTION, "uscc": "91430104MA4L00001X"},
                       follow_redirects=True).get_data(as_text=True)
    client.get("/lang/zh")
    assert "Unified social credit code check character is wrong" in page


def test_duplicate_unit_code_is_refused_and_nothing_written(app, client):
    from app.extensions import db
    with app.app_context():
        unit = db.session.scalar(select(Unit).limit(1))
        code, building_id = unit.unit_code, unit.building_id
    client.auth.login("admin")
    before = _count(app, Unit)
    page = client.post("/unitview/add", data={"building": building_id, "unit_code": code, "location": "重复",
                                              "room": "9901", "floor": "99", "area": "90", "use": "residential"},
                       follow_redirects=True).get_data(as_text=True)
    assert _count(app, Unit) == before
    assert "重复" in page or "唯一" in page


def test_malformed_unit_code_names_the_structure(app, client):
    client.auth.login("admin")
    page = client.post("/unitview/add", data={"unit_code": "430104001001GB00001F0001000A", "location": "x",
                                              "room": "1", "floor": "1", "area": "1", "use": "residential"},
                       follow_redirects=True).get_data(as_text=True)
    assert "不动产单元号的幢号和户号必须为数字" in page


def test_party_with_wrong_id_checksum_is_refused(app, client):
    client.auth.login("reviewer")
    before = _count(app, Party)
    page = client.post("/partyview/add", data={"kind": "person", "name": "测试人", "id_type": "1",
                                               "id_number": "430104198001020051", "phone": "13912345678"},
                       follow_redirects=True).get_data(as_text=True)
    assert "身份证号校验码错误" in page
    assert _count(app, Party) == before


def test_valid_institution_is_saved(app, client):
    client.auth.login("admin")
    from app.demo import make_uscc
    code = make_uscc("91430104MA4L00077")
    client.post("/institutionview/add", data={**INSTITUTION, "name": "有效银行", "uscc": code}, follow_redirects=True)
    from app.extensions import db
    with app.app_context():
        assert db.session.scalar(select(Institution).where(Institution.uscc == code)).name == "有效银行"


def test_a_post_without_the_csrf_token_is_refused(app, client):
    client.auth.login("admin")
    before = _count(app, Institution)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/institutionview/add", data={**INSTITUTION, "uscc": "91430104MA4L00001C"})
        hand_written = client.post("/public/progress", data={"number": "x", "id_number": "y"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and hand_written.status_code == 400
    assert _count(app, Institution) == before
