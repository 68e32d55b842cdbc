"""What the API answers: machine codes plus *_label words (app/dictionary.label for code lists, the
business's rules for its own names), in the language of the request. Times are ISO 8601 UTC."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app import dictionary, rulebook
from app.rulebook import markers, workflow
from app.services import certificates, payment

from views import desk_common as dc


PAYMENT_STATUS = {"pending": _l("Awaiting payment"), "paid": _l("Paid"), "refunded": _l("Refunded"),
                  "cancelled": _l("Cancelled")}


def _time(value):
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def _money(value):
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def field_spec(f):
    out = {"field": f.field, "label": dc.tx(f.label), "type": f.type, "required": bool(f.required),
           "vocabulary": f.vocabulary, "default": dc.default_value(f)}
    if f.type == "choice" and f.vocabulary:
        out["choices"] = [{"code": code, "label": words} for code, words in dictionary.choices(f.vocabulary)]
    if f.required_when:
        out["required_when"] = dict(f.required_when)
    if f.only_when:
        out["only_when"] = dict(f.only_when)
    return out


def business_summary(b):
    return {"key": b.key, "name": dc.tx(b.name), "category": b.category,
            "category_label": dictionary.label("categories", b.category), "batch": bool(b.batch)}


def business_detail(b):
    return {**business_summary(b),
            "lookup": [{"field": k.field, "label": dc.tx(k.label)} for k in b.lookup],
            "fields": {"case": [field_spec(f) for f in b.form.case], "per_unit": [field_spec(f) for f in b.form.per_unit]},
            "parties": [{"role": role, "label": dc.tx(s.label), "min": s.min, "max": s.max, "confirm": s.confirm,
                         "id_types": s.id_types or []} for role, s in b.form.parties.items()],
            "materials": [{"key": m.key, "name": dc.tx(m.name), "required": m.required, "accept": list(m.accept),
                           "max_files": m.max_files, "generated": m.generated} for m in b.materials],
            "states": [{"state": k, "label": dc.tx(s.label), "final": s.final} for k, s in b.workflow.states.items()]}


def _values(fields, data):
    """(values, labels): the stored values of the rules' fields, and words for the coded ones."""
    values, labels = {}, {}
    for f in fields:
        v = (data or {}).get(f.field)
        values[f.field] = v
        if f.type == "choice" and f.vocabulary and v not in (None, ""):
            labels[f.field] = dictionary.label(f.vocabulary, str(v))
    return values, labels


def unit(u):
    return {"id": u.id, "unit_code": u.unit_code, "location": u.location, "area": _money(u.area), "use": u.use,
            "use_label": dictionary.label("unit_use", u.use), "mortgaged": bool(u.mortgaged),
            "sealed": bool(u.sealed)}


def candidate(c):
    return {"unit": unit(c.unit), "ok": bool(c.ok), "reasons": [str(r) for r in c.reasons],
            "warnings": [str(w) for w in c.warnings]}


def party(p, business):
    return {"id": p.id, "role": p.role, "role_label": dc.role_label(business, p.role), "kind": p.kind,
            "kind_label": dictionary.label("party_kind", p.kind), "name": p.name, "id_type": p.id_type,
            "id_type_label": dictionary.label("id_types", p.id_type), "id_number": p.id_number, "phone": p.phone,
            "share": None if p.share is None else str(p.share), "confirmed": p.confirmed_at is not None}


def etag(case) -> str:
    return f'"{case.id}-{case.version}"'


def case(c, with_detail=True):
    business = rulebook.for_case(c)
    out = {"id": c.id, "number": c.number, "official_number": c.official_number, "business": c.business_key,
           "business_label": dc.tx(business.name), "state": c.node, "state_label": dc.state_label(business, c.node),
           "editable": markers.is_editable(business.workflow, c.node),
           "final": bool(business.workflow.states.get(c.node) and business.workflow.states[c.node].final),
           "version": c.version, "created_at": _time(c.created_at), "submitted_at": _time(c.submitted_at),
           "finished_at": _time(c.finished_at), "deadline": c.deadline.isoformat() if c.deadline else None}
    if not with_detail:
        return out
    form, form_labels = _values(business.form.case, c.form_data)
    out["form"], out["form_labels"] = form, form_labels
    out["units"] = []
    for cu in c.units:
        data, labels = _values(business.form.per_unit, cu.data)
        out["units"].append({**unit(cu.unit), "data": data, "data_labels": labels})
    out["parties"] = [party(p, business) for p in c.parties]
    out["materials"] = [{"id": m.id, "material": m.material_key,
                         "material_label": next((dc.tx(s.name) for s in business.materials if s.key == m.material_key),
                                                m.material_key),
                         "filename": m.filename, "content_type": m.content_type, "size": m.size, "sha256": m.sha256,
                         "pages": m.pages, "uploaded_at": _time(m.uploaded_at)} for m in c.materials]
    out["history"] = [{"at": _time(h.at), "action": h.action, "action_label": dc.action_label(business, h.action),
                       "from": h.node_from, "from_label": dc.state_label(business, h.node_from) if h.node_from else None,
                       "to": h.node_to, "to_label": dc.state_label(business, h.node_to), "actor": h.actor_name,
                       "opinion": h.opinion, "reject_type": h.reject_type,
                       "reject_type_label": dictionary.label("reject_types", h.reject_type) if h.reject_type else None}
                      for h in c.history]
    out["fees"] = fees(c)
    from flask import g
    out["actions"] = [{"event": t.event, "label": dc.tx(t.label)} for t in workflow.available_events(c, g.user)]
    out["missing"] = _missing(c) if out["editable"] else []
    return out


def _missing(c):
    """What 提交 would still refuse (the desk's checklist), for an editable case."""
    try:
        return [{"field": p.field or "", "message": str(p.message)} for p in workflow.check(c, "submit")
                if p.severity == "critical"]
    except workflow.WorkflowError:   # an editable state this business does not submit from
        return []


def fees(c):
    lines, total, paid = payment.outstanding(c)
    return {"lines": [{"item": line["item"], "name": line["name"], "amount": _money(line["amount"]),
                       "exempt": bool(line.get("exempt"))} for line in lines],
            "total": _money(total), "paid": _money(paid), "due": _money(max(total - paid, Decimal("0")))}


def payment_order(p):
    return {"order_number": p.order_number, "amount": _money(p.amount), "status": p.status,
            "status_label": str(PAYMENT_STATUS.get(p.status, p.status)),
            "created_at": _time(p.created_at), "paid_at": _time(p.paid_at)}


def certificate(cert):
    return {"id": cert.id, "number": cert.number, "kind": cert.kind,
            "kind_label": str(certificates.KIND.get(cert.kind, cert.kind)),
            "verification_code": certificates.verification_code(cert.token), "status": cert.status,
            "status_label": str(certificates.STATUS.get(cert.status, cert.status)), "case_id": cert.case_id,
            "unit_code": cert.unit.unit_code if cert.unit else None, "holders": cert.holder_names,
            "issued_at": _time(cert.issued_at), "verify_url": certificates.verify_link(cert)}


def event(e):
    return {"id": e.id, "type": e.type, "case_id": e.case_id, "created_at": _time(e.created_at), "data": e.data or {}}
