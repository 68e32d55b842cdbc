"""The OpenAPI 3.1 document of /api/v1, built here from the same tables the routes use (the events,
the business keys of the rules), served at /api/v1/openapi.json and rendered at /api/docs."""
from app import rulebook

from . import idempotency
from .webhooks import EVENTS

ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
TEXT = {"type": "string"}
NTEXT = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
MONEY = {"type": ["string", "null"], "pattern": r"^-?\d+\.\d{2}$"}
LABELLED = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": TEXT, "title": TEXT, "status": {"type": "integer"}, "detail": TEXT, "instance": TEXT,
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                                              "properties": {"field": TEXT, "message": TEXT}}},
        "error": TEXT, "error_description": TEXT}},
    "Token": {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
        "access_token": TEXT, "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"}}},
    "BusinessSummary": {"type": "object", "required": ["key", "name", "category", "category_label"], "properties": {
        "key": TEXT, "name": TEXT, "category": TEXT, "category_label": TEXT, "batch": {"type": "boolean"}}},
    "Field": {"type": "object", "required": ["field", "label", "type"], "properties": {
        "field": TEXT, "label": TEXT, "type": TEXT, "required": {"type": "boolean"}, "vocabulary": NTEXT,
        "default": {"type": ["string", "boolean", "null"]},
        "choices": {"type": "array", "items": {"type": "object", "properties": {"code": TEXT, "label": TEXT}}}}},
    "Business": {"allOf": [ref("BusinessSummary"), {"type": "object", "required": ["lookup", "fields", "parties", "materials"],
                                                    "properties": {
        "lookup": {"type": "array", "items": {"type": "object", "properties": {"field": TEXT, "label": TEXT}}},
        "fields": {"type": "object", "properties": {"case": {"type": "array", "items": ref("Field")},
                                                    "per_unit": {"type": "array", "items": ref("Field")}}},
        "parties": {"type": "array", "items": {"type": "object", "properties": {
            "role": TEXT, "label": TEXT, "min": {"type": "integer"}, "max": {"type": ["integer", "null"]},
            "confirm": {"type": "boolean"}, "id_types": {"type": "array", "items": TEXT}}}},
        "materials": {"type": "array", "items": {"type": "object", "properties": {
            "key": TEXT, "name": TEXT, "required": {"type": "boolean"}, "accept": {"type": "array", "items": TEXT},
            "max_files": {"type": "integer"}, "generated": {"type": "boolean"}}}},
        "states": {"type": "array", "items": {"type": "object", "properties": {
            "state": TEXT, "label": TEXT, "final": {"type": "boolean"}}}}}}]},
    "Unit": {"type": "object", "required": ["id", "unit_code", "location", "use", "use_label"], "properties": {
        "id": {"type": "integer"}, "unit_code": TEXT, "location": TEXT, "area": MONEY, "use": TEXT, "use_label": TEXT,
        "mortgaged": {"type": "boolean"}, "sealed": {"type": "boolean"}}},
    "Candidate": {"type": "object", "required": ["unit", "ok", "reasons"], "properties": {
        "unit": ref("Unit"), "ok": {"type": "boolean"}, "reasons": {"type": "array", "items": TEXT},
        "warnings": {"type": "array", "items": TEXT}}},
    "Party": {"type": "object", "required": ["id", "role", "role_label", "name", "id_type", "id_type_label", "id_number"],
              "properties": {"id": {"type": "integer"}, "role": TEXT, "role_label": TEXT, "kind": TEXT, "kind_label": TEXT,
                             "name": TEXT, "id_type": TEXT, "id_type_label": TEXT, "id_number": TEXT, "phone": NTEXT,
                             "share": NTEXT, "confirmed": {"type": "boolean"}}},
    "PartyInput": {"type": "object", "required": ["role", "name", "id_number"], "properties": {
        "role": {"type": "string", "examples": ["debtor"]}, "kind": {"enum": ["person", "organisation"]},
        "name": TEXT, "id_type": {"type": "string", "description": "code list id_types (1 = 居民身份证)"},
        "id_number": TEXT, "phone": TEXT, "share": {"type": "string", "description": "0 < share <= 1"},
        "case_unit_id": {"type": "integer"}}},
    "CaseSummary": {"type": "object", "required": ["id", "number", "business", "business_label", "state", "state_label",
                                                   "version"], "properties": {
        "id": {"type": "integer"}, "number": TEXT, "official_number": NTEXT, "business": TEXT, "business_label": TEXT,
        "state": TEXT, "state_label": TEXT, "editable": {"type": "boolean"}, "final": {"type": "boolean"},
        "version": {"type": "integer"}, "created_at": TIME, "submitted_at": TIME, "finished_at": TIME,
        "deadline": {"type": ["string", "null"], "format": "date"}}},
    "Fees": {"type": "object", "required": ["lines", "total", "paid", "due"], "properties": {
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "item": TEXT, "name": TEXT, "amount": MONEY, "exempt": {"type": "boolean"}}}},
        "total": MONEY, "paid": MONEY, "due": MONEY}},
    "Case": {"allOf": [ref("CaseSummary"), {"type": "object", "required": ["form", "units", "parties", "materials",
                                                                           "history", "fees", "actions", "missing"],
                                            "properties": {
        "form": {"type": "object"}, "form_labels": LABELLED,
        "units": {"type": "array", "items": {"allOf": [ref("Unit"), {"type": "object", "properties": {
            "data": {"type": "object"}, "data_labels": LABELLED}}]}},
        "parties": {"type": "array", "items": ref("Party")},
        "materials": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "material": TEXT, "material_label": TEXT, "filename": TEXT, "content_type": TEXT,
            "size": {"type": "integer"}, "sha256": TEXT, "pages": {"type": "integer"}, "uploaded_at": TIME}}},
        "history": {"type": "array", "items": {"type": "object", "properties": {
            "at": TIME, "action": TEXT, "action_label": TEXT, "from": NTEXT, "from_label": NTEXT, "to": TEXT,
            "to_label": TEXT, "actor": TEXT, "opinion": NTEXT, "reject_type": NTEXT, "reject_type_label": NTEXT}}},
        "fees": ref("Fees"),
        "actions": {"type": "array", "items": {"type": "object", "properties": {"event": TEXT, "label": TEXT}}},
        "missing": {"type": "array", "items": {"type": "object", "properties": {"field": TEXT, "message": TEXT}}}}}]},
    "CaseInput": {"type": "object", "required": ["business", "lookup"], "properties": {
        "business": {"type": "string", "description": "a business key (GET /businesses)"},
        "lookup": {"type": "object", "description": "the business's lookup keys (GET /businesses/{key} → lookup)",
                   "additionalProperties": TEXT},
        "unit_ids": {"type": "array", "items": ID, "description": "optional when the keys find exactly one usable unit"},
        "form": {"type": "object", "description": "case fields by their codes"},
        "units": {"type": "array", "items": ref("UnitInput")},
        "parties": {"type": "array", "items": ref("PartyInput")}}},
    "UnitInput": {"type": "object", "properties": {"unit_id": {"type": "integer"}, "data": {"type": "object"}}},
    "CasePatch": {"type": "object", "properties": {"form": {"type": "object"},
                                                    "units": {"type": "array", "items": ref("UnitInput")}}},
    "Certificate": {"type": "object", "required": ["id", "number", "kind", "kind_label", "verification_code"], "properties": {
        "id": {"type": "integer"}, "number": TEXT, "kind": {"enum": ["certificate", "proof"]}, "kind_label": TEXT,
        "verification_code": TEXT, "status": TEXT, "status_label": TEXT, "case_id": {"type": ["integer", "null"]},
        "unit_code": NTEXT, "holders": TEXT, "issued_at": TIME, "verify_url": TEXT}},
    "PaymentOrder": {"type": "object", "required": ["order_number", "amount", "status", "status_label"], "properties": {
        "order_number": TEXT, "amount": MONEY, "status": TEXT, "status_label": TEXT, "created_at": TIME, "paid_at": TIME,
        "checkout_url": TEXT}},
    "Event": {"type": "object", "required": ["id", "type", "created_at", "data"], "properties": {
        "id": {"type": "integer"}, "type": {"enum": list(EVENTS)}, "case_id": {"type": ["integer", "null"]},
        "created_at": TIME, "data": {"type": "object"}}},
}


