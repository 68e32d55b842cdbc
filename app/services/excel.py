"""Excel batch entry: a template per business built from its rules' per-unit fields, and an
all-or-nothing import that lists every bad cell (row, column, message).

Field parsing (parse_value / validate_values) lives here too because the case form and the import
must accept exactly the same values. openpyxl parses XML safely only with defusedxml installed
(it is a dependency); the zip container is checked before openpyxl opens it so a zip bomb or a
non-workbook is refused with a message instead of exhausting memory.
"""
import datetime as dt
import io
import zipfile
from decimal import Decimal

from flask import current_app, g
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from app import validators
from app.rulebook import legal

MAX_MEMBERS = 200
MAX_UNCOMPRESSED = 100 * 1024 * 1024
UNIT_CODE_COLUMN = "unit_code"
TRUE = {"1", "true", "yes", "y", "是", "√", "✓"}
FALSE = {"0", "false", "no", "n", "否", ""}


class ExcelError(ValueError):
    """The workbook was refused; .errors is a list of (row, column, message)."""

    def __init__(self, message, errors=()):
        super().__init__(message)
        self.errors = list(errors)


def _label(obj, lang="zh"):
    label = getattr(obj, "label", None) or getattr(obj, "name", None)
    if label is None:
        return ""
    if hasattr(label, "get"):  # the rules' Text (zh/en) or a plain dict in tests
        return label.get(lang) or label.get("zh") or ""
    return str(label)


def field_label(field):
    from flask_babel import get_locale
    return _label(field, str(get_locale() or "zh")[:2]) or field.field


# ---- values -----------------------------------------------------------------------------------

def parse_value(field, raw, vocab_codes=None):
    """One raw value (form text or Excel cell) to its stored JSON form; raises ValidationFailed."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    kind = field.type
    if kind == "money":
        return str(validators.money(raw))
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        return validators.date_value(raw).isoformat()
    if kind == "integer":
        try:
            return int(str(raw).strip())
        except ValueError:
            raise validators.ValidationFailed(_("Must be a whole number")) from None
    if kind == "boolean":
        text = str(raw).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise validators.ValidationFailed(_("Must be yes or no"))
    text = str(raw).strip()
    if kind == "choice" and vocab_codes is not None:
        if text not in vocab_codes:
            # Excel users type the Chinese name more often than the code: accept either.
            by_name = {name: code for code, name in vocab_codes.items()}
            if text in by_name:
                return by_name[text]
            raise validators.ValidationFailed(_("Not one of the allowed choices: %(choices)s",
                                                choices=", ".join(vocab_codes.values())))
    if kind == "id_number":
        text = validators.id_or_uscc(text)
    if field.validator:
        result = validators.REGISTRY[field.validator](text)
        text = str(result) if isinstance(result, Decimal) else result
    return text


def vocab_codes(field):
    """code -> label for a choice field, from the rules' vocabulary."""
    if field.type != "choice" or not field.vocabulary:
        return None
    from app import rulebook
    from flask_babel import get_locale
    lang = str(get_locale() or "zh")[:2]
    return {item.code: (item.name.get(lang) or item.name.get("zh")) for item in rulebook.vocabulary(field.vocabulary)}


def _vocabularies(fields):
    """The vocabularies the fields name, read once per request or job (an import validates every row)."""
    from app import rulebook
    names = tuple(sorted({f.vocabulary for f in fields if getattr(f, "vocabulary", None)}))
    memo = g.setdefault("_excel_vocabularies", {})
    if names not in memo:
        memo[names] = {name: rulebook.vocabulary(name) for name in names}
    return memo[names]


def validate_values(fields, raw: dict) -> tuple[dict, dict]:
    """Parse every field of one record; returns (values, errors{field: message}).

    required, required_when and after are rules-level conditions checked here, once, for both the
    form and the import.
    """
    values, errors = {}, {}
    for f in fields:
        try:
            values[f.field] = parse_value(f, raw.get(f.field), vocab_codes(f))
        except validators.ValidationFailed as exc:
            errors[f.field] = str(exc)
            values[f.field] = raw.get(f.field)
    for f in fields:
        if f.field in errors:
            continue
        needed = f.required or (f.required_when and all(
            str(values.get(k) or "") == str(v) for k, v in f.required_when.items()))
        if needed and values.get(f.field) in (None, "") and legal.applies(f, values):
            errors[f.field] = _("This field is required")
        after = getattr(f, "after", None)
        if after and values.get(f.field) and values.get(after) and after not in errors:
            if str(values[f.field]) <= str(values[after]):
                errors[f.field] = _("Must be after %(other)s", other=next(
                    (field_label(o) for o in fields if o.field == after), after))
        if f.field not in errors:   # the register's legal constraints (the other kind's amount, a date's range)
            problem = legal.field_problem(f, values, fields, vocabularies=_vocabularies(fields))
            if problem:
                errors[f.field] = problem
    return values, errors


