"""Issued results one click away: after 发证 the case pages of the applicant bank and of the registry
show each certificate or proof with its number, verification code, PDF link and QR code; the PDF is
the applicant institution's and the registry's only; the done list names the number."""
import re
import subprocess
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import rulebook
from app.extensions import db as _db
from app.services import certificates
from models import Case, Certificate

from .conftest import Auth, IsolatedClient
from .test_desk import apply_through_views, complete, submit


def _client(app):
    app.test_client_class = IsolatedClient
    c = app.test_client()
    c.auth = Auth(c)
    return c


def login(client, username):
    page = client.auth.login(username).get_data(as_text=True)
    assert "/logout" in page, f"{username} could not sign in"
    return page


@pytest.fixture(scope="module")
def issued(app):
    """A 房屋抵押权首次登记 of bank A applied through the desk, recorded and issued by the registry."""
    client = _client(app)
    with app.app_context():
        username, case = apply_through_views(client, rulebook.get("mortgage_first"))
        assert username == "bank_a_op"
        submit(client, case)
        case = complete(_db.session.get(Case, case.id))
        cert = _db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
        assert cert is not None and cert.kind == "proof"
        return SimpleNamespace(case_id=case.id, case_number=case.number, number=cert.number, cert_id=cert.id,
                               code=certificates.verification_code(cert.token), token=cert.token)


def _pdf_link(page, issued):
    """The PDF link in the results panel of a case page (exactly one click from the page)."""
    panel = re.search(r'<div class="panel panel-success" id="case-results">(.*?)</table></div>', page, re.S)
    assert panel, "the case page has no results panel"
    row = re.search(rf'<tr class="issued-document" data-number="{re.escape(issued.number)}">(.*?)</tr>',
                    panel.group(1), re.S)
    assert row, "the issued proof is not in the results panel"
    body = row.group(1)
    assert issued.number in body and f'<code class="result-code">{issued.code}</code>' in body
    assert '<svg' in body and 'class="segno"' in body, "no QR code"
    link = re.search(r'class="btn btn-primary btn-sm result-pdf" href="([^"]+)"', body)
    assert link
    return link.group(1)


def _pdf_text(response):
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", text.decode())


@pytest.mark.parametrize("username, path", [("bank_a_op", "/desk/case/{}/"), ("reviewer", "/review/case/{}/")])
def test_the_issued_proof_is_one_click_from_the_case_page(app, issued, username, path):
    client = _client(app)
    login(client, username)
    html = client.get(path.format(issued.case_id)).get_data(as_text=True)
    link = _pdf_link(html, issued)
    assert link == f"/proofs/{issued.cert_id}/pdf"
    text = _pdf_text(client.get(link))
    assert issued.number in text and issued.code in text


def test_the_results_panel_shows_once_and_without_inline_script(app, issued):
    client = _client(app)
    login(client, "reviewer")
    html = client.get(f"/review/case/{issued.case_id}/").get_data(as_text=True)
    assert html.count('id="case-results"') == 1
    panel = html[html.index('id="case-results"'):]
    panel = panel[:panel.index("</table>")]
    assert "<script" not in panel
    # The QR code leads to the public verification page of this very proof.
    assert f"/public/certificate/{issued.token}" in panel


@pytest.mark.parametrize("username", ["bank_b_op", "bank_b_admin", "dev_op"])
def test_another_institution_cannot_read_the_pdf(app, issued, username):
    client = _client(app)
    login(client, username)
    r = client.get(f"/proofs/{issued.cert_id}/pdf")
    assert r.status_code == 404
    assert issued.number.encode() not in r.data


def test_the_public_user_and_visitors_cannot_read_the_pdf_by_id(app, issued):
    client = _client(app)
    client.auth.logout()
    assert client.get(f"/proofs/{issued.cert_id}/pdf").status_code in (302, 401)
    login(client, "public")
    r = client.get(f"/proofs/{issued.cert_id}/pdf")
    assert r.status_code in (302, 403) and not r.data.startswith(b"%PDF")


def test_a_foreign_case_page_shows_no_results(app, issued):
    client = _client(app)
    login(client, "bank_b_op")
    r = client.get(f"/desk/case/{issued.case_id}/")
    assert r.status_code == 404 and issued.number not in r.get_data(as_text=True)


def test_the_done_list_has_a_certificates_column_with_the_number(app, issued):
    client = _client(app)
    login(client, "bank_a_op")
    html = client.get("/desk/office/done").get_data(as_text=True)
    assert "证书/证明" in html
    row = re.search(rf'<tr class="case-row" data-number="{issued.case_number}">(.*?)</tr>', html, re.S)
    assert row and issued.number in row.group(1)
    assert f'href="/proofs/{issued.cert_id}/pdf"' in row.group(1)


def test_bad_pdf_ids_answer_not_found(app, issued):
    client = _client(app)
    login(client, "reviewer")
    for bad in ("9" * 25, "x", "-1", "999999"):
        assert client.get(f"/proofs/{bad}/pdf").status_code == 404