def _list(item, cursor=False):
    props = {"data": {"type": "array", "items": item}}
    if cursor:
        props["next_after"] = {"type": ["integer", "null"]}
    return {"type": "object", "required": ["data"], "properties": props}


def _json(schema, description="OK", headers=None):
    out = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


ETAG = {"ETag": {"description": "the case's version, for If-Match", "schema": TEXT}}
PROBLEM = {"description": "RFC 9457 problem details, in the language of Accept-Language",
           "content": {"application/problem+json": {"schema": ref("Problem")}}}
CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": ID}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": TEXT,
            "description": "the ETag of GET /cases/{case_id}: 412 when the case has changed since"}
LANG = {"name": "Accept-Language", "in": "header", "required": False, "schema": {"enum": ["zh", "en"]}}
AFTER = {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}}
LIMIT = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}}


def _op(op_id, summary, tag, responses, params=(), body=None, post=False, secured=True, description=None):
    op = {"operationId": op_id, "summary": summary, "tags": [tag], "parameters": [LANG, *params],
          "responses": {**responses, "default": PROBLEM}}
    if description:
        op["description"] = description
    if post and secured:
        op["parameters"].append({"name": idempotency.HEADER, "in": "header", "required": True,
                                 "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                                 "description": "a repeat with the same key and request answers the first result; "
                                                "with another request, 422"})
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if not secured:
        op["security"] = []
    return op


