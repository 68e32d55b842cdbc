"""Public services: progress by number + party ID, certificate and archive-proof verification by number + code."""
import subprocess

import pytest
from sqlalchemy import select

from app.services import certificates
from models import ArchiveProof, CaseHistory, CaseParty, Certificate, Right
from tests import factories


@pytest.fixture
def submitted_case(db):
    case = factories.case(db, "bank_a_op", node="pre_review")
    case.executor_id, case.executor_role = None, "RegistryReviewer"
    db.session.add(CaseParty(case_id=case.id, role="debtor", name="周晓明", id_type="1", id_number="11010519491231002X"))
    db.session.add(CaseHistory(case_id=case.id, node_from="draft", node_to="pre_review", action="submit",
                               actor_name="陈晓东"))
    db.session.commit()
    return case


@pytest.fixture
def certificate(db):
    right = db.session.scalar(select(Right).limit(1))
    cert = Certificate(number=right.certificate_number, kind="certificate", token="TESTTOKEN" + "x" * 20,
                       unit_id=right.unit_id, holder_names="测试人")
    existing = db.session.scalar(select(Certificate).where(Certificate.number == right.certificate_number))
    if existing:
        return existing
    db.session.add(cert)
    db.session.commit()
    return cert


def test_anyone_follows_a_case_with_its_number_and_a_party_id(client, submitted_case):
    page = client.post("/public/progress", data={"number": submitted_case.number,
                                                 "party": "002x"}).get_data(as_text=True)
    assert submitted_case.number in page and "陈晓东" in page


def test_a_case_number_with_a_stranger_id_reveals_nothing(client, submitted_case):
    page = client.post("/public/progress", data={"number": submitted_case.number,
                                                 "party": "0021"}).get_data(as_text=True)
    assert "陈晓东" not in page
    assert "没有与该编号和当事人信息匹配的案卷" in page


def test_certificate_verifies_with_number_and_code_only(client, certificate):
    code = certificates.verification_code(certificate.token)
    good = client.post("/public/certificate", data={"number": certificate.number.replace("(", "（"), "code": code})
    assert "该证照真实有效" in good.get_data(as_text=True)
    bad = client.post("/public/certificate", data={"number": certificate.number, "code": "WRONG123"})
    assert "该证照真实有效" not in bad.get_data(as_text=True)
    assert "没有与该编号和核验码匹配的证照" in bad.get_data(as_text=True)


def test_certificate_pdf_carries_a_qr_code_that_leads_back_to_it(client, certificate, tmp_path):
    pdf = client.get(f"/public/certificate/{certificate.token}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True).stdout.decode()
    assert certificate.number in text.replace(" ", "")
    (tmp_path / "c.pdf").write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", tmp_path / "c.pdf", tmp_path / "c"], check=True)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", tmp_path / "c.png"], capture_output=True).stdout.decode()
    assert decoded.strip().endswith(f"/public/certificate/{certificate.token}")


def test_holder_gets_an_archive_proof_that_others_can_verify(app, client, db):
    from tests.accounts_helpers import PASSWORD, new_account
    right = db.session.scalars(select(Right).where(Right.status == "current")).unique().first()
    holder = right.holders[0].party
    account = new_account(db, role="Public", id_number=holder.id_number)
    account.first_name, account.last_name = holder.name, ""
    db.session.commit()
    client.auth.login(account.username, PASSWORD)
    response = client.post("/archive/", data={"certificate_number": right.certificate_number})
    assert response.status_code == 302
    proof = db.session.scalar(select(ArchiveProof).order_by(ArchiveProof.id.desc()).limit(1))
    assert proof.content["rights"][0]["number"] == right.certificate_number
    client.post("/logout/")
    verified = client.post("/public/archive/verify", data={"number": proof.number, "code": proof.token[:8]})
    assert right.unit.location in verified.get_data(as_text=True)
    assert "权利人本人查询" in verified.get_data(as_text=True)


def test_archive_query_of_someone_elses_property_is_refused(client, db):
    right = db.session.scalar(select(Right).where(Right.status == "current").limit(1))
    before = db.session.query(ArchiveProof).count()
    client.auth.login("public")
    page = client.post("/archive/", data={"certificate_number": right.certificate_number,
                                          "id_number": right.holders[0].party.id_number}).get_data(as_text=True)
    assert "只能查询本人名下的不动产" in page
    assert db.session.query(ArchiveProof).count() == before


def test_archive_query_needs_an_account(client):
    client.post("/logout/")
    assert client.get("/archive/").status_code == 302


def test_visitors_land_on_the_public_services(client):
    client.post("/logout/")
    page = client.get("/").get_data(as_text=True)
    for href in ("/guide/", "/public/progress", "/public/certificate", "/public/archive/verify"):
        assert f'href="{href}"' in page
    assert "办事指南" in page


def test_reviewers_home_counts_their_queues(client, submitted_case):
    page = client.auth.login("reviewer").get_data(as_text=True)
    assert 'id="review-queues"' in page
    assert "/review/?node=pre_review" in page
    import re
    badge = re.search(r'node=pre_review">[^<]*<span class="badge">(\d+)</span>', page)
    assert badge and int(badge.group(1)) >= 1


def test_operators_home_has_no_review_queues(client):
    assert 'id="review-queues"' not in client.auth.login("bank_a_op").get_data(as_text=True)
