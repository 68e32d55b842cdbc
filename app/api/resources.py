"""The resources of /api/v1: businesses, lookups, cases (create, patch, parties, materials, submit,
cancel, re-apply), certificates, payments and events. Every route runs the same engine as the desk
(app/rulebook, app/rulebook/workflow.py, app/services, views/desk_form.py's save helpers) as the
client's service account, inside its institution's scope."""
from flask import Response, current_app, g, json, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import rulebook
from app.extensions import db
from app.rulebook import applicants, lookup, workflow
from app.services import certificates, excel, materials, payment, pdf
from app.validators import ValidationFailed
from models import Case, CaseParty, CaseUnit, Certificate
from models.api import ApiEvent
from models.base import utcnow
from views import desk_common as dc
from views import desk_form

from . import serialize
from .idempotency import idempotent
from .problems import Problem, field_errors

MAX_ID = 2**31 - 1


def ok(body, status=200, headers=None):
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _body() -> dict:
    data = request.get_json(silent=True)
    if request.mimetype != "application/json":
        raise Problem(415, _("Send the body as application/json"))
    if not isinstance(data, dict):
        raise Problem(400, _("The body must be a JSON object"))
    return data


def _as_text(value):
    """A JSON value as the desk's form would post it (the same parser validates both)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise ValueError
    return str(value)


def _business(key):
    try:
        return rulebook.get(str(key))
    except KeyError:
        raise Problem(404, _("Unknown business")) from None


def _case(case_id) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id).options(
        selectinload(Case.units).joinedload(CaseUnit.unit), selectinload(Case.parties),
        selectinload(Case.materials), selectinload(Case.history)))
    if case is None:
        raise Problem(404, _("No such case"))
    return case


def _case_response(case, status=200):
    db.session.expire_all()
    case = _case(case.id)
    return ok(serialize.case(case), status, {"ETag": serialize.etag(case),
                                             "Location": f"/api/v1/cases/{case.id}"})


def _if_match(case, required=False):
    tag = request.headers.get("If-Match")
    if tag is None:
        if required:
            raise Problem(428, _("Send If-Match with the case's ETag"))
        return
    if tag.strip() not in ("*", serialize.etag(case)):
        raise Problem(412, headers={"ETag": serialize.etag(case)})


def _editable(case, business):
    if not dc.is_draft(case, business):
        raise Problem(409, _("Only a draft can be edited"))


def _values(fields, stored, posted, prefix):
    """Validate the posted fields against the rules (with the stored ones for conditions); (values, errors)."""
    known = {f.field for f in fields}
    errors = [{"field": f"{prefix}{k}", "message": _("Unknown field")} for k in posted if k not in known]
    try:
        raw = {k: _as_text(v) for k, v in posted.items() if k in known}
    except ValueError:
        raise Problem(422, errors=[{"field": prefix.rstrip("."), "message": _("Values must be text, numbers or booleans")}]) from None
    values, bad = excel.validate_values(fields, {**desk_form._as_raw(stored, fields), **raw})
    errors += field_errors({k: v for k, v in bad.items() if k in raw}, prefix)
    return {k: values[k] for k in raw}, errors


def _form_changes(case, business, body):
    """The case and unit fields of a create or patch body, validated; nothing is written on an error."""
    form, units = body.get("form") or {}, body.get("units") or []
    if not isinstance(form, dict) or not isinstance(units, list):
        raise Problem(422, errors=[{"field": "form", "message": _("form must be an object and units a list")}])
    case_values, errors = _values(business.form.case, case.form_data, form, "form.")
    by_unit = {cu.unit_id: cu for cu in case.units}
    unit_values = []
    for i, entry in enumerate(units):
        if not isinstance(entry, dict) or not isinstance(entry.get("data", {}), dict):
            errors.append({"field": f"units[{i}]", "message": _("Each unit is an object with unit_id and data")})
            continue
        cu = by_unit.get(entry.get("unit_id")) if len(case.units) > 1 or "unit_id" in entry else case.units[0]
        if cu is None:
            errors.append({"field": f"units[{i}].unit_id", "message": _("Choose one of the case's units")})
            continue
        values, bad = _values(business.form.per_unit, cu.data, entry.get("data") or {}, f"units[{i}].data.")
        errors += bad
        unit_values.append((cu, values))
    if errors:
        raise Problem(422, _("Some fields need correcting; nothing was saved"), errors=errors)
    case.form_data = {**(case.form_data or {}), **case_values}
    for cu, values in unit_values:
        cu.data = {**(cu.data or {}), **values}


def _commit(case):
    try:
        case.updated_at = utcnow()   # moves the version on (the ETag) like every save of the desk
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Problem(412, _("The case was changed meanwhile; nothing was saved")) from None


PARTY_FIELDS = ("role", "kind", "name", "id_type", "id_number", "phone", "share", "case_unit_id")


def _add_party(case, business, entry, prefix="") -> CaseParty:
    if not isinstance(entry, dict):
        raise Problem(422, errors=[{"field": prefix.rstrip(".") or "party", "message": _("A party is an object")}])
    typed = {k: ("" if entry.get(k) is None else str(entry.get(k))).strip() for k in PARTY_FIELDS}
    spec = business.form.parties.get(typed["role"])
    errors = desk_form._party_errors(spec, typed)
    if spec is not None and spec.max is not None and len([p for p in case.parties if p.role == typed["role"]]) >= spec.max:
        errors["role"] = _("At most %(n)d party(ies) in this role", n=spec.max)
    number = desk_form._normalised(typed["id_type"] or "1", typed["id_number"])
    if not errors and any(p.role == typed["role"] and p.id_number == number for p in case.parties):
        errors["id_number"] = _("This person is already a party in this role")
    unit_id = None
    if typed["case_unit_id"]:
        unit_id = desk_form._party_unit(case, business, spec, typed, errors)
    if errors:
        raise Problem(422, _("The party needs correcting; nothing was saved"), errors=field_errors(errors, prefix))
    party = CaseParty(role=typed["role"], kind=typed["kind"] or "person", name=typed["name"],
                      id_type=typed["id_type"] or "1", id_number=number, phone=typed["phone"] or None,
                      share=typed["share"] or None, case_unit_id=unit_id)
    case.parties.append(party)
    return party


def register(bp):
    @bp.get("/businesses")
    def businesses():
        rows = [b for b in rulebook.all_businesses() if applicants.may_apply(b, g.user)]
        return ok({"data": [serialize.business_summary(b) for b in rows]})

    @bp.get("/businesses/<key>")
    def business(key):
        return ok(serialize.business_detail(_business(key)))

    @bp.post("/lookups")
    @idempotent
    def lookups():
        body = _body()
        business = _business(body.get("business"))
        keys = body.get("keys") or {}
        if not isinstance(keys, dict):
            raise Problem(422, errors=[{"field": "keys", "message": _("keys must be an object")}])
        try:
            found = lookup.find_units(business, {k.field: _as_text(keys.get(k.field)) for k in business.lookup},
                                      institution_id=g.user.institution_id)
        except ValidationFailed as exc:
            raise Problem(422, str(exc), errors=[{"field": "keys", "message": str(exc)}]) from None
        except ValueError:
            raise Problem(422, errors=[{"field": "keys", "message": _("Values must be text, numbers or booleans")}]) from None
        return ok({"data": [serialize.candidate(c) for c in found]})

    @bp.get("/cases")
    def cases():
        try:
            after = int(request.args.get("after", 0))
            size = min(max(int(request.args.get("limit", 20)), 1), 100)
        except ValueError:
            raise Problem(400, _("after and limit are numbers")) from None
        if not 0 <= after <= MAX_ID:
            raise Problem(400, _("after and limit are numbers"))
        rows = db.session.scalars(select(Case).where(Case.id > after).order_by(Case.id).limit(size)).all()
        return ok({"data": [serialize.case(c, with_detail=False) for c in rows],
                   "next_after": rows[-1].id if len(rows) == size else None})

    @bp.post("/cases")
    @idempotent
    def create_case():
        body = _body()
        business = _business(body.get("business"))
        why = applicants.refusal(business, g.user)
        if why is not None:
            raise Problem(403, str(why))
        keys = body.get("lookup") or {}
        unit_ids = body.get("unit_ids")
        if not isinstance(keys, dict) or (unit_ids is not None and not (
                isinstance(unit_ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in unit_ids))):
            raise Problem(422, errors=[{"field": "lookup", "message": _("lookup is an object, unit_ids a list of numbers")}])
        try:
            found = {c.unit.id: c for c in lookup.find_units(
                business, {k.field: _as_text(keys.get(k.field)) for k in business.lookup},
                institution_id=g.user.institution_id)}
        except (ValidationFailed, ValueError) as exc:
            raise Problem(422, str(exc), errors=[{"field": "lookup", "message": str(exc)}]) from None
        usable = [uid for uid, c in found.items() if c.ok]
        if unit_ids is None:
            if len(usable) != 1:
                raise Problem(422, _("The lookup keys do not find exactly one usable unit; name unit_ids"),
                              errors=[{"field": "unit_ids", "message": _("Choose at least one unit")}])
            unit_ids = usable
        refused = [{"field": "unit_ids", "message": (f"{found[u].unit.location}: " + "; ".join(map(str, found[u].reasons)))
                    if u in found else _("Unit %(id)s was not found by this lookup", id=u)}
                   for u in unit_ids if u not in usable]
        if refused or not unit_ids:
            raise Problem(422, _("These units cannot take this business"), errors=refused or [
                {"field": "unit_ids", "message": _("Choose at least one unit")}])
        # Everything the body asks for is checked on a case not yet stored, then stored at once.
        try:
            case = workflow.start_case(business.key, g.user, unit_ids)
        except workflow.WorkflowError as exc:
            db.session.rollback()
            raise Problem(422, "; ".join(exc.problems), errors=[{"field": "unit_ids", "message": p} for p in exc.problems]) from None
        business = rulebook.for_case(case)
        try:
            dc.apply_defaults(case, business)
            _form_changes(case, business, body)
            parties = body.get("parties") or []
            if not isinstance(parties, list):
                raise Problem(422, errors=[{"field": "parties", "message": _("parties must be a list")}])
            for i, entry in enumerate(parties):
                _add_party(case, business, entry, prefix=f"parties[{i}].")
        except Problem:
            db.session.rollback()
            _discard(case.id)
            raise
        _commit(case)
        return _case_response(case, 201)

    @bp.get("/cases/<int:case_id>")
    def get_case(case_id):
        case = _case(case_id)
        if request.headers.get("If-None-Match") == serialize.etag(case):
            return Response(status=304, headers={"ETag": serialize.etag(case)})
        return ok(serialize.case(case), headers={"ETag": serialize.etag(case)})

    @bp.patch("/cases/<int:case_id>")
    def patch_case(case_id):
        case = _case(case_id)
        business = rulebook.for_case(case)
        _if_match(case, required=True)
        body = _body()
        _editable(case, business)
        _form_changes(case, business, body)
        _commit(case)
        return _case_response(case)

    @bp.post("/cases/<int:case_id>/parties")
    @idempotent
    def add_party(case_id):
        case = _case(case_id)
        business = rulebook.for_case(case)
        _if_match(case)
        body = _body()
        _editable(case, business)
        _add_party(case, business, body)
        _commit(case)
        return _case_response(case, 201)

    @bp.post("/cases/<int:case_id>/materials")
    @idempotent
    def upload(case_id):
        case = _case(case_id)
        business = rulebook.for_case(case)
        _if_match(case)
        if request.mimetype != "multipart/form-data":
            raise Problem(415, _("Upload the files as multipart/form-data (field file, optional field material)"))
        _editable(case, business)
        files = [f for f in request.files.getlist("file") if f and f.filename]
        if not files:
            raise Problem(422, errors=[{"field": "file", "message": _("Choose a material and at least one file")}])
        by_key = {m.key: m for m in business.materials}
        chosen = request.form.get("material")
        if chosen and chosen not in by_key:
            raise Problem(422, errors=[{"field": "material", "message": _("Unknown material")}])
        try:
            for f in files:
                spec = by_key.get(chosen) if chosen else dc.match_material(business, f.filename)
                if spec is None:
                    raise materials.MaterialError(_("Not filed, the name does not tell which material it is: %(files)s. "
                                                    "Choose it in the material's row.", files=f.filename))
                materials.add(case, spec, f.filename, f.read(), g.user.id, editable=True)
        except materials.MaterialError as exc:
            db.session.rollback()
            raise Problem(422, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        _commit(case)
        return _case_response(case, 201)

    @bp.post("/cases/<int:case_id>/submit")
    @idempotent
    def submit(case_id):
        return _fire(case_id, "submit")

    @bp.post("/cases/<int:case_id>/cancel")
    @idempotent
    def cancel(case_id):
        return _fire(case_id, "cancel")

    @bp.post("/cases/<int:case_id>/reapply")
    @idempotent
    def reapply(case_id):
        body = request.get_json(silent=True) if request.content_length else {}
        target = body.get("target") if isinstance(body, dict) else None
        return _fire(case_id, "reapply", target=str(target) if target else None)

    @bp.get("/cases/<int:case_id>/certificates")
    def case_certificates(case_id):
        _case(case_id)
        return ok({"data": [serialize.certificate(c) for c in certificates.of_case(case_id)]})

    @bp.get("/certificates/<int:cert_id>")
    def certificate(cert_id):
        return ok(serialize.certificate(_certificate(cert_id)))

    @bp.get("/certificates/<int:cert_id>/pdf")
    def certificate_pdf(cert_id):
        cert = _certificate(cert_id)
        return Response(certificates.certificate_pdf(cert), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{cert.id}.pdf"'})

    @bp.get("/cases/<int:case_id>/payments")
    def payments(case_id):
        case = _case(case_id)
        return ok({"fees": serialize.fees(case), "orders": [serialize.payment_order(p) for p in case.payments]})

    @bp.post("/cases/<int:case_id>/payments")
    @idempotent
    def pay(case_id):
        case = _case(case_id)
        if not dc.is_payable(case, rulebook.for_case(case)):
            raise Problem(409, _("Fees can be paid once the case is submitted and before it is recorded"))
        try:
            order = payment.create_order(case)
            url = payment.adapter().checkout_url(order)
            db.session.commit()
        except payment.PaymentError as exc:
            db.session.rollback()
            raise Problem(409, str(exc)) from None
        return ok({**serialize.payment_order(order), "checkout_url": url}, 201)

    @bp.get("/events")
    def events():
        try:
            after = int(request.args.get("after", 0))
            size = min(max(int(request.args.get("limit", 50)), 1), 200)
        except ValueError:
            raise Problem(400, _("after and limit are numbers")) from None
        if not 0 <= after <= MAX_ID:
            raise Problem(400, _("after and limit are numbers"))
        rows = db.session.scalars(select(ApiEvent).where(ApiEvent.id > after).order_by(ApiEvent.id).limit(size)).all()
        return ok({"data": [serialize.event(e) for e in rows], "next_after": rows[-1].id if rows else after})


def _discard(case_id):
    """A case whose body was refused is not kept (start_case committed the bare draft)."""
    case = db.session.get(Case, case_id)
    if case is not None:
        db.session.delete(case)
        db.session.commit()


def _certificate(cert_id) -> Certificate:
    cert = db.session.scalar(select(Certificate).where(Certificate.id == cert_id))
    if cert is None or cert.case_id is None:
        raise Problem(404, _("No such certificate"))
    return cert


def _fire(case_id, event, target=None):
    """提交 and the other events of the applicant, as the desk's 提交 does them (views/desk_case.fire)."""
    case = _case(case_id)
    business = rulebook.for_case(case)
    _if_match(case)
    t = business.workflow.transition(event, case.node)
    if t is None:
        raise Problem(409, _("'%(event)s' is not possible while the case is at '%(node)s'", event=event,
                             node=dc.state_label(business, case.node)))
    if "materials_complete" in t.guards or "materials_complete" in t.target_guards.get(target or t.to[0], []):
        try:
            desk_form.attach_generated(case, business)   # the 申请书 is made from the case as it is now
            _commit(case)
        except (materials.MaterialError, pdf.PdfError) as exc:
            db.session.rollback()
            raise Problem(422, str(exc)) from None
    before = case.node
    try:
        blocking = [p for p in workflow.check(case, event, target) if p.severity == "critical"]
        workflow.fire(case, event, g.user, target=target, expected_version=case.version)
    except workflow.WorkflowError as exc:
        db.session.rollback()
        errors = [{"field": p.field or "", "message": str(p.message)} for p in blocking] or \
                 [{"field": "", "message": p} for p in exc.problems]
        raise Problem(422, "; ".join(exc.problems), errors=errors) from None
    if case.node != before and business.workflow.waiting_in(case.node) is not None:
        # The parties confirm on their own phones: the codes go out now, as at the desk's 提交.
        waiting = desk_form.unconfirmed(case, business)
        if len(waiting) > current_app.config["JOB_SMS_MESSAGES"]:
            from app import jobs
            jobs.submit("send_confirmations", {"case_id": case.id}, g.user, total=len(waiting))
        else:
            desk_form.send_all_confirmations(case, business)
            db.session.commit()
    return _case_response(case)
