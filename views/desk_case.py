"""The case page of the institution desk: one form holding basic information, units, parties and
materials, saved as a whole.

Every action on a draft (save, autosave, party save, upload, SMS send, confirm, delete, 提交) first
saves whatever the posted page holds (save_all), then does its own part: nothing typed elsewhere
on the page is lost. Routes answer POSTs with a redirect (PRG); autosave answers JSON.
"""
from flask import current_app, flash, g, jsonify, make_response, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app import dictionary, rulebook
from app.extensions import db
from app.services import materials, party_confirmation, payment, pdf, verification

from . import desk_common as dc
from .desk_form import (PENDING_PARTY, Saved, _commit, attach_generated, save_all,
                        send_all_confirmations, send_confirmation, unconfirmed)
from .downloads import file_response
from .jobs import start as start_job


def _workflow():
    from app.rulebook import workflow
    return workflow


class DeskCaseView(BaseView):
    route_base = "/desk/case"
    default_view = "show"

    def _page(self, case, business, form_errors=None, typed=None, party_errors=None, party_typed=None, status=200):
        wf = _workflow()
        events = [t for t in wf.available_events(case, g.user)]
        pending = (case.form_data or {}).get(PENDING_PARTY) or {}
        body = self.render_template(
            "desk/case.html", case=case, business=business, tx=dc.tx, draft=dc.is_draft(case, business),
            node_label=dc.state_label(business, case.node), events=events,
            form_errors=form_errors or {}, typed=typed, party_errors=party_errors or {},
            party_typed=party_typed or pending, parties=dc.parties_table(case, business),
            materials=dc.materials_table(case, business), vocab=dc.vocab_options, display=dc.display,
            upper=dc.money_upper, flow_svg=dc.flowchart(case, business), id_type_label=dc.id_type_label,
            state_label=lambda n: dc.state_label(business, n),
            action_label=lambda a: dc.action_label(business, a), reject_label=dc.reject_label,
            id_types=_id_types(), fees=payment.outstanding(case), tax=dc.tax_status(case, business),
            waiting=business.workflow.waiting_in(case.node) is not None, payable=dc.is_payable(case, business),
            same_as=lambda role, source: dc.same_as_ticked(case, role, source),
            keywords=dc.material_keywords, saved_at=lambda c: _hhmm(c.updated_at), only_when=dc.only_when_attrs,
            unit_names={cu.id: cu.unit.location for cu in case.units})
        return make_response(body, status)

    @expose("/<int:case_id>/")
    @has_access
    def show(self, case_id):
        case = dc.load_case(case_id)
        return self._page(case, rulebook.for_case(case))

    # ---- the whole form -----------------------------------------------------------------------
    @expose("/<int:case_id>/form", methods=["POST"])
    @has_access
    def save_form(self, case_id):
        """保存草稿 and the debounced autosave (X-Autosave: 1, answered with JSON)."""
        autosave = request.headers.get("X-Autosave") == "1"
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if not dc.is_draft(case, business):
            if autosave:
                return jsonify(ok=False, message=_("Only a draft can be edited")), 409
            flash(_("Only a draft can be edited"), "danger")
            return redirect(url_for(".show", case_id=case.id))
        saved = save_all(case, business, request.form, commit_party=not autosave)
        if autosave:
            if saved is None:
                return jsonify(ok=False, message=_("The case was changed meanwhile; nothing was saved. "
                                                  "Please reload and try again.")), 409
            return jsonify(ok=True, version=case.version, saved_at=_hhmm(case.updated_at),
                           errors=len(saved.errors) + len(saved.party_errors))
        if saved is None:
            return redirect(url_for(".show", case_id=case.id))
        if saved.errors or saved.party_errors:
            flash(_("The draft was saved, but %(n)d field(s) need correcting before submission",
                    n=len(saved.errors) + len(saved.party_errors)), "warning")
            return self._page(dc.load_case(case_id), business, form_errors=saved.errors, typed=saved.typed,
                              party_errors=saved.party_errors, party_typed=saved.party_typed, status=400)
        flash(_("Draft saved"), "success")
        return redirect(url_for(".show", case_id=case.id))

    # ---- parties ------------------------------------------------------------------------------
    @expose("/<int:case_id>/party", methods=["POST"])
    @has_access
    def save_party(self, case_id):
        """保存当事人: the whole page is saved; the new-party row becomes a party when it is complete."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if not dc.is_draft(case, business):
            flash(_("Only a draft can be edited"), "danger")
            return redirect(url_for(".show", case_id=case.id))
        saved = save_all(case, business, request.form, commit_party=True)
        if saved is None:
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        if saved.party_errors or saved.errors:
            return self._page(dc.load_case(case_id), business, form_errors=saved.errors, typed=saved.typed,
                              party_errors=saved.party_errors, party_typed=saved.party_typed, status=400)
        flash(_("Party saved") if saved.party_added else _("Draft saved"), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/delete", methods=["POST"])
    @has_access
    def delete_party(self, case_id, party_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if not dc.is_draft(case, business) or _save_first(case, business) is None:
            if not dc.is_draft(case, business):
                flash(_("Only a draft can be edited"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            flash(_("Party not found"), "danger")
        else:
            case.parties.remove(party)
            if _commit(case=case, touch=True):
                flash(_("Party removed"), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/send-code", methods=["POST"])
    @has_access
    def send_code(self, case_id, party_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if _save_first(case, business) is None:
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            flash(_("Party not found"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        try:  # to the party's phone on record, never simply the number typed on the case
            phone = send_confirmation(case, party)
        except verification.CodeError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("A confirmation code was sent to the mobile number on record %(phone)s",
                    phone=party_confirmation.masked(phone)), "info")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/send-codes", methods=["POST"])
    @has_access
    def send_codes(self, case_id):
        """One click: a confirmation code to every party the rules ask to confirm and who has not yet."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if _save_first(case, business) is None:
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        sent, missing = send_all_confirmations(case, business)
        db.session.commit()
        _flash_sent(sent, missing)
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    @expose("/<int:case_id>/party/<int:party_id>/confirm", methods=["POST"])
    @has_access
    def confirm_party(self, case_id, party_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if _save_first(case, business) is None:
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            flash(_("Party not found"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        code = request.form.get(f"code__{party.id}") or request.form.get("code", "")
        try:
            party_confirmation.confirm(case, party, code)
        except verification.CodeError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#parties")
        if _commit(case=case, touch=True):
            flash(_("%(name)s confirmed the application", name=party.name), "success")
            # A case waiting for the confirmations (待确认) moves on by itself once the last one is in.
            if _workflow().resume(case):
                flash(_("Every party has confirmed: the case moved on to %(node)s",
                        node=dc.state_label(business, case.node)), "success")
        return redirect(url_for(".show", case_id=case.id) + "#parties")

    # ---- materials ----------------------------------------------------------------------------
    @expose("/<int:case_id>/materials", methods=["POST"])
    @has_access
    def upload(self, case_id):
        """Files of the drop zone (each filed by its name), of one material's row, or (material_key)
        all for one material. All that are filed are stored, or none."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if _save_first(case, business) is None:
            return redirect(url_for(".show", case_id=case.id) + "#materials")
        by_key = {m.key: m for m in business.materials}
        chosen = by_key.get(request.form.get("material_key") or request.args.get("material", ""))
        filed, unmatched = [], []
        for f in request.files.getlist("files"):
            if f and f.filename:
                spec = chosen or dc.match_material(business, f.filename)
                (filed.append((spec, f)) if spec else unmatched.append(f.filename))
        for key, spec in by_key.items():
            filed += [(spec, f) for f in request.files.getlist(f"files__{key}") if f and f.filename]
        if not filed and not unmatched:
            flash(_("Choose a material and at least one file"), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#materials")
        replacing = None
        if request.form.get("replace_id"):
            replacing = next((m for m in case.materials if str(m.id) == request.form["replace_id"]), None)
        try:
            for spec, f in filed:
                materials.add(case, spec, f.filename, f.read(), dc.current_user_id(),
                              editable=dc.is_draft(case, business), replacing=replacing)
                replacing = None
        except materials.MaterialError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".show", case_id=case.id) + "#materials")
        if filed and _commit(case=case, touch=True):
            flash(_("%(n)d file(s) uploaded", n=len(filed)), "success")
        if unmatched:
            flash(_("Not filed, the name does not tell which material it is: %(files)s. "
                    "Choose it in the material's row.", files="、".join(unmatched)), "warning")
        return redirect(url_for(".show", case_id=case.id) + "#materials")

    @expose("/<int:case_id>/materials/<int:material_id>/delete", methods=["POST"])
    @has_access
    def delete_material(self, case_id, material_id):
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        if _save_first(case, business) is None:
            return redirect(url_for(".show", case_id=case.id) + "#materials")
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
        """提交 (and the other events): a draft is saved first, then the transition's guards are checked;
        at 提交 the application form is generated and attached, and when the rules let the case wait for
        the parties' confirmations (待确认) the codes go to every party who has not confirmed yet."""
        case = dc.load_case(case_id)
        business = rulebook.for_case(case)
        back = url_for(".show", case_id=case.id)
        form = request.form
        if dc.is_draft(case, business):
            if _save_first(case, business) is None:
                return redirect(back)
            t = business.workflow.transition(form.get("event", ""), case.node)
            if t is not None and "materials_complete" in t.guards:   # the form is attached before it is checked
                try:
                    attach_generated(case, business)
                except (materials.MaterialError, pdf.PdfError) as exc:
                    db.session.rollback()
                    flash(str(exc), "danger")
                    return redirect(back)
                _commit(case=case)
            form = {**form.to_dict(), "version": str(case.version)}   # the save above moved the version on
        before = case.node
        response = fire_event(case, form, back)
        if case.node != before and business.workflow.waiting_in(case.node) is not None:
            if len(unconfirmed(case, business)) > current_app.config["JOB_SMS_MESSAGES"]:
                # many messages: a background job sends them, the gateway's pace does not hold this request
                return start_job("send_confirmations", {"case_id": case.id}, len(unconfirmed(case, business)), back)
            sent, missing = send_all_confirmations(case, business)
            db.session.commit()
            _flash_sent(sent, missing)
        return response


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


def _save_first(case, business):
    """Before a partial action: save what the posted page holds (a draft only); None when stale."""
    if not dc.is_draft(case, business):
        return Saved()
    return save_all(case, business, request.form, commit_party=True)


def _flash_sent(sent, refused):
    if sent:
        flash(_("Confirmation codes were sent to %(n)d party(ies)", n=sent), "info")
    for message in dict.fromkeys(refused):
        flash(message, "danger")


def _hhmm(when):
    """The local time of a save, as the page shows it (已保存 hh:mm)."""
    import datetime as dt

    from flask_babel import format_datetime
    return format_datetime((when or dt.datetime.utcnow()).replace(tzinfo=dt.timezone.utc), "HH:mm")


def _id_types():
    try:
        return dictionary.choices("id_types")  # a new party: the dictionary's enabled ID types
    except Exception:
        return [("1", _("Resident ID card")), ("7", _("Unified social credit code"))]


