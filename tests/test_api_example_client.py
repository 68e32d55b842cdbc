"""The example client (examples/bank_client.py) files 房屋抵押权首次登记 with zero clicks against a live
server this test starts: it creates, fills, uploads and submits through /api/v1, follows the case by
signed webhooks on its own port (paying when fee.due arrives), and downloads the proof once issued.
The test plays the parties (who confirm on their phones) and the registry (who reviews and records)."""
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.rulebook import workflow
from models import Case, Certificate, Payment
from models.base import utcnow
from tests import factories
from tests.api_helpers import free_owned_unit, new_client

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(db, fetch, seconds=60, proc=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        db.session.expire_all()
        found = fetch()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the example client stopped: {proc.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_the_example_client_files_a_mortgage_with_zero_clicks(app, db, live_server, tmp_path):
    from app.api import clients
    from models.api import ApiClient
    port = _free_port()
    bank = factories.institution(db, "bank_a")
    _endpoint, hook_secret = clients.create_endpoint(bank.id, f"http://127.0.0.1:{port}/webhooks",
                                                     ["case.state_changed", "fee.due", "certificate.issued",
                                                      "case.rejected"], factories.user(db, "bank_a_admin").id)
    client_id, secret = new_client(app, "bank_a", name="信贷系统")
    account = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)).operator_id
    _unit, keys = free_owned_unit(app)
    out = tmp_path / "proof.pdf"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "bank_client.py"), "--base", live_server, "--client-id", client_id,
         "--secret", secret, "--webhook-secret", hook_secret, "--listen", f"127.0.0.1:{port}",
         "--certificate-number", keys["certificate_number"], "--holder-id", keys["holder_id_number"],
         "--out", str(out), "--timeout", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        # the client submitted: the parties are asked to confirm on their phones (待确认)
        said = []
        while not (said and said[-1].startswith("已提交")):
            line = proc.stdout.readline()
            assert line, "".join(said)
            said.append(line)
        assert said[-1].strip() == "已提交：待确认", said
        case = _wait(db, lambda: db.session.scalar(select(Case).where(Case.applicant_id == account,
                                                                      Case.node == "confirming")), proc=proc)
        assert {m.material_key for m in case.materials} == {"identity", "contracts", "title_source", "application_form"}
        for p in case.parties:
            p.confirmed_at = utcnow()
        db.session.commit()
        assert workflow.resume(case) and case.node == "pre_review"
        # fee.due reached the client, which asked for a payment order; the provider reports it paid
        order = _wait(db, lambda: db.session.scalar(select(Payment).where(Payment.case_id == case.id)), proc=proc)
        assert order.status == "pending" and order.amount == Decimal("80.00")
        order.status, order.provider_ref, order.paid_at = "paid", f"SANDBOX-{order.id}", utcnow()
        db.session.commit()
        reviewer = factories.user(db, "reviewer")
        workflow.fire(case, "accept", reviewer)
        workflow.fire(case, "approve", reviewer, opinion="材料齐全，同意")
        workflow.fire(case, "record", reviewer)
        workflow.fire(case, "issue", reviewer)
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    proof = db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
    assert proc.returncode == 0, output
    assert out.read_bytes().startswith(b"%PDF-")
    assert proof.number in output and "待缴费 80.00 元" in output and "案卷 WS" in "".join(said)
    assert "推送 certificate.issued" in output
