"""The case page of the institution desk: form, parties, materials, SMS confirmation, print, submit.

Routes answer POSTs with a redirect (PRG) except when the form has errors: then the page is shown
again with the typed values and a message next to each bad field, and nothing is lost.
"""
from flask import flash, g, make_response, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app import rulebook
from app.extensions import db
from app.services import excel, materials, party_confirmation, payment, pdf, verification
from app.validators import REGISTRY, ValidationFailed
from models import CaseParty

from . import desk_common as dc
from .downloads import file_response


def _workflow():
    from app.services import workflow
    return workflow


class DeskCaseView(BaseView):
    route_base = "/desk/case"
    default_view = "show"

    def _page(self, case, business, form_errors=None, typed=None, party_errors=None, party_typed=None, status=200):
        wf = _workflow()
        events = [t for t in wf.available_events(case, g.user)]
        body = self.render_template(
            "desk/case.html", case=case, business=business, tx=dc.tx, draft=dc.is_draft(case, business),
            node_label=dc.state_label(business, case.node), events=events,
            form_errors=form_errors or {}, typed=typed, party_errors=party_errors or {},
            party_typed=party_typed or {}, parties=dc.parties_table(case, business),
            materials=dc.materials_table(case, business), vocab=dc.vocab_options, display=dc.display,
            upper=dc.money_upper, flow_svg=dc.flowchart(case, business), id_type_label=dc.id_type_label,
            state_label=lambda n: dc.state_label(business, n),
            action_label=lambda a: dc.action_label(business, a), reject_label=dc.reject_label,
            id_types=_id_types(), fees=payment.outstanding(case), tax=dc.tax_status(case, business))
        return make_response(body, status)

    @expose("/<int:case_id>/")
    @has_access
    def show(self, case_id):
        case = dc.load_case(case_id)
        return self._page(case, rulebook.for_case(case))

    # ---- form ---------------------------------------------------------------------------------
    @expose("/<int:case_id>/form", methods=["POST"])
    @has_access
    def save_form(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
            return redirect(url_for(".show", case_id=case.id))
        errors, typed = {}, {}
        raw_case = {f.field: request.form.get(f"case__{f.field}", "") for f in business.form.case}
        values, bad = excel.validate_values(business.form.case, raw_case)
        errors.update({f"case__{k}": v for k, v in bad.items()})
        typed.update({f"case__{k}": v for k, v in raw_case.items()})
        case.form_data = {**(case.form_data or {}), **values}
        for cu in case.units:
            raw = {f.field: request.form.get(f"unit__{cu.id}__{f.field}", "") for f in business.form.per_unit}
            if business.form.per_unit and f"unit__{cu.id}__{business.form.per_unit[0].field}" not in request.form:
                continue  # this unit was not on the submitted page (batch pages show a slice)
            values, bad = excel.validate_values(business.form.per_unit, raw)
            errors.update({f"unit__{cu.id}__{k}": v for k, v in bad.items()})
            typed.update({f"unit__{cu.id}__{k}": v for k, v in raw.items()})
            cu.data = {**(cu.data or {}), **values}
            cu.group_name = request.form.get(f"group__{cu.id}", cu.group_name) or None
        # A draft keeps what was typed even when some of it is wrong: submit checks it again.
        if not _commit(expected=request.form.get("version"), case=case):
            return redirect(url_for(".show", case_id=case.id))
        if errors:
            flash(_("The draft was saved, but %(n)d field(s) need correcting before submission", n=len(errors)),
                  "warning")
            return self._page(dc.load_case(case_id), business, form_errors=errors, typed=typed, status=400)
        flash(_("Draft saved"), "success")
        return redirect(url_for(".show", case_id=case.id))

    # ---- parties ------------------------------------------------------------------------------
    @expose("/<int:case_id>/party", methods=["POST"])
    @has_access
    def save_party(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
            return redirect(url_for(".show", case_id=case.id))
        role = request.form.get("role", "")
        spec = business.form.parties.get(role)
        typed = {k: request.form.get(k, "").strip() for k in ("role", "kind", "name", "id_type", "id_number",
                                                               "phone", "share", "party_id")}
        errors = _party_errors(spec, typed)
        party = None
        if typed["party_id"]:
            party = next((p for p in case.parties if str(p.id) == typed["party_id"]), None)
        elif spec and spec.max is not None and len([p for p in case.parties if p.role == role]) >= spec.max:
            errors["name"] = _("At most %(n)d party(ies) in this role", n=spec.max)
        if not errors and any(p.role == role and p.id_number == typed["id_number"].upper() and p is not party
                              for p in case.parties):
            errors["id_number"] = _("This person is already a party in this role")
        if errors:
            return self._page(case, business, party_errors=errors, party_typed=typed, status=400)
        if party is None:
            party = CaseParty(case=case, role=role)
            db.session.add(party)
        changed_identity = party.id_number != typed["id_number"].upper() or party.phone != (typed["phone"] or None)
        party.kind = typed["kind"] or "person"
        party.name = typed["name"]
        party.id_type = typed["id_type"] or "1"
        party.id_number = typed["id_number"].upper()
        party.phone = typed["phone"] or None
        party.share = typed["share"] or None
        if changed_identity:
            party_confirmation.reset(party)  # a confirmation belongs to the person and number it was sent to
        if _commit(case=case, touch=True):
            flash(_("Party saved"), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/delete", methods=["POST"])
    @has_access
    def delete_party(self, case_id, party_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None or not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
        else:
            case.parties.remove(party)
            if _commit(case=case, touch=True):
                flash(_("Party removed"), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/send-code", methods=["POST"])
    @has_access
    def send_code(self, case_id, party_id):
        case = dc.load_case(case_id)
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            flash(_("Party not found"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        try:  # to the party's phone on record, never simply the number typed on the case
            phone = party_confirmation.send(case, party)
        except verification.CodeError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("A confirmation code was sent to the mobile number on record %(phone)s",
                    phone=party_confirmation.masked(phone)), "info")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/confirm", methods=["POST"])
    @has_access
    def confirm_party(self, case_id, party_id):
        case = dc.load_case(case_id)
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            flash(_("Party not found"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        try:
            party_confirmation.confirm(case, party, request.form.get("code", ""))
        except verification.CodeError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        if _commit(case=case, touch=True):
            flash(_("%(name)s confirmed the application", name=party.name), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    # ---- materials ----------------------------------------------------------------------------
    @expose("/<int:case_id>/materials", methods=["POST"])
    @has_access
    def upload(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        spec = next((m for m in business.materials if m.key == request.form.get("material_key")), None)
        files = [f for f in request.files.getlist("files") if f and f.filename]
        if spec is None or not files:
            flash(_("Choose a material and at least one file"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#materials")
        replacing = None
        if request.form.get("replace_id"):
            replacing = next((m for m in case.materials if str(m.id) == request.form["replace_id"]), None)
        try:
            for f in files:  # several files at once: all are checked and stored, or none
                materials.add(case, spec, f.filename, f.read(), dc.current_user_id(),
                              editable=dc.is_draft(case, business), replacing=replacing)
                replacing = None
        except materials.MaterialError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#materials")
        if _commit(case=case, touch=True):
            flash(_("%(n)d file(s) uploaded", n=len(files)), "success")
        return redirect(url_for(".show", case_id=case.id) + "#materials")

    @expose("/<int:case_id>/materials/<int:material_id>/delete", methods=["POST"])
    @has_access
    def delete_material(self, case_id, material_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        material = next((m for m in case.materials if m.id == material_id), None)
        try:
            if material is None:
                raise materials.MaterialError(_("Material file not found"))
            materials.remove(case, material, editable=dc.is_draft(case, business))
        except materials.MaterialError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            if _commit(case=case, touch=True):
                flash(_("File deleted"), "success")
        return redirect(url_for(".show", case_id=case.id) + "#materials")

    @expose("/<int:case_id>/materials/<int:material_id>")
    @has_access
    def preview(self, case_id, material_id):
        case = dc.load_case(case_id)
        material = next((m for m in case.materials if m.id == material_id), None)
        if material is None:
            return make_response(_("Material file not found"), 404)
        path = materials.file_path(material)
        # Only types we sniffed are stored, so inline display is safe; nosniff keeps browsers honest.
        resp = send_file(path, mimetype=material.content_type, download_name=material.filename,
                         as_attachment=request.args.get("download") == "1")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'"
        return resp

    # ---- print and workflow -------------------------------------------------------------------
    @expose("/<int:case_id>/print")
    @has_access
    def print_pdf(self, case_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        return file_response(pdf.case_documents([dc.case_summary(case, business)]), f"{case.number}.pdf")

    @expose("/<int:case_id>/fire", methods=["POST"])
    @has_access
    def fire(self, case_id):
        case = dc.load_case(case_id)
        return fire_event(case, request.form, url_for(".show", case_id=case.id))


def fire_event(case, form, back):
    """Fire one workflow event from a posted form; every problem is flashed, nothing half-done."""
    wf = _workflow()
    event = form.get("event", "")
    try:
        expected = int(form.get("version") or 0) or None
    except ValueError:
        expected = None
    try:
        wf.fire(case, event, g.user, opinion=(form.get("opinion") or "").strip() or None,
                reject_type=form.get("reject_type") or None, target=form.get("target") or None,
                expected_version=expected)
    except wf.WorkflowError as exc:
        db.session.rollback()
        for problem in exc.problems or [str(exc)]:
            flash(str(getattr(problem, "message", problem)), "danger")
        return redirect(back)
    except StaleDataError:
        db.session.rollback()
        flash(_("The case was changed meanwhile (or already submitted); nothing was done. Please reload."), "danger")
        return redirect(back)
    flash(_("Done: %(event)s", event=dc.tx(_transition_label(case, event))), "success")
    return redirect(back)


def _transition_label(case, event):
    for t in rulebook.for_case(case).workflow.transitions:
        if t.event == event:
            return t.label
    return event


def _commit(case, expected=None, touch=False):
    """Commit with the optimistic lock: a stale page or concurrent edit is refused, not merged."""
    try:
        if expected and str(case.version) != str(expected):
            raise StaleDataError()
        if touch:
            from models.base import utcnow
            case.updated_at = utcnow()  # bumps the version so two tabs cannot both act on the old state
        db.session.commit()
        return True
    except StaleDataError:
        db.session.rollback()
        flash(_("The case was changed meanwhile; nothing was saved. Please reload and try again."), "danger")
        return False


def _id_types():
    try:
        return [(i.code, dc.tx(i.name)) for i in rulebook.vocabulary("id_types")]
    except Exception:
        return [("1", _("Resident ID card")), ("7", _("Unified social credit code"))]


def _party_errors(spec, typed):
    errors = {}
    if spec is None:
        errors["role"] = _("Choose a party role")
        return errors
    if not typed["name"]:
        errors["name"] = _("This field is required")
    checker = REGISTRY.get(spec.validator or "id_or_uscc")
    try:
        checker(typed["id_number"])
    except ValidationFailed as exc:
        errors["id_number"] = str(exc)
    if typed["phone"] or spec.confirm:
        try:
            REGISTRY["mobile"](typed["phone"])
        except ValidationFailed as exc:
            errors["phone"] = str(exc)
    if typed["share"]:
        try:
            from decimal import Decimal
            share = Decimal(typed["share"])
            if not 0 < share <= 1:
                raise ValueError
        except Exception:
            errors["share"] = _("Share must be a number greater than 0 and at most 1")
    return errors
