"""Excel template and all-or-nothing import, at the service level (the view test is in test_desk_batch.py)."""
import io
import zipfile
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from app.services import excel


def _field(name, kind="text", required=True, **kw):
    return SimpleNamespace(field=name, label={"zh": name, "en": name}, type=kind, vocabulary=None,
                           required=required, required_when=kw.get("required_when"), validator=kw.get("validator"),
                           after=kw.get("after"))


BUSINESS = SimpleNamespace(form=SimpleNamespace(per_unit=[
    _field("amount", "money"), _field("start", "date"), _field("end", "date", after="start"),
    _field("note", required=False)]))
CODES = [f"430102001001GB00001F0001{i:04d}" for i in range(1, 301)]


def _workbook(rows):
    wb = load_workbook(io.BytesIO(excel.build_template(BUSINESS, rows)))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(bad_row=None):
    rows = []
    for i, code in enumerate(CODES, start=3):
        rows.append([code, "abc" if i == bad_row else "1000.50", "2026-01-01", "2027-01-01", None])
    return rows


def test_template_has_label_and_machine_name_rows(app):
    with app.test_request_context():
        ws = load_workbook(io.BytesIO(excel.build_template(BUSINESS))).active
    assert [c.value for c in ws[2]] == ["unit_code", "amount", "start", "end", "note"]


def test_bad_cell_in_row_217_names_row_and_column(app):
    with app.test_request_context():
        with pytest.raises(excel.ExcelError) as err:
            excel.read_rows(BUSINESS, _workbook(_rows(bad_row=217)))
    assert len(err.value.errors) == 1
    row, column, message = err.value.errors[0]
    assert row == 217 and column.startswith("B") and "amount" in column
    with app.test_request_context():
        assert len(excel.read_rows(BUSINESS, _workbook(_rows()))) == 300


def test_end_before_start_and_missing_required(app):
    with app.test_request_context():
        with pytest.raises(excel.ExcelError) as err:
            excel.read_rows(BUSINESS, _workbook([[CODES[0], None, "2026-01-01", "2025-01-01", None]]))
    cols = sorted(c[0] for _, c, _ in err.value.errors)
    assert cols == ["B", "D"]


def test_zip_bomb_and_non_workbooks_are_refused(app):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"0" * (excel.MAX_UNCOMPRESSED + 1))
    with app.test_request_context():
        with pytest.raises(excel.ExcelError, match="too large|过大"):
            excel.read_rows(BUSINESS, buf.getvalue())
        with pytest.raises(excel.ExcelError):
            excel.read_rows(BUSINESS, b"not a zip")
