"""The open API /api/v1 (issue 15): the document, client credentials and HMAC, scope, idempotency,
ETag/If-Match, the case's life through the desk's engine, problem details in zh and en, revocation."""
import hashlib
import hmac
import time
import uuid

import pytest
from sqlalchemy import func, select

from examples.bank_client import tiny_pdf
from models import AuditLog, Case
from tests import factories
from tests.api_helpers import bearer, free_owned_unit, new_client, posting, token


@pytest.fixture
def bank_a(app, client):
    cid, secret = new_client(app, "bank_a")
    return {"id": cid, "secret": secret, "token": token(client, cid, secret)}


@pytest.fixture
def bank_b(app, client):
    cid, secret = new_client(app, "bank_b")
    return {"id": cid, "secret": secret, "token": token(client, cid, secret)}


def _body(app, contract="DY-API-1"):
    _unit, keys = free_owned_unit(app)
    return {"business": "mortgage_first", "lookup": keys,
            "form": {"apply_reason": "housing_loan", "loan_type": "commercial", "contract_number": contract},
            "units": [{"data": {"mortgage_kind": "1", "secured_amount": "500000.00", "collateral_value": "900000.00",
                                "term_start": "2026-12-01", "term_end": "2046-12-01"}}]}


def _create(client, app, tok, **more):
    r = client.post("/api/v1/cases", json=_body(app), headers=posting(tok, **more))
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    from openapi_spec_validator import validate
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)   # raises on any violation of the OpenAPI 3.1 schema
    assert {"/cases", "/cases/{case_id}/submit", "/events", "/oauth/token"} <= set(spec["paths"])


def test_docs_are_served_locally_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/static/api/docs.js" in page and "/api/v1/openapi.json" in page
    assert 'src="http' not in page and 'href="http' not in page   # every asset from the app itself
    assert "<script>" not in page   # no inline script (CSP)
    assert client.get("/static/api/docs.js").status_code == 200


def test_without_credentials_401_as_problem_in_chinese_or_english(client):
    r = client.get("/api/v1/cases")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert "令牌" in r.get_json()["detail"] or "签名" in r.get_json()["detail"]
    r = client.get("/api/v1/cases", headers={"Accept-Language": "en"})
    assert r.get_json()["detail"].startswith("Send a bearer token")
    assert "Set-Cookie" not in r.headers


def test_a_wrong_secret_gets_no_token(app, client):
    cid, _secret = new_client(app, "bank_a")
    r = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                 "client_secret": "rs_wrong"})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_client"


def test_a_revoked_client_gets_401(app, client, bank_a):
    assert client.get("/api/v1/businesses", headers=bearer(bank_a["token"])).status_code == 200
    from app.api import clients
    from app.extensions import db
    from models.api import ApiClient
    with app.app_context():
        clients.revoke(db.session.scalar(select(ApiClient).where(ApiClient.client_id == bank_a["id"])))
    r = client.get("/api/v1/businesses", headers=bearer(bank_a["token"]))
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    r = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": bank_a["id"],
                                                "client_secret": bank_a["secret"]})
    assert r.status_code == 401


def test_rotation_keeps_the_old_secret_during_the_overlap(app, client, bank_a):
    from app.api import clients
    from app.extensions import db
    from models.api import ApiClient
    with app.app_context():
        row = db.session.scalar(select(ApiClient).where(ApiClient.client_id == bank_a["id"]))
        new = clients.rotate(row)
        assert bank_a["secret"] not in (row.secret_hash, row.signing_key_sealed, new)
    assert token(client, bank_a["id"], bank_a["secret"])   # the old one, within the overlap
    assert token(client, bank_a["id"], new)
    with app.app_context():
        row = db.session.scalar(select(ApiClient).where(ApiClient.client_id == bank_a["id"]))
        row.previous_expires_at = row.rotated_at   # the overlap is over
        db.session.commit()
    r = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": bank_a["id"],
                                                "client_secret": bank_a["secret"]})
    assert r.status_code == 401


