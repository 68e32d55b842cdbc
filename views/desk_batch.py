"""Batch entry for a case with many units: the Excel template and the all-or-nothing import.

The file's rows are matched to the case's units by unit code; every row is validated before
anything is written, and the whole import is one transaction.
"""
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app import rulebook
from app.extensions import db
from app.services import excel

from . import desk_common as dc
from .desk_case import _commit
from .downloads import XLSX, file_response



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
        errors = []
        try:
            rows = excel.read_rows(business, upload.read())
        except excel.ExcelError as exc:
            rows, message, errors = None, str(exc), exc.errors
        if rows is not None:
            by_code = {cu.unit.unit_code: cu for cu in case.units}
            errors = [(r["row"], f"A ({_('Unit code')})", _("Unit %(code)s is not in this case", code=r["unit_code"]))
                      for r in rows if r["unit_code"] not in by_code]
            message = _("%(n)d error(s) found; nothing was imported", n=len(errors))
        if errors or rows is None:
            db.session.rollback()
            body = render_template("desk/import_errors.html", case=case, message=message, errors=errors,
                                   appbuilder=self.appbuilder, business=business, tx=dc.tx)
            return make_response(body, 400)
        for r in rows:
            cu = by_code[r["unit_code"]]
            cu.data = {**(cu.data or {}), **{k: v for k, v in r["values"].items() if v is not None}}
        clash = _attach_row_parties(case, by_code, rows)
        if clash:
            db.session.rollback()
            body = render_template("desk/import_errors.html", case=case, message=_(
                "%(n)d error(s) found; nothing was imported", n=len(clash)), errors=clash,
                appbuilder=self.appbuilder, business=business, tx=dc.tx)
            return make_response(body, 400)
        if _commit(case=case, touch=True):
            flash(_("%(n)d row(s) imported", n=len(rows)), "success")
        return redirect(back)


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
