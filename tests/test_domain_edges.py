"""Domain edge cases: 大写 beyond 1 万亿, certificate sequence 0, impossible dates, sane areas and floors
(forms and database), database refusals in Chinese, the proof-number example."""
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import errors
from app import validators as v
from app.rulebook import guards
from app.rulebook.schema import Field
from app.services import excel
from app.services.money import to_chinese_upper
from app.validators import ValidationFailed
from models import Building, Unit


@pytest.mark.parametrize("amount, words", [
    ("1000100000000", "壹万零壹亿元整"),
    ("1000000000000", "壹万亿元整"),
    ("1000000000001", "壹万亿零壹元整"),
    ("1010000000000", "壹万零壹佰亿元整"),
    ("9999999999999.99", "玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("100000000", "壹亿元整"),
    ("105000000", "壹亿零伍佰万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("100000001", "壹亿零壹元整"),
    ("200000000050.5", "贰仟亿零伍拾元伍角"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
])
def test_money_in_words_up_to_ten_thousand_yi(amount, words):
    assert to_chinese_upper(amount) == words


def _zh(app, func, *args):
    with app.test_request_context(headers={"Accept-Language": "zh"}), pytest.raises(ValidationFailed) as exc:
        func(*args)
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        return str(exc.value)


def test_certificate_sequence_zero_is_refused_and_one_is_the_first(app):
    assert v.certificate_number("湘(2024)长沙市不动产权第0000001号") == "湘(2024)长沙市不动产权第0000001号"
    assert "0000001" in _zh(app, v.certificate_number, "湘(2024)长沙市不动产权第0000000号")
    assert "0000001" in _zh(app, v.proof_number, "桂(2020)北海市不动产证明第0号")


def test_the_proof_number_message_shows_a_proof_example(app):
    message = _zh(app, v.proof_number, "湘(2024)长沙市不动产权第0012345号")
    assert "不动产证明第" in message and "不动产权第" not in message
    assert "不动产权第" in _zh(app, v.certificate_number, "x")


def test_an_impossible_date_says_it_does_not_exist(app):
    field = Field.model_validate({"field": "term_start", "label": {"zh": "起始日期", "en": "Start"}, "type": "date"})
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert guards.check_value(field, "2025-02-30", lambda name: set()) == "日期不存在"
        assert guards.check_value(field, "2025-02-28", lambda name: set()) is None
        assert guards.check_value(field, "2025/2/30", lambda name: set()) == "日期不存在"
        assert guards.check_value(field, "30.02.2025", lambda name: set()) == "日期格式应为 YYYY-MM-DD"


def test_the_excel_import_names_an_impossible_date(app):
    field = Field.model_validate({"field": "term_start", "label": {"zh": "起始日期", "en": "Start"}, "type": "date"})
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        _values, bad = excel.validate_values([field], {"term_start": "2024-02-30"})
        assert str(bad["term_start"]) == "日期不存在"


# ---- the register editor: sane ranges in the form and in the database ------------------------------

def _unit(db):
    return db.session.scalar(select(Unit).order_by(Unit.id).limit(1))


def _edit_unit(client, unit, **changes):
    data = {"building": unit.building_id, "unit_code": unit.unit_code, "survey_number": unit.survey_number or "",
            "location": unit.location, "room": unit.room, "floor": str(unit.floor), "area": str(unit.area),
            "use": unit.use, **changes}
    return client.post(f"/unitview/edit/{unit.id}", data=data, follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"area": "-5"}, "面积必须大于0且小于1,000,000平方米"),
    ({"area": "0"}, "面积必须大于0且小于1,000,000平方米"),
    ({"area": "99999999999"}, "面积必须大于0且小于1,000,000平方米"),
    ({"floor": "-300"}, "所在层必须为-10至200之间的整数"),
    ({"floor": "9999"}, "所在层必须为-10至200之间的整数"),
])
def test_the_unit_editor_refuses_insane_areas_and_floors_in_chinese(client, db, changes, message):
    assert client.auth.login("admin").status_code == 200
    unit = _unit(db)
    before = (unit.area, unit.floor)
    page = _edit_unit(client, unit, **changes)
    assert message in page and "Database Error" not in page
    db.session.expire_all()
    assert (_unit(db).area, _unit(db).floor) == before


def test_the_building_editor_refuses_9999_floors(client, db):
    assert client.auth.login("admin").status_code == 200
    b = db.session.scalar(select(Building).order_by(Building.id).limit(1))
    page = client.post(f"/buildingview/edit/{b.id}", data={"parcel": b.parcel_id, "number": b.number, "name": b.name,
                                                          "floors": "9999", "survey_number": b.survey_number or ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "总层数必须为1至200之间的整数" in page
    db.session.expire_all()
    assert db.session.get(Building, b.id).floors == b.floors


def test_a_sane_edit_is_saved(client, db):
    assert client.auth.login("admin").status_code == 200
    unit = _unit(db)
    _edit_unit(client, unit, area="120.50", floor="-2")
    db.session.expire_all()
    assert (_unit(db).area, _unit(db).floor) == (Decimal("120.50"), -2)


@pytest.mark.parametrize("column, value, name", [
    ("area", Decimal("0"), "ck_unit_area_range"), ("area", Decimal("5000000"), "ck_unit_area_range"),
    ("floor", -300, "ck_unit_floor_range"), ("floor", 9999, "ck_unit_floor_range"),
])
def test_the_database_holds_the_same_ranges(app, db, column, value, name):
    unit = _unit(db)
    setattr(unit, column, value)
    with pytest.raises(IntegrityError) as exc:
        db.session.commit()
    db.session.rollback()
    assert name in str(exc.value.orig)
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        message = str(errors.constraint_message(exc.value))
    assert message in ("面积必须大于0且小于1,000,000平方米", "所在层必须为-10至200之间的整数")


def test_a_building_with_9999_floors_is_refused_by_the_database(app, db):
    b = db.session.scalar(select(Building).order_by(Building.id).limit(1))
    b.floors = 9999
    with pytest.raises(IntegrityError) as exc:
        db.session.commit()
    db.session.rollback()
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert str(errors.constraint_message(exc.value)) == "总层数必须为1至200之间的整数"


def test_a_unique_constraint_is_named_by_its_field_in_chinese(app, db):
    first, second = db.session.scalars(select(Unit).order_by(Unit.id).limit(2)).all()
    second.unit_code = first.unit_code
    with pytest.raises(IntegrityError) as exc:
        db.session.commit()
    db.session.rollback()
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert str(errors.constraint_message(exc.value)) == "未保存：不动产单元号已登记在另一条记录上"