def _hmac_headers(client_id, secret, method, path, body=b"", nonce=None, stamp=None):
    from app.api.auth import sign, signing_key
    stamp = stamp or int(time.time())
    nonce = nonce or uuid.uuid4().hex
    sig = sign(signing_key(secret), method, path, stamp, nonce, body)
    return {"Authorization": f"HMAC client_id={client_id}, timestamp={stamp}, nonce={nonce}, signature={sig}"}


def test_hmac_signed_requests_and_a_replayed_nonce(app, client):
    cid, secret = new_client(app, "bank_a")
    headers = _hmac_headers(cid, secret, "GET", "/api/v1/cases?limit=5")
    assert client.get("/api/v1/cases?limit=5", headers=headers).status_code == 200
    replay = client.get("/api/v1/cases?limit=5", headers=headers)
    assert replay.status_code == 401 and replay.get_json()["detail"] == "该签名已使用过（随机数 nonce 重复）"
    tampered = _hmac_headers(cid, secret, "GET", "/api/v1/cases?limit=5")
    assert client.get("/api/v1/cases?limit=6", headers=tampered).status_code == 401
    stale = _hmac_headers(cid, secret, "GET", "/api/v1/cases", stamp=int(time.time()) - 3600)
    assert client.get("/api/v1/cases", headers=stale).status_code == 401


def test_bank_a_client_cannot_see_bank_b_case(app, client, bank_a, bank_b):
    case = _create(client, app, bank_b["token"])
    assert client.get(f"/api/v1/cases/{case['id']}", headers=bearer(bank_b["token"])).status_code == 200
    r = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(bank_a["token"]))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    listed = client.get("/api/v1/cases?limit=100", headers=bearer(bank_a["token"])).get_json()["data"]
    assert case["id"] not in [c["id"] for c in listed]
    r = client.post(f"/api/v1/cases/{case['id']}/cancel", headers=posting(bank_a["token"]))
    assert r.status_code == 404
    events = client.get("/api/v1/events", headers=bearer(bank_a["token"])).get_json()["data"]
    assert all(e["case_id"] != case["id"] for e in events)
    assert client.get(f"/api/v1/cases/{case['id']}/payments", headers=bearer(bank_a["token"])).status_code == 404


def test_an_idempotent_repeat_returns_the_first_case_and_a_changed_body_is_422(app, client, bank_a, db):
    body = _body(app)
    key = f"loan-{uuid.uuid4()}"
    first = client.post("/api/v1/cases", json=body, headers=posting(bank_a["token"], key))
    again = client.post("/api/v1/cases", json=body, headers=posting(bank_a["token"], key))
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Case).where(
        Case.form_data.is_not(None), Case.id >= first.get_json()["id"])) == 1
    other = client.post("/api/v1/cases", json={**body, "form": {**body["form"], "contract_number": "DY-OTHER"}},
                        headers=posting(bank_a["token"], key))
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    missing = client.post("/api/v1/cases", json=body, headers=bearer(bank_a["token"]))
    assert missing.status_code == 400