def _paths():
    case_json = _json(ref("Case"), headers=ETAG)
    js = lambda name: {"application/json": {"schema": ref(name)}}  # noqa: E731
    action = lambda op_id, summary, extra=None: {"post": _op(  # noqa: E731
        op_id, summary, "cases", {"200": case_json}, params=[CASE_ID, IF_MATCH], post=True,
        body=extra)}
    return {
        "/oauth/token": {"post": _op("token", "Client credentials → bearer token", "auth", {"200": _json(ref("Token"))},
                                     body={"application/x-www-form-urlencoded": {"schema": {
                                         "type": "object", "required": ["grant_type"], "properties": {
                                             "grant_type": {"const": "client_credentials"},
                                             "client_id": TEXT, "client_secret": TEXT}}}},
                                     post=True, secured=False)},
        "/businesses": {"get": _op("listBusinesses", "Businesses this client may apply for", "businesses",
                                   {"200": _json(_list(ref("BusinessSummary")))})},
        "/businesses/{key}": {"get": _op("getBusiness", "A business's fields, parties, materials and lookup keys",
                                         "businesses", {"200": _json(ref("Business"))},
                                         params=[{"name": "key", "in": "path", "required": True,
                                                  "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,59}$"}}])},
        "/lookups": {"post": _op("lookup", "Find units by a business's lookup keys", "lookups",
                                 {"200": _json(_list(ref("Candidate")))}, post=True,
                                 body={"application/json": {"schema": {"type": "object", "required": ["business", "keys"],
                                                                       "properties": {"business": TEXT, "keys": {
                                                                           "type": "object", "additionalProperties": TEXT}}}}})},
        "/cases": {"get": _op("listCases", "The institution's cases, by id", "cases",
                              {"200": _json(_list(ref("CaseSummary"), cursor=True))}, params=[AFTER, LIMIT]),
                   "post": _op("createCase", "Start a case with units, form data and parties", "cases",
                               {"201": _json(ref("Case"), "Created", ETAG)}, post=True, body=js("CaseInput"))},
        "/cases/{case_id}": {
            "get": _op("getCase", "A case with its state, history, fees, missing items and possible actions", "cases",
                       {"200": case_json, "304": {"description": "not modified (If-None-Match)"}},
                       params=[CASE_ID, {"name": "If-None-Match", "in": "header", "required": False, "schema": TEXT}]),
            "patch": _op("patchCase", "Change case and unit fields of a draft (If-Match required)", "cases",
                         {"200": case_json}, params=[CASE_ID, {**IF_MATCH, "required": True}], body=js("CasePatch"))},
        "/cases/{case_id}/parties": action("addParty", "Add a party", js("PartyInput")) | {},
        "/cases/{case_id}/materials": {"post": _op(
            "uploadMaterial", "Upload material files (the same content checks as the desk)", "cases",
            {"201": _json(ref("Case"), "Created", ETAG)}, params=[CASE_ID, IF_MATCH], post=True,
            body={"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "material": {"type": "string", "description": "a material key of the business; "
                                                              "without it each file is filed by its name"},
                "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}})},
        "/cases/{case_id}/submit": action("submitCase", "提交: generate the 申请书, check, submit; the parties get their codes"),
        "/cases/{case_id}/cancel": action("cancelCase", "取消办理"),
        "/cases/{case_id}/reapply": action("reapplyCase", "重新申请 a rejected case", {"application/json": {"schema": {
            "type": "object", "properties": {"target": {"type": "string", "examples": ["draft", "pre_review"]}}}}}),
        "/cases/{case_id}/certificates": {"get": _op("caseCertificates", "The certificates and proofs a case obtained",
                                                     "certificates", {"200": _json(_list(ref("Certificate")))},
                                                     params=[CASE_ID])},
        "/certificates/{cert_id}": {"get": _op("getCertificate", "A certificate or proof", "certificates",
                                               {"200": _json(ref("Certificate"))},
                                               params=[{"name": "cert_id", "in": "path", "required": True, "schema": ID}])},
        "/certificates/{cert_id}/pdf": {"get": _op("certificatePdf", "The PDF of a certificate or proof", "certificates",
                                                   {"200": {"description": "PDF", "content": {"application/pdf": {
                                                       "schema": {"type": "string", "contentMediaType": "application/pdf"}}}}},
                                                   params=[{"name": "cert_id", "in": "path", "required": True, "schema": ID}])},
        "/cases/{case_id}/payments": {
            "get": _op("casePayments", "Fees due and the payment orders", "payments", {"200": _json({
                "type": "object", "required": ["fees", "orders"], "properties": {
                    "fees": ref("Fees"), "orders": {"type": "array", "items": ref("PaymentOrder")}}})}, params=[CASE_ID]),
            "post": _op("createPayment", "A payment order for what is due, with its checkout URL", "payments",
                        {"201": _json(ref("PaymentOrder"), "Created")}, params=[CASE_ID], post=True)},
        "/events": {"get": _op("listEvents", "Events after an id (for systems that cannot receive webhooks)", "events",
                               {"200": _json({**_list(ref("Event")), "properties": {
                                   **_list(ref("Event"))["properties"], "next_after": {"type": "integer"}}})},
                               params=[AFTER, {**LIMIT, "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])},
    }


DESCRIPTION = """不动产登记网上"一窗办事"平台 open API for banks' and developers' own systems.

**Authentication.** An institution administrator creates API clients in the console (接口客户端): a
client id and a secret shown once. Either get a bearer token (`POST /api/v1/oauth/token`,
`grant_type=client_credentials`, valid `expires_in` seconds) and send `Authorization: Bearer <token>`,
or sign every request: `Authorization: HMAC client_id=<id>, timestamp=<unix>, nonce=<16-64 [A-Za-z0-9_-]>,
signature=<hex>` where signature = hex HMAC-SHA256(signing_key, METHOD + "\\n" + PATH[?QUERY] + "\\n" +
TIMESTAMP + "\\n" + NONCE + "\\n" + hex(SHA-256(body))) and signing_key = hex HMAC-SHA256(key=secret,
msg="registry-api-signing-v1"); within 300 s of our clock, each nonce once. A client acts for its
institution only, exactly like its operators on the screens. Limits are per client (429 with Retry-After).

**Idempotency.** Every POST needs `Idempotency-Key`: a repeat with the same key and request returns the
first answer (`Idempotent-Replayed: true`); the same key with another request is 422. Case changes take
`If-Match: <ETag>` (PATCH requires it): 412 when the case changed since.

**Errors** are RFC 9457 problem details (`application/problem+json`) with `errors[{field, message}]`,
in Chinese or English by `Accept-Language`. Codes come with `*_label` words.

**Webhooks.** Register endpoints and events in the console. Each delivery is a POST with
`Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(endpoint secret, t + "." + raw body)>`; refuse a t older
than 300 s and any (t, v1) seen before. Non-2xx answers are retried with exponential backoff. Events:
""" + ", ".join(EVENTS) + """. The same events: `GET /api/v1/events?after=<id>`.

**Versioning.** The version is in the path. A breaking change ships as /api/v2; the old version then
answers with `Sunset: <date>` and `Deprecation: true` for at least 12 months before it is retired.
"""


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "不动产登记 Open API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": t} for t in ("auth", "businesses", "lookups", "cases", "certificates", "payments", "events")],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "from POST /oauth/token"},
                "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/api/v1/oauth/token", "scopes": {}}}},
                "hmac": {"type": "apiKey", "in": "header", "name": "Authorization",
                         "description": "HMAC client_id=..., timestamp=..., nonce=..., signature=..."}},
        },
        "security": [{"bearer": []}, {"oauth": []}, {"hmac": []}],
        "x-business-keys": sorted(b.key for b in rulebook.all_businesses()),
    }
