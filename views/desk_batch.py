"""Batch entry for a case with many units: the Excel template and the all-or-nothing import.

The file's rows are matched to the case's units by unit code; every row is validated before
anything is written, and the whole import is one transaction.
"""
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import jobs, rulebook
from app.extensions import db
from app.services import excel
from models import Case, CaseUnit
from models.base import utcnow

from . import desk_common as dc
from .desk_case import _commit
from .downloads import XLSX, file_response
from .jobs import start as start_job


def extracted_values(business, unit, institution_id):
    """批量提取: the per-unit values the register already holds (fields with `prefill` in the rules)."""
    record = rulebook.lookup.record_for(business, unit, institution_id)
    values = {}
    for f in business.form.per_unit:
        value = getattr(record, f.prefill, None) if (f.prefill and record is not None) else None
        if value is not None:
            values[f.field] = value if isinstance(value, bool) else (
                value.isoformat() if hasattr(value, "isoformat") else str(value))
    return values


class DeskBatchView(BaseView):
    route_base = "/desk/batch"

    @expose("/<int:case_id>/template")
    @has_access
    def template(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        fields = business.form.per_unit
        rows = [[cu.unit.unit_code] + [(cu.data or {}).get(f.field) for f in fields] for cu in case.units]
        return file_response(excel.build_template(business, rows), f"{case.number}.xlsx", XLSX)

    @expose("/<int:case_id>/extract", methods=["POST"])
    @has_access
    def extract(self, case_id):
        """Fill every unit's empty fields from the register in one go (typed values are kept)."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        back = url_for("DeskCaseView.show", case_id=case.id) + "#units"
        if not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
            return redirect(back)
        filled = 0
        for cu in case.units:
            found = extracted_values(business, cu.unit, case.institution_id)
            missing = {k: v for k, v in found.items() if (cu.data or {}).get(k) in (None, "")}
            if missing:
                cu.data = {**(cu.data or {}), **missing}
                filled += 1
        if _commit(case=case, touch=True):
            flash(_("Register data extracted for %(n)d unit(s)", n=filled), "success")
        return redirect(back)

    @expose("/<int:case_id>/import", methods=["POST"])
    @has_access
    def import_rows(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        back = url_for("DeskCaseView.show", case_id=case.id) + "#units"
        if not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
            return redirect(back)
        upload = request.files.get("workbook")
        if upload is None or not upload.filename:
            flash(_("Choose an Excel file to import"), "danger")
            return redirect(back)
        data = upload.read()
        count = excel.data_rows(data)
        if count > current_app.config["JOB_IMPORT_ROWS"]:  # a large workbook is imported by a background job
            return start_job("excel_import", {"case_id": case.id, "filename": upload.filename[:200]}, count, back,
                             input_data=data)
        errors = []
        try:
            rows = excel.read_rows(business, data)
        except excel.ExcelError as exc:
            rows, message, errors = None, str(exc), exc.errors
        if rows is not None:
            errors = _units_not_in(case, rows)
            message = _("%(n)d error(s) found; nothing was imported", n=len(errors))
        if errors or rows is None:
            db.session.rollback()
            body = render_template("desk/import_errors.html", case=case, message=message, errors=errors,
                                   appbuilder=self.appbuilder, business=business, tx=dc.tx)
            return make_response(body, 400)
        clash = _apply(case, rows)
        if clash:
            db.session.rollback()
            body = render_template("desk/import_errors.html", case=case, message=_(
                "%(n)d error(s) found; nothing was imported", n=len(clash)), errors=clash,
                appbuilder=self.appbuilder, business=business, tx=dc.tx)
            return make_response(body, 400)
        if _commit(case=case, touch=True):
            flash(_("%(n)d row(s) imported", n=len(rows)), "success")
        return redirect(back)


def _units_not_in(case, rows):
    codes = {cu.unit.unit_code for cu in case.units}
    return [(r["row"], f"A ({_('Unit code')})", _("Unit %(code)s is not in this case", code=r["unit_code"]))
            for r in rows if r["unit_code"] not in codes]


def _apply(case, rows):
    """Each row's values onto its unit, and its buyers onto that unit; returns the rows refused (then the
    caller keeps nothing)."""
    by_code = {cu.unit.unit_code: cu for cu in case.units}
    for r in rows:
        cu = by_code[r["unit_code"]]
        cu.data = {**(cu.data or {}), **{k: v for k, v in r["values"].items() if v is not None}}
    return _attach_row_parties(case, by_code, rows)


def _refused(message, errors, shown=20):
    """The import job's failure as the user reads it: the summary, then the first bad cells."""
    lines = [_("Row %(row)d, %(column)s: %(message)s", row=row, column=column, message=text)
             for row, column, text in errors[:shown]]
    if len(errors) > shown:
        lines.append(_("... and %(n)d more", n=len(errors) - shown))
    return "\n".join([message] + lines)