def test_the_case_through_the_desks_engine(app, client, bank_a, db):
    tok = bank_a["token"]
    case = _create(client, app, tok)
    assert case["state"] == "draft" and case["state_label"] == "申请" and case["business_label"] == "房屋抵押权首次登记"
    assert {p["role"] for p in case["parties"]} >= {"mortgagee", "mortgagor", "debtor"}   # the rules' defaults
    assert case["form_labels"]["loan_type"] and case["parties"][0]["id_type_label"]
    assert {m["field"] for m in case["missing"]} >= {"material:identity", "material:contracts"}
    cid, etag = case["id"], f"\"{case['id']}-{case['version']}\""
    # PATCH needs If-Match, and the current one
    assert client.patch(f"/api/v1/cases/{cid}", json={"form": {"contract_number": "X"}},
                        headers=bearer(tok)).status_code == 428
    stale = client.patch(f"/api/v1/cases/{cid}", json={"form": {"contract_number": "X"}},
                         headers=bearer(tok, **{"If-Match": f"\"{cid}-0\""}))
    assert stale.status_code == 412
    bad = client.patch(f"/api/v1/cases/{cid}", json={"form": {"loan_type": "nonsense", "contact_phone": "12"}},
                       headers=bearer(tok, **{"If-Match": etag}))
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"form.loan_type", "form.contact_phone"}
    good = client.patch(f"/api/v1/cases/{cid}", json={"form": {"contract_number": "DY-API-2"}},
                        headers=bearer(tok, **{"If-Match": etag}))
    assert good.status_code == 200 and good.get_json()["form"]["contract_number"] == "DY-API-2"
    assert good.headers["ETag"] != etag
    # uploads: the same content checks as the desk
    exe = client.post(f"/api/v1/cases/{cid}/materials", data={"material": "identity", "file": (__import__("io").BytesIO(b"MZ\x90\x00"), "身份证.pdf")},
                      headers=posting(tok), content_type="multipart/form-data")
    assert exe.status_code == 422 and exe.get_json()["errors"][0]["field"] == "file"
    en = client.post(f"/api/v1/cases/{cid}/materials", data={"material": "identity", "file": (__import__("io").BytesIO(b"MZ\x90\x00"), "id.pdf")},
                     headers=posting(tok, **{"Accept-Language": "en"}), content_type="multipart/form-data")
    assert "program" in en.get_json()["detail"]
    for key in ("identity", "contracts", "title_source"):
        r = client.post(f"/api/v1/cases/{cid}/materials",
                        data={"material": key, "file": (__import__("io").BytesIO(tiny_pdf(key)), f"{key}.pdf")},
                        headers=posting(tok), content_type="multipart/form-data")
        assert r.status_code == 201, r.get_data(as_text=True)
    # a party of a role the rules do not have
    r = client.post(f"/api/v1/cases/{cid}/parties", json={"role": "nobody", "name": "王五", "id_number": "1"},
                    headers=posting(tok))
    assert r.status_code == 422 and "role" in {e["field"] for e in r.get_json()["errors"]}
    submitted = client.post(f"/api/v1/cases/{cid}/submit", headers=posting(tok))
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    body = submitted.get_json()
    assert body["state"] == "confirming" and body["state_label"] == "待确认"
    assert any(m["filename"].endswith(".pdf") and m["material"] == "application_form" for m in body["materials"])
    assert [h["action"] for h in body["history"]] == ["start", "submit"]
    again = client.post(f"/api/v1/cases/{cid}/submit", headers=posting(tok))
    assert again.status_code == 409
    events = client.get("/api/v1/events", headers=bearer(tok)).get_json()["data"]
    assert any(e["type"] == "case.state_changed" and e["case_id"] == cid and e["data"]["to"] == "confirming" for e in events)
    # audited with the client id
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.username == f"api-{bank_a['id']}", AuditLog.action == "case_submit")) == 1


def test_refused_create_keeps_nothing_and_names_the_fields(app, client, bank_a, db):
    before = db.session.scalar(select(func.count()).select_from(Case))
    body = _body(app)
    body["units"][0]["data"]["term_end"] = "2000-01-01"
    r = client.post("/api/v1/cases", json=body, headers=posting(bank_a["token"]))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "units[0].data.term_end"
    assert db.session.scalar(select(func.count()).select_from(Case)) == before
    r = client.post("/api/v1/cases", json={**body, "lookup": {"certificate_number": "x", "holder_id_number": "y"}},
                    headers=posting(bank_a["token"]))
    assert r.status_code == 422


def test_the_signing_key_is_derived_from_the_secret(app):
    from app.api.auth import signing_key
    assert signing_key("rs_x") == hmac.new(b"rs_x", b"registry-api-signing-v1", hashlib.sha256).hexdigest()


