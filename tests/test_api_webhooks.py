"""Webhooks of the open API: signed deliveries run as jobs, retried with backoff after an error answer
and delivered once; the delivery log and redelivery in the console; the example receiver refuses a
replayed or forged signature; events are also pulled through /api/v1/events."""
import http.server
import json
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from examples.bank_client import Receiver, SignatureRefused, Verifier
from models.api import WebhookDelivery
from tests import factories
from tests.api_helpers import bearer, free_owned_unit, new_client, posting, token


class Stub:
    """A receiver that answers 500 to the first delivery and 200 afterwards, checking every signature."""

    def __init__(self, secret_box):
        self.calls, self.box = [], secret_box
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("Registry-Signature")
                try:
                    Verifier(stub.box["secret"]).verify(signature, body)
                    valid = True
                except SignatureRefused:
                    valid = False
                status = 500 if not stub.calls else 200
                stub.calls.append({"status": status, "valid": valid, "body": json.loads(body),
                                   "event": self.headers.get("Registry-Event-Type")})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status == 500 else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def quick_retries(app):
    before = app.config["WEBHOOK_BACKOFF_SECONDS"]
    app.config["WEBHOOK_BACKOFF_SECONDS"] = 0.3
    yield
    app.config["WEBHOOK_BACKOFF_SECONDS"] = before


def _wait(db, predicate, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        db.session.expire_all()
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_signed_webhook_is_retried_after_a_500_then_delivered_once(app, client, db, quick_retries):
    from app.api import clients
    box = {}
    stub = Stub(box)
    bank = factories.institution(db, "bank_a")
    endpoint, box["secret"] = clients.create_endpoint(bank.id, stub.url, ["case.state_changed"],
                                                      factories.user(db, "bank_a_admin").id)
    cid, secret = new_client(app, "bank_a")
    tok = token(client, cid, secret)
    _unit, keys = free_owned_unit(app)
    case = client.post("/api/v1/cases", json={"business": "mortgage_first", "lookup": keys},
                       headers=posting(tok)).get_json()
    assert client.post(f"/api/v1/cases/{case['id']}/cancel", headers=posting(tok)).status_code == 200
    delivery = _wait(db, lambda: db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "delivered")))
    time.sleep(1.0)   # no further attempt comes once delivered
    db.session.expire_all()
    assert [c["status"] for c in stub.calls] == [500, 200]
    assert all(c["valid"] for c in stub.calls) and {c["event"] for c in stub.calls} == {"case.state_changed"}
    body = stub.calls[1]["body"]
    assert body["type"] == "case.state_changed" and body["data"]["case_id"] == case["id"]
    assert body["data"]["to"] == "cancelled" and body["data"]["state_label"] == "已取消"
    delivery = db.session.get(WebhookDelivery, delivery.id)
    assert delivery.attempts == 2 and delivery.response_status == 200 and delivery.delivered_at

    # the delivery log in the console, with manual redelivery
    client.auth.login("bank_a_admin")
    page = client.get("/api-console/").get_data(as_text=True)
    assert "已送达" in page and "案卷状态变更" in page and "HTTP 200" in page
    assert client.post(f"/api-console/deliveries/{delivery.id}/redeliver").status_code == 302
    _wait(db, lambda: len(stub.calls) == 3)
    assert stub.calls[2]["valid"] and stub.calls[2]["body"]["id"] == body["id"]
    # bank B's administrator sees nothing of it
    client.auth.login("bank_b_admin")
    other = client.get("/api-console/").get_data(as_text=True)
    assert f"/deliveries/{delivery.id}/redeliver" not in other and stub.url not in other
    assert client.post(f"/api-console/deliveries/{delivery.id}/redeliver").status_code == 404

    # the same event, pulled
    events = client.get("/api/v1/events?after=0", headers=bearer(tok)).get_json()
    assert body["id"] in [e["id"] for e in events["data"]]


def test_the_example_receiver_rejects_a_replayed_or_forged_signature():
    from app.api.webhooks import signature_header
    receiver = Receiver("127.0.0.1", 0, "whsec_test")
    url = f"http://127.0.0.1:{receiver.port}/webhooks"
    body = json.dumps({"id": 1, "type": "case.state_changed", "data": {"case_id": 1}}).encode()
    signed = {"Registry-Signature": signature_header("whsec_test", body), "Content-Type": "application/json"}
    try:
        assert httpx.post(url, content=body, headers=signed).status_code == 200
        replay = httpx.post(url, content=body, headers=signed)
        assert replay.status_code == 400 and "replayed" in replay.json()["error"]
        forged = {"Registry-Signature": signature_header("whsec_other", body)}
        assert httpx.post(url, content=body, headers=forged).status_code == 400
        stale = {"Registry-Signature": signature_header("whsec_test", body, timestamp=int(time.time()) - 3600)}
        assert httpx.post(url, content=body, headers=stale).status_code == 400
        assert receiver.events.qsize() == 1
    finally:
        receiver.close()


def test_the_console_shows_a_new_secret_once_and_keeps_only_its_hash(app, client, db):
    from models.api import ApiClient
    client.auth.login("bank_a_admin")
    page = client.post("/api-console/clients", data={"name": "按揭系统"}).get_data(as_text=True)
    assert "只显示这一次" in page
    import re
    secret = re.search(r"<code>(rs_[\w-]+)</code>", page).group(1)
    row = db.session.scalar(select(ApiClient).where(ApiClient.name == "按揭系统"))
    assert secret not in (row.secret_hash + row.signing_key_sealed)
    assert secret not in client.get("/api-console/").get_data(as_text=True)
    assert token(client, row.client_id, secret)
    client.auth.login("bank_a_op")
    assert client.get("/api-console/").status_code in (302, 403)
