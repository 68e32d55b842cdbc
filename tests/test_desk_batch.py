"""Excel batch entry through the desk: a 300-row import with one bad cell is refused naming row and
column, and nothing is written; the corrected file imports every row."""
import io

import pytest

from openpyxl import load_workbook
from sqlalchemy import select

from app import rulebook
from app.rulebook import legal
from app.extensions import db as _db
from app.services import numbering
from models import Case, CaseUnit, Operator, Unit

KEY = "mortgage_first"  # any business with per-unit fields; nothing below depends on which


@pytest.fixture(autouse=True)
def _drop_batch_cases(app):
    """These cases hold most of the demo units; remove them so other tests still find free units."""
    yield
    with app.app_context():
        ids = set(_db.session.scalars(select(CaseUnit.case_id).where(CaseUnit.group_name == BATCH_TAG)))
        for case_id in ids:
            _db.session.delete(_db.session.get(Case, case_id))
        _db.session.commit()


BATCH_TAG = "excel-test"


def _case_with_units(n):
    business = rulebook.get(KEY)
    op = _db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    case = Case(number=numbering.case_number(), business_key=KEY, rules_version_id=business.version_id,
                institution_id=op.institution_id, applicant_id=op.id, executor_id=op.id,
                node=business.workflow.initial, form_data={})
    for unit in _db.session.scalars(select(Unit).order_by(Unit.id).limit(n)):
        case.units.append(CaseUnit(unit_id=unit.id, data={}, group_name=BATCH_TAG))
    _db.session.add(case)
    _db.session.commit()
    return business, case


def _value(f):
    if f.type == "choice":
        return rulebook.vocabulary(f.vocabulary)[0].code
    return {"money": "250000.00", "date": "2046-06-30" if f.after else "2026-07-01", "boolean": "否",
            "integer": 1}.get(f.type, "主债权及利息")


def _filled(template_bytes, business, bad_row=None):
    wb = load_workbook(io.BytesIO(template_bytes))
    ws = wb.active
    fields = business.form.per_unit
    money_col = next(i for i, f in enumerate(fields, start=2) if f.type == "money" and f.required) \
        if any(f.type == "money" and f.required for f in fields) else 2
    typed = {f.field: _value(f) for f in fields}
    for row in range(3, ws.max_row + 1):
        for col, f in enumerate(fields, start=2):
            if legal.applies(f, typed):   # 一般抵押: no 最高债权额 (the import refuses one)
                ws.cell(row=row, column=col, value=_value(f))
        if row == bad_row:
            ws.cell(row=row, column=money_col, value="十万元")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), ws.cell(row=1, column=money_col).column_letter


def test_300_rows_with_a_bad_cell_in_row_217_are_refused_then_the_corrected_file_imports(client, db):
    business, case = _case_with_units(300)
    client.auth.login("bank_a_op")
    template = client.get(f"/desk/batch/{case.id}/template")
    assert template.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    bad, letter = _filled(template.data, business, bad_row=217)
    before = {cu.id: dict(cu.data) for cu in case.units}
    r = client.post(f"/desk/batch/{case.id}/import", data={"workbook": (io.BytesIO(bad), "units.xlsx")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "<td>217</td>" in page and f"<td>{letter} (" in page
    assert page.count("<td>217</td>") == 1
    _db.session.expire_all()
    assert {cu.id: dict(cu.data) for cu in _db.session.get(Case, case.id).units} == before

    good, _letter = _filled(template.data, business)
    r = client.post(f"/desk/batch/{case.id}/import", data={"workbook": (io.BytesIO(good), "units.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    _db.session.expire_all()
    units = _db.session.get(Case, case.id).units
    assert len(units) == 300
    required = [f.field for f in business.form.per_unit if f.required]
    assert all(all(cu.data.get(name) not in (None, "") for name in required) for cu in units)


def test_a_row_for_a_unit_outside_the_case_is_refused(client, db):
    business, case = _case_with_units(2)
    client.auth.login("bank_a_op")
    template = client.get(f"/desk/batch/{case.id}/template").data
    wb = load_workbook(io.BytesIO(template))
    ws = wb.active
    other = _db.session.scalar(select(Unit).order_by(Unit.id.desc()))
    typed = {f.field: _value(f) for f in business.form.per_unit}
    ws.append([other.unit_code] + [_value(f) if legal.applies(f, typed) else None for f in business.form.per_unit])
    for row in (3, 4):
        for col, f in enumerate(business.form.per_unit, start=2):
            ws.cell(row=row, column=col, value=_value(f) if legal.applies(f, typed) else None)
    out = io.BytesIO()
    wb.save(out)
    r = client.post(f"/desk/batch/{case.id}/import", data={"workbook": (io.BytesIO(out.getvalue()), "u.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and other.unit_code in r.get_data(as_text=True)


def test_a_non_workbook_gets_a_clear_message(client, db):
    _business, case = _case_with_units(1)
    client.auth.login("bank_a_op")
    r = client.post(f"/desk/batch/{case.id}/import", data={"workbook": (io.BytesIO(b"MZ..."), "u.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "import-message" in r.get_data(as_text=True)


def test_register_data_is_extracted_for_every_unit_without_overwriting_typed_values(client, db):
    from .test_desk import apply_through_views
    business = next((b for b in rulebook.all_businesses() if b.batch and any(f.prefill for f in b.form.per_unit)), None)
    if business is None:
        pytest.skip("no batch business extracts register data")
    _username, case = apply_through_views(client, business)
    prefilled = [f.field for f in business.form.per_unit if f.prefill]
    typed_field = prefilled[0]
    cu = case.units[0]
    cu.data = {typed_field: "typed by the operator"}
    _db.session.commit()
    r = client.post(f"/desk/batch/{case.id}/extract")
    assert r.status_code == 302
    _db.session.expire_all()
    data = _db.session.get(Case, case.id).units[0].data
    assert data[typed_field] == "typed by the operator"
    assert any(data.get(f) not in (None, "") for f in prefilled[1:]) or len(prefilled) == 1