def test_each_client_has_its_own_request_budget(app, client):
    a_id, a_secret = new_client(app, "bank_a")
    b_id, b_secret = new_client(app, "bank_b")
    a, b = token(client, a_id, a_secret), token(client, b_id, b_secret)
    before = app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["API_RATE_LIMIT"]
    app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["API_RATE_LIMIT"] = True, "3 per minute"
    try:
        answers = [client.get("/api/v1/businesses", headers=bearer(a)).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = client.get("/api/v1/businesses", headers=bearer(a))
        assert refused.mimetype == "application/problem+json" and int(refused.headers["Retry-After"]) >= 1
        assert client.get("/api/v1/businesses", headers=bearer(b)).status_code == 200   # another client's budget
    finally:
        app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["API_RATE_LIMIT"] = before


def test_sunset_header_once_a_retirement_is_announced(app, client):
    app.config["API_V1_SUNSET"] = "Wed, 01 Dec 2027 00:00:00 GMT"
    try:
        r = client.get("/api/v1/openapi.json")
        assert r.headers["Sunset"] == "Wed, 01 Dec 2027 00:00:00 GMT" and r.headers["Deprecation"] == "true"
    finally:
        app.config["API_V1_SUNSET"] = ""
    assert "Sunset" not in client.get("/api/v1/openapi.json").headers


def test_unknown_paths_and_methods_under_the_api_are_problems(client):
    r = client.get("/api/v1/nothing/here", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and r.mimetype == "application/problem+json" and r.get_json()["title"] == "Not found"
    r = client.get("/api/v1/cases/99999999999999999999999")
    assert r.status_code == 404 and r.get_json()["title"] == "未找到" and "Set-Cookie" not in r.headers
    r = client.delete("/api/v1/cases")
    assert r.status_code == 405 and r.mimetype == "application/problem+json" and "GET" in r.headers["Allow"]
    assert client.get("/no-such-page").mimetype == "text/html"   # the rest of the site keeps its pages


def test_the_audit_log_keeps_no_secret_hash_or_key(app, db):
    from models.api import ApiClient
    cid, _secret = new_client(app, "bank_a", name="审计检查")
    row = db.session.scalar(select(ApiClient).where(ApiClient.client_id == cid))
    entry = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "ApiClient", AuditLog.action == "insert",
                                                     AuditLog.object_id == str(row.id)))
    assert entry.after["client_id"] == cid and entry.after["secret_hash"] == "***"
    assert entry.after["signing_key_sealed"] == "***"


def test_the_demo_commands_create_a_client_and_an_endpoint(app, client):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["api-client", "create", "bank_a", "--name", "演示系统"])
    assert made.exit_code == 0, made.output
    values = dict(line.split("=", 1) for line in made.output.split())
    assert token(client, values["client_id"], values["client_secret"])
    hook = runner.invoke(args=["api-webhook", "create", "bank_a", "http://127.0.0.1:9/webhooks"])
    assert hook.exit_code == 0 and "webhook_secret=whsec_" in hook.output
    assert runner.invoke(args=["webhooks-retry"]).output.strip() == "0 delivery(ies) queued"


def test_a_webhook_to_the_registry_own_network_is_refused(app, db):
    from app.api import clients
    bank, admin = factories.institution(db, "bank_a"), factories.user(db, "bank_a_admin")
    before = {k: app.config[k] for k in ("TESTING", "WEBHOOK_ALLOW_PRIVATE")}
    app.config.update(TESTING=False, WEBHOOK_ALLOW_PRIVATE=False)
    try:
        for url in ("http://127.0.0.1:5432/", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data"):
            with pytest.raises(clients.ClientError):
                clients.create_endpoint(bank.id, url, ["fee.due"], admin.id)
    finally:
        app.config.update(before)


def test_guessing_secrets_at_the_token_endpoint_is_limited_per_address(app, client):
    before = app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["REGISTRY_RATELIMIT_LOGIN"]
    app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["REGISTRY_RATELIMIT_LOGIN"] = True, "2 per minute"
    try:
        guesses = [client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": "rc_x",
                                                           "client_secret": f"guess{i}"},
                               environ_base={"REMOTE_ADDR": "198.51.100.7"}) for i in range(3)]
        assert [g.status_code for g in guesses] == [401, 401, 429]
        assert guesses[2].mimetype == "application/problem+json" and int(guesses[2].headers["Retry-After"]) >= 1
    finally:
        app.config["REGISTRY_RATELIMIT_ENABLED"], app.config["REGISTRY_RATELIMIT_LOGIN"] = before


def test_a_multipart_part_without_a_name_is_no_server_error(app, client, bank_a):
    case = _create(client, app, bank_a["token"])
    body = (b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"material\"\r\n\r\nidentity\r\n--XyZ--\r\n")
    r = client.post(f"/api/v1/cases/{case['id']}/materials", data=body, headers=posting(bank_a["token"]),
                    content_type="multipart/form-data; boundary=XyZ")
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "file"