@jobs.register("excel_import", _l("Excel import"))
def excel_import_job(job, params):
    """A large Excel import (import_rows above) as a job: validated whole with progress, then applied in the
    job's one transaction, so a bad cell anywhere imports nothing."""
    case = db.session.scalar(select(Case).where(Case.id == params.get("case_id"))
                             .options(selectinload(Case.units).joinedload(CaseUnit.unit)))
    if case is None:
        raise jobs.JobFailed(_("The case was not found"))
    business = rulebook.for_case(case)
    if not dc.is_draft(case, business):
        raise jobs.JobFailed(_("Only a draft can be edited"))
    try:
        rows = excel.read_rows(business, job.input(), progress=lambda row: job.progress(row - 2))
    except excel.ExcelError as exc:
        raise jobs.JobFailed(_refused(str(exc), exc.errors)) from None
    errors = _units_not_in(case, rows)
    if errors:
        raise jobs.JobFailed(_refused(_("%(n)d error(s) found; nothing was imported", n=len(errors)), errors))
    job.progress(len(rows), len(rows))  # progress is written before the rows (one writer at a time on SQLite)
    clash = _apply(case, rows)
    if clash:
        raise jobs.JobFailed(_refused(_("%(n)d error(s) found; nothing was imported", n=len(clash)), clash))
    case.updated_at = utcnow()  # bumps the version: a page opened before the import cannot overwrite it
    return None


def _attach_row_parties(case, by_code, rows):
    """Each row's buyer (a per-unit party role) becomes that unit's party in the role, replacing the one
    the unit had; returns the rows whose party is already another unit's (nothing is then kept)."""
    from models import CaseParty
    errors = []
    for r in rows:
        cu = by_code[r["unit_code"]]
        for role, typed in (r.get("parties") or {}).items():
            same = None
            for p in [p for p in case.parties if p.role == role and p.case_unit_id == cu.id]:
                if p.id_number == typed["id_number"] and same is None:
                    same = p   # re-imported: updated in place (a delete and insert of one key would clash)
                else:
                    case.parties.remove(p)
            if same is not None:
                same.name, same.phone = typed["name"], typed.get("phone") or same.phone
                continue
            other = next((p for p in case.parties if p.role == role and p.id_number == typed["id_number"]), None)
            if other is not None:
                errors.append((r["row"], typed["id_number"], _("This person is already a party in this role")))
                continue
            organisation = _is_uscc(typed["id_number"])
            case.parties.append(CaseParty(role=role, kind="organisation" if organisation else "person",
                                          name=typed["name"], id_type="8" if organisation else "1",
                                          id_number=typed["id_number"], phone=typed.get("phone") or None,
                                          case_unit_id=cu.id))
    return errors


def _is_uscc(number):
    from app.validators import ValidationFailed, uscc
    try:
        uscc(number)
        return True
    except ValidationFailed:
        return False
