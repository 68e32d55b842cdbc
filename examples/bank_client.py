"""A bank's loan system filing 房屋抵押权首次登记 through the open API, with zero clicks.

    python examples/bank_client.py --base http://127.0.0.1:5000 \
        --client-id rc_... --secret rs_... --webhook-secret whsec_... --listen 127.0.0.1:8765 \
        --certificate-number '湘(2024)长沙市不动产权第0012301号' --holder-id 430104... --out proof.pdf

Get the client id and secret, and register the webhook endpoint (http://127.0.0.1:8765/webhooks, events
case.state_changed, fee.due, certificate.issued, case.rejected), as the bank's administrator in the console
(系统管理 → 接口客户端 / 推送地址) or with `flask --app run api-client create bank_a` and
`flask --app run api-webhook create bank_a http://127.0.0.1:8765/webhooks`.

What it does:
1. client credentials → bearer token (POST /api/v1/oauth/token);
2. reads the business (fields, materials), creates the case from the lookup keys with the mortgage data
   (POST /api/v1/cases, Idempotency-Key), uploads the scans (multipart), submits (提交);
3. listens for webhooks on --listen, verifying each signature (HMAC-SHA256 over "t.body", within a
   300 s window, each signature once: a replay is refused with 400); on fee.due it asks for a payment
   order and prints the cashier URL; on certificate.issued it downloads the proof PDF to --out.
The parties confirm on their own phones and the registry reviews meanwhile; the client only waits.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import queue
import sys
import threading
import time
import uuid

import httpx

WINDOW_SECONDS = 300


# ---- receiving webhooks --------------------------------------------------------------------------

class SignatureRefused(ValueError):
    pass


class Verifier:
    """Checks Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, within the
    window, and refuses a signature seen before (a replayed delivery)."""

    def __init__(self, secret, window=WINDOW_SECONDS):
        self.secret, self.window = secret.encode(), window
        self.seen = {}
        self.lock = threading.Lock()

    def verify(self, header, body: bytes, now=None):
        """The event when the signature is good, fresh and not seen before; remember() it once handled
        (a delivery answered with an error is sent again with the same signature when the same second)."""
        now = time.time() if now is None else now
        parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
        t, v1 = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or not v1:
            raise SignatureRefused("no signature")
        if abs(now - int(t)) > self.window:
            raise SignatureRefused("timestamp outside the window")
        expected = hmac.new(self.secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, v1):
            raise SignatureRefused("bad signature")
        with self.lock:
            for old in [k for k, at in self.seen.items() if now - at > 2 * self.window]:
                del self.seen[old]
            if (t, v1) in self.seen:
                raise SignatureRefused("replayed signature")
        return json.loads(body)

    def remember(self, header, now=None):
        parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
        with self.lock:
            self.seen[(parts.get("t"), parts.get("v1"))] = time.time() if now is None else now


class Receiver:
    """A small HTTP server on host:port (port 0: any free one) putting verified events on a queue."""

    def __init__(self, host, port, secret):
        self.verifier, self.events = Verifier(secret), queue.Queue()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    event = receiver.verifier.verify(self.headers.get("Registry-Signature"), body)
                except (SignatureRefused, ValueError) as exc:
                    self._answer(400, {"error": str(exc)})
                    return
                receiver.events.put(event)
                receiver.verifier.remember(self.headers.get("Registry-Signature"))
                self._answer(200, {"received": event.get("id")})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


# ---- calling the API ------------------------------------------------------------------------------

class Registry:
    def __init__(self, base, client_id, secret, language="zh"):
        self.http = httpx.Client(base_url=base.rstrip("/") + "/api/v1", timeout=60,
                                 headers={"Accept-Language": language})
        r = self.http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": secret})
        self._check(r)
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    @staticmethod
    def _check(r):
        if r.status_code >= 400:
            problem = r.json() if r.headers.get("content-type", "").startswith("application/") else {}
            lines = [f"{r.status_code} {problem.get('detail') or r.text}"]
            lines += [f"  {e['field']}: {e['message']}" for e in problem.get("errors", [])]
            raise SystemExit("\n".join(lines))
        return r

    def get(self, path, **kw):
        return self._check(self.http.get(path, **kw))

    def post(self, path, key=None, **kw):
        headers = {"Idempotency-Key": key or str(uuid.uuid4()), **kw.pop("headers", {})}
        return self._check(self.http.post(path, headers=headers, **kw))


def tiny_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scan."""
    content = f"BT /F1 12 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def file_mortgage(api, certificate_number, holder_id, log=print):
    """Create, fill and submit 房屋抵押权首次登记; returns the case as the API answers it."""
    business = api.get("/businesses/mortgage_first").json()
    log(f"业务：{business['name']}（材料 {len(business['materials'])} 项）")
    today = time.strftime("%Y-%m-%d")
    case = api.post("/cases", json={
        "business": "mortgage_first",
        "lookup": {"certificate_number": certificate_number, "holder_id_number": holder_id},
        "form": {"apply_reason": "housing_loan", "loan_type": "commercial", "contract_number": f"DY-{uuid.uuid4().hex[:8]}"},
        "units": [{"data": {"mortgage_kind": "1", "secured_amount": "500000.00", "collateral_value": "900000.00",
                            "term_start": today, "term_end": f"{int(today[:4]) + 20}{today[4:]}",
                            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用"}}],
    }).json()
    log(f"案卷 {case['number']} 已创建：{case['state_label']}")
    for material, name in (("identity", "身份证.pdf"), ("contracts", "抵押合同.pdf"), ("title_source", "不动产权证.pdf")):
        case = api.post(f"/cases/{case['id']}/materials", data={"material": material},
                        files={"file": (name, tiny_pdf(material), "application/pdf")}).json()
    log(f"已上传材料 {len(case['materials'])} 份")
    case = api.post(f"/cases/{case['id']}/submit", headers={"If-Match": f"\"{case['id']}-{case['version']}\""}).json()
    log(f"已提交：{case['state_label']}")
    return case


def follow(api, receiver, case, out, timeout, log=print):
    """Wait for the webhooks of this case until its proof is issued; download it to `out`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            event = receiver.events.get(timeout=1)
        except queue.Empty:
            continue
        data = event.get("data", {})
        if data.get("case_id") != case["id"]:
            continue
        log(f"推送 {event['type']}：{data.get('state_label') or data.get('number') or ''}")
        if event["type"] == "fee.due":
            order = api.post(f"/cases/{case['id']}/payments").json()
            log(f"待缴费 {order['amount']} 元，缴费地址：{order.get('checkout_url')}")
        elif event["type"] == "case.rejected":
            raise SystemExit(f"案卷被驳回：{data.get('opinion')}")
        elif event["type"] == "certificate.issued":
            certs = api.get(f"/cases/{case['id']}/certificates").json()["data"]
            proof = next(c for c in certs if c["number"] == data["number"])
            pdf = api.get(f"/certificates/{proof['id']}/pdf").content
            with open(out, "wb") as f:
                f.write(pdf)
            log(f"{proof['kind_label']} {proof['number']}（核验码 {proof['verification_code']}）已下载到 {out}")
            return proof
    raise SystemExit("等待推送超时")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="http://127.0.0.1:5000")
    p.add_argument("--client-id", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--webhook-secret", required=True)
    p.add_argument("--listen", default="127.0.0.1:8765")
    p.add_argument("--certificate-number", required=True)
    p.add_argument("--holder-id", required=True)
    p.add_argument("--out", default="proof.pdf")
    p.add_argument("--timeout", type=float, default=3600)
    args = p.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    receiver = Receiver(host, int(port), args.webhook_secret)
    print(f"接收推送：http://{host}:{receiver.port}/webhooks", flush=True)
    api = Registry(args.base, args.client_id, args.secret)
    case = file_mortgage(api, args.certificate_number, args.holder_id, log=lambda m: print(m, flush=True))
    follow(api, receiver, case, args.out, args.timeout, log=lambda m: print(m, flush=True))
    receiver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
