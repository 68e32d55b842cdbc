"""Local stand-ins of the outside services for the tests: small real HTTP servers (a thread, a free port) speaking
the protocols documented in app/services/signing.py, sms.py, payment.py and tax.py.

The signature scheme is written here again from the documentation, not imported from the app, so a mistake in
the app's signing cannot cancel out against the same mistake in the stub. Each stub refuses a request whose key
id, signature, timestamp or nonce is wrong (401, and records why), signs every answer, and can be told to fail.
"""
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

KEY_ID, SECRET = "registry-test-key", "stub-shared-secret-0123456789abcdef"


def _canonical(method, path, timestamp, nonce, body: bytes) -> bytes:
    return f"{method}\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


def signed_headers(method, path, body: bytes, secret=SECRET, key_id=KEY_ID, timestamp=None, nonce=None) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    sig = hmac.new(secret.encode(), _canonical(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()
    return {"X-Registry-Key-Id": key_id, "X-Registry-Timestamp": timestamp, "X-Registry-Nonce": nonce,
            "X-Registry-Signature": sig}


def post_json(url, payload, secret=SECRET, key_id=KEY_ID, timestamp=None, nonce=None):
    """POST a signed JSON notification to the app (a live server); (status, parsed JSON answer)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json",
               **signed_headers("POST", urlsplit(url).path, body, secret, key_id, timestamp, nonce)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class StubService:
    """A signed-JSON service on 127.0.0.1:<free port>; subclasses map paths to handlers."""

    routes: dict = {}

    def __init__(self, secret=SECRET, key_id=KEY_ID, answer_secret=None):
        self.secret, self.key_id = secret, key_id
        self.answer_secret = answer_secret or secret  # a different one forges the answers (the app must refuse)
        self.received, self.refused, self.nonces = [], [], set()
        self.error = None  # (code, message): answer every call with this error
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                why = stub._check(path, self.headers, body)
                if why:
                    stub.refused.append(why)
                    return self._answer(path, 401, {"code": "InvalidSignature", "message": why})
                payload = json.loads(body)
                stub.received.append((path, dict(self.headers), payload))
                if stub.error:
                    return self._answer(path, 200, {"code": stub.error[0], "message": stub.error[1]})
                handler = stub.routes.get(path)
                if handler is None:
                    return self._answer(path, 404, {"code": "NotFound", "message": path})
                data = handler(stub, payload)
                if isinstance(data, tuple):   # (HTTP status, whole answer): a handler's own error
                    return self._answer(path, *data)
                return self._answer(path, 200, {"code": "OK", "message": "success", "data": data})

            def _answer(self, path, status, answer):
                body = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in signed_headers("RESPONSE", path, body, stub.answer_secret, stub.key_id).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _check(self, path, headers, body):
        """Why the request is refused, or None: the documented checks of a signed request."""
        timestamp, nonce = headers.get("X-Registry-Timestamp", ""), headers.get("X-Registry-Nonce", "")
        if headers.get("X-Registry-Key-Id") != self.key_id:
            return "unknown key id"
        expected = hmac.new(self.secret.encode(), _canonical("POST", path, timestamp, nonce, body),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Registry-Signature", "")):
            return "bad signature"
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return "stale timestamp"
        if nonce in self.nonces or len(nonce) < 16:
            return "nonce reused"
        self.nonces.add(nonce)
        if headers.get("Content-Type") != "application/json":
            return "not JSON"
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmsGateway(StubService):
    def _send(self, payload):
        assert set(payload) == {"phone", "content", "purpose"}, payload
        return {"message_id": f"SMS{len(self.received):06d}"}

    routes = {"/v1/messages": _send}


class PaymentProvider(StubService):
    """Creates orders, shows a checkout address, and notifies the app when told an order is paid."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.orders = {}

    def _create(self, payload):
        order = self.orders.setdefault(payload["order_number"], payload)
        assert order["amount"] == payload["amount"] and payload["currency"] == "CNY"
        return {"order_number": payload["order_number"], "checkout_url": f"{self.url}/checkout/{payload['order_number']}"}

    routes = {"/v1/orders": _create}

    def notification(self, order_number, **changes):
        """The JSON a paid order's notification carries (changes alter it, e.g. a wrong amount)."""
        order = self.orders.get(order_number, {"amount": "0.00"})
        return {"order_number": order_number, "provider_ref": f"WX{order_number}", "amount": order["amount"],
                "currency": "CNY", "status": "paid", **changes}

    def pay(self, order_number, **kw):
        """The payer paid: POST the signed notification to the notify_url the app gave; (status, answer)."""
        return post_json(self.orders[order_number]["notify_url"], self.notification(order_number), self.secret,
                         self.key_id, **kw)


class TaxBureau(StubService):
    """Assesses deed tax with its own flat rate, takes payment when told, answers status queries, notifies."""

    RATE = Decimal("0.03")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.cases = {}  # case_number -> {"notify_url", "assessments": {unit_code: row}}

    def _declare(self, payload):
        case = self.cases.setdefault(payload["case_number"], {"assessments": {}})
        case["notify_url"] = payload["notify_url"]
        for unit in payload["units"]:
            row = case["assessments"].get(unit["unit_code"])
            if row is None or row["price"] != unit["price"]:
                amount = (Decimal(unit["price"]) * self.RATE).quantize(Decimal("0.01"))
                case["assessments"][unit["unit_code"]] = {
                    "unit_code": unit["unit_code"], "reference": f"SW{secrets.token_hex(6).upper()}",
                    "price": unit["price"], "rate": str(self.RATE), "amount": str(amount), "status": "pending",
                    "receipt_number": None}
        return {"pay_url": f"{self.url}/pay/{payload['case_number']}", "assessments": list(case["assessments"].values())}

    def _status(self, payload):
        return {"assessments": list(self.cases.get(payload["case_number"], {"assessments": {}})["assessments"].values())}

    routes = {"/v1/deed-tax/declarations": _declare, "/v1/deed-tax/status": _status}

    def rows(self, case_number):
        return list(self.cases[case_number]["assessments"].values())

    def pay(self, case_number, notify=False):
        """The buyer paid every assessment of the case; with notify, the bureau tells the app (answers list)."""
        answers = []
        for row in self.rows(case_number):
            row["status"], row["receipt_number"] = "cleared", f"RC{row['reference']}"
            if notify:
                answers.append(post_json(self.cases[case_number]["notify_url"], {
                    "reference": row["reference"], "amount": row["amount"], "receipt_number": row["receipt_number"],
                    "status": "cleared"}, self.secret, self.key_id))
        return answers