# ---- writing: every workbook the platform writes goes through cell() ------------------------------

# Excel (and LibreOffice, and CSV importers) read a typed value starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(ws, value, font=None):
    """One cell for `ws` (an ordinary or a write-only sheet) holding `value` as typed: a text starting
    with =, +, -, @, tab or CR is stored as a text cell with Excel's quote prefix and the text format,
    so it is shown as typed and never evaluated, not even once the cell is edited. Every Excel writer
    of the platform builds its cells here (the import template, the exports)."""
    c = WriteOnlyCell(ws, value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        c.data_type = "s"          # openpyxl made it a formula ("f") when the value was bound
        c.number_format = "@"
        c._style.quotePrefix = 1   # not exposed by openpyxl's Cell; the xf attribute Excel reads
    if font is not None:
        c.font = font
    return c


def safe_row(ws, values, font=None):
    return [cell(ws, v, font) for v in values]


def safe_values(ws, values):
    """A row for ws.append(): the values as they are, those openpyxl would read as a formula as cell()s
    (a plain value costs openpyxl one cell object less: the exports' rows)."""
    return [cell(ws, v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def shown(value):
    """A value as an export shows it, in the page's words: blank for nothing, 是/否, times to the minute,
    dates as YYYY-MM-DD; numbers stay numbers; anything else as its text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (int, float, Decimal)):
        return value
    if hasattr(value, "striptags"):   # a formatter's HTML (Markup): its text
        return value.striptags()
    if isinstance(value, (list, tuple, set)):
        return "、".join(str(shown(v)) for v in value)
    return str(value)


def stream(headers, rows, progress=None, total=0, sheet=None) -> bytes:
    """A workbook of one sheet streamed row by row (openpyxl write-only mode: memory does not grow with
    the rows): a bold header, then `rows` (an iterable of value lists, shown()), each cell through cell().
    progress(done, total) is called every 1,000 rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet or "Sheet1")
    bold = Font(bold=True)
    ws.append(safe_row(ws, [str(h) for h in headers], bold))
    for i, values in enumerate(rows, start=1):
        ws.append(safe_values(ws, [shown(v) for v in values]))
        if progress and i % 1000 == 0:
            progress(i, max(total, i))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- template ---------------------------------------------------------------------------------

def build_template(business, rows=()) -> bytes:
    """The per-business import sheet: unit code, then every per-unit field of the rules."""
    fields = list(business.form.per_unit)
    wb = Workbook()
    ws = wb.active
    ws.title = "units"
    header = [_("Unit code")] + [field_label(f) for f in fields] + [label for _n, label, _r, _k in party_columns(business)]
    ws.append(safe_row(ws, header))
    # machine names keep the import stable
    ws.append([UNIT_CODE_COLUMN] + [f.field for f in fields] + [name for name, _l, _r, _k in party_columns(business)])
    bold = Font(bold=True)
    for head in ws[1]:
        head.font = bold
        head.fill = PatternFill("solid", fgColor="DDEBF7")
    for col, f in enumerate(fields, start=2):
        hint = _hint(f)
        if hint:
            ws.cell(row=1, column=col).comment = Comment(hint, "registry")
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = 18
    ws.column_dimensions["A"].width = 32
    for row in rows:   # the units' typed values: text, even one typed as =HYPERLINK(...)
        ws.append(safe_row(ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _hint(f):
    codes = vocab_codes(f)
    parts = [_("required")] if f.required else []
    if codes:
        parts.append(" / ".join(f"{k}={v}" for k, v in codes.items()))
    if f.type == "date":
        parts.append("YYYY-MM-DD")
    if f.type == "money":
        parts.append(_("amount in yuan, two decimals"))
    return "; ".join(parts)


# ---- import -----------------------------------------------------------------------------------

def check_container(data: bytes) -> None:
    """Refuse what is not a reasonable .xlsx before openpyxl inflates it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ExcelError(_("The workbook has too many parts (%(n)d)", n=len(infos)))
            if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
                raise ExcelError(_("The workbook is too large once uncompressed"))
            if "[Content_Types].xml" not in zf.namelist():
                raise ExcelError(_("The file is not an Excel workbook (.xlsx)"))
    except zipfile.BadZipFile:
        raise ExcelError(_("The file is not an Excel workbook (.xlsx)")) from None


def data_rows(data: bytes) -> int:
    """How many filled data rows a workbook holds (below the two header rows); 0 when it cannot be read
    (read_rows then says why). Decides whether an import runs in the request or as a job."""
    try:
        check_container(data)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # unreadable: read_rows gives the user the reason
        return 0
    try:
        rows = wb.worksheets[0].iter_rows(min_row=3, values_only=True)
        return sum(1 for row in rows if row is not None and any(v not in (None, "") for v in row))
    finally:
        wb.close()


def read_rows(business, data: bytes, progress=None) -> list[dict]:
    """Validate every row; returns [{"unit_code", "row", "values"}] or raises ExcelError with all errors.

    Nothing is written here: the caller applies the rows only when this returns.
    """
    check_container(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds; to the user they all mean "not readable"
        raise ExcelError(_("The workbook could not be read; please use the downloaded template")) from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        next(rows, None)  # the human header
        names = [str(c).strip() if c is not None else "" for c in (next(rows, None) or ())]
        fields = list(business.form.per_unit)
        people = party_columns(business)
        expected = [UNIT_CODE_COLUMN] + [f.field for f in fields] + [name for name, _l, _r, _k in people]
        if names[:len(expected)] != expected:
            raise ExcelError(_("The columns do not match this business's template; please download it again"))
        letters = _column_letters(len(expected))
        labels = {f.field: field_label(f) for f in fields}
        errors, result, seen, buyers = [], [], {}, {}
        max_rows = current_app.config["IMPORT_MAX_ROWS"]   # large imports run as a job (JOB_IMPORT_ROWS)
        for number, row in enumerate(rows, start=3):
            if row is None or all(v in (None, "") for v in row):
                continue
            if len(result) >= max_rows:
                raise ExcelError(_("At most %(n)d rows can be imported at once", n=max_rows))
            record = dict(zip(expected, row))
            code = str(record.get(UNIT_CODE_COLUMN) or "").strip().upper()
            try:
                validators.unit_code(code)
            except validators.ValidationFailed as exc:
                errors.append((number, f"A ({_('Unit code')})", str(exc)))
            if code in seen:
                errors.append((number, f"A ({_('Unit code')})", _("Same unit as row %(row)d", row=seen[code])))
            seen.setdefault(code, number)
            values, bad = validate_values(fields, record)
            for i, f in enumerate(fields, start=1):
                if f.field in bad:
                    errors.append((number, f"{letters[i]} ({labels[f.field]})", bad[f.field]))
            parties = _row_parties(business, people, record, number, letters, len(fields) + 1, errors, buyers)
            result.append({"row": number, "unit_code": code, "values": values, "parties": parties})
            if progress and number % 100 == 0:
                progress(number)
        if errors:
            raise ExcelError(_("%(n)d error(s) found; nothing was imported", n=len(errors)), errors)
        if not result:
            raise ExcelError(_("The workbook has no data rows"))
        return result
    finally:
        wb.close()


PARTY_PARTS = ("name", "id_number", "phone")


def party_columns(business):
    """[(machine name, header, role, part)]: a batch's per-unit party roles (the buyer of each unit) as
    columns, one party per row, so each unit's row names its own buyer."""
    if not getattr(business, "batch", False):
        return []
    words = {"name": _("Name"), "id_number": _("ID number"), "phone": _("Phone")}
    return [(f"{role}__{part}", f"{_label(spec)}{words[part]}", role, part)
            for role, spec in business.form.parties.items() if spec.per_unit for part in PARTY_PARTS]


def _row_parties(business, people, record, number, letters, first, errors, buyers):
    """{role: {name, id_number, phone}} of one row, each checked as the case page checks a party."""
    out = {}
    for i, (name, header, role, part) in enumerate(people):
        value = str(record.get(name) or "").strip()
        if value:
            out.setdefault(role, {})[part] = value
    for role, typed in out.items():
        spec = business.form.parties[role]

        def cell(part):
            index = first + [n for n, _h, _r, _p in people].index(f"{role}__{part}")
            return f"{letters[index]} ({people[index - first][1]})"
        if not typed.get("name"):
            errors.append((number, cell("name"), _("This field is required")))
        try:
            typed["id_number"] = validators.REGISTRY[spec.validator or "id_or_uscc"](typed.get("id_number", ""))
        except validators.ValidationFailed as exc:
            errors.append((number, cell("id_number"), str(exc)))
        else:
            key = (role, typed["id_number"])
            if key in buyers:
                errors.append((number, cell("id_number"), _("Same party as row %(row)d", row=buyers[key])))
            buyers.setdefault(key, number)
        if typed.get("phone"):
            try:
                validators.REGISTRY["mobile"](typed["phone"])
            except validators.ValidationFailed as exc:
                errors.append((number, cell("phone"), str(exc)))
    return out


def _column_letters(n):
    from openpyxl.utils import get_column_letter
    return [get_column_letter(i) for i in range(1, n + 1)]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def append_safe(ws, values) -> None:
    """Append a row to an openpyxl sheet; a text that a spreadsheet would run as a formula (starting with
    = + - @, tab or CR: CSV/formula injection) is written as a text cell (quote prefix), shown as typed."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type, cell.quotePrefix = "s", True
