"""The public side of issue 14: 我的证照 for real-name holders, the progress query as the Beihai manual has
it (POST, last 4 of an ID or an organisation's full name, captcha after 3 misses, rate limit), 查档 only
with authority and always recorded, and the 待缴 / 已缴 / 线下缴费 lists."""
import io
import re
import secrets
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.services import certificates
from models import (ArchiveProof, ArchiveQuery, AuditLog, CaseHistory, CaseParty, CaseUnit, Certificate,
                    Mortgage, Payment, Right, Unit)
from tests import factories
from tests.accounts_helpers import PASSWORD, new_account

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _single_holder_right(db, skip=0):
    rights = db.session.scalars(select(Right).where(Right.status == "current").order_by(Right.id)).unique().all()
    return [r for r in rights if len(r.holders) == 1][skip]


def _certificate_for(db, right):
    cert = db.session.scalar(select(Certificate).where(Certificate.number == right.certificate_number))
    if cert is None:
        cert = Certificate(number=right.certificate_number, kind="certificate", token=secrets.token_urlsafe(24),
                           unit_id=right.unit_id, holder_names=right.holders[0].party.name)
        db.session.add(cert)
        db.session.commit()
    return cert


def _holder_account(db, right):
    """A real-name public account of the right's holder (name and ID number as registered)."""
    party = right.holders[0].party
    user = new_account(db, role="Public", id_number=party.id_number)
    user.first_name, user.last_name = party.name, ""
    db.session.commit()
    return user


def _archive_counts(db):
    db.session.expire_all()
    return (db.session.scalar(select(func.count(ArchiveProof.id))),
            db.session.scalar(select(func.count(ArchiveQuery.id))))


@pytest.fixture
def no_misses(app):
    from app.extensions import limiter
    limiter.reset()
    yield
    limiter.reset()


# ---- 我的证照 ------------------------------------------------------------------------------------------

def test_a_real_name_holder_sees_only_their_own_certificates_with_code_and_downloads_are_audited(client, db):
    mine, other = _single_holder_right(db, 0), _single_holder_right(db, 1)
    cert, foreign = _certificate_for(db, mine), _certificate_for(db, other)
    user = _holder_account(db, mine)
    client.auth.login(user.username, PASSWORD)
    page = client.get("/mine/").get_data(as_text=True)
    table = page[page.index('id="my-certificates"'):]
    assert cert.number in table and certificates.verification_code(cert.token) in table
    assert foreign.number not in table and certificates.verification_code(foreign.token) not in page
    assert client.get(f"/mine/{foreign.id}/pdf").status_code == 404
    pdf = client.get(f"/mine/{cert.id}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    jpg = client.get(f"/mine/{cert.id}/jpg")
    assert jpg.mimetype == "image/jpeg" and jpg.data.startswith(b"\xff\xd8\xff")
    db.session.expire_all()
    logged = db.session.execute(select(AuditLog.object_type, AuditLog.object_id, AuditLog.summary).where(
        AuditLog.action == "download_certificate", AuditLog.username == user.username)).all()
    assert sorted(logged) == [("Certificate", str(cert.id), "JPG"), ("Certificate", str(cert.id), "PDF")]


def test_the_same_id_number_under_another_name_sees_nothing(client, db):
    right = _single_holder_right(db, 2)
    cert = _certificate_for(db, right)
    impostor = new_account(db, role="Public", id_number=right.holders[0].party.id_number)
    client.auth.login(impostor.username, PASSWORD)
    assert cert.number not in client.get("/mine/").get_data(as_text=True)
    assert client.get(f"/mine/{cert.id}/pdf").status_code == 404


def test_institution_accounts_have_no_personal_certificates(client, db):
    client.auth.login("bank_a_op")
    page = client.get("/mine/").get_data(as_text=True)
    assert 'id="mine-not-real-name"' in page and 'id="my-certificates"' not in page


def test_a_bank_sees_its_proofs_with_a_pdf_link_in_the_desk(client, db):
    mortgage = db.session.scalar(select(Mortgage).where(Mortgage.institution_id == factories.institution(db, "bank_a").id))
    proof = Certificate(number=mortgage.proof_number, kind="proof", token=secrets.token_urlsafe(24),
                        unit_id=mortgage.unit_id, institution_id=mortgage.institution_id,
                        holder_names=mortgage.mortgagee_name)
    db.session.add(proof)
    db.session.commit()
    client.auth.login("bank_a_op")
    page = client.get("/proofs/").get_data(as_text=True)
    assert proof.number in page and f'/proofs/{proof.id}/pdf' in page
    assert client.get(f"/proofs/{proof.id}/pdf").data.startswith(b"%PDF")
    db.session.expire_all()
    assert db.session.scalar(select(AuditLog.username).where(AuditLog.action == "download_certificate",
                                                             AuditLog.object_id == str(proof.id))) == "bank_a_op"


# ---- progress query -------------------------------------------------------------------------------------

@pytest.fixture
def accepted_case(db):
    case = factories.case(db, "bank_a_op", node="pre_review", official_number=f"SL{secrets.randbelow(10**9):09d}")
    case.executor_id, case.executor_role = None, "RegistryReviewer"
    db.session.add(CaseParty(case_id=case.id, role="debtor", name="周晓明", id_type="1", id_number="11010519491231002X"))
    db.session.add(CaseParty(case_id=case.id, role="mortgagee", kind="organisation", name="长沙银行股份有限公司（岳麓支行）",
                             id_type="8", id_number="91430100MA4L16JK4B"))
    db.session.add(CaseHistory(case_id=case.id, node_from="draft", node_to="pre_review", action="submit",
                               actor_name="陈晓东"))
    db.session.commit()
    return case


def _result(page):
    return page[page.index('id="progress-result"'):] if 'id="progress-result"' in page else None


def test_progress_by_the_last_4_of_an_id_shows_the_number_that_was_typed(client, accepted_case, no_misses):
    for typed in (accepted_case.number, accepted_case.official_number):
        page = client.post("/public/progress", data={"number": typed, "party": "002x"}).get_data(as_text=True)
        result = _result(page)
        assert result and re.search(rf'id="progress-number">{typed}<', result)
        shown_other = ({accepted_case.number, accepted_case.official_number} - {typed}).pop()
        assert shown_other not in result
        assert "陈晓东" in result and ">submit<" not in result and "提交" in result
        assert ">pre_review<" not in result


def test_progress_by_an_organisations_full_name(client, accepted_case, no_misses):
    page = client.post("/public/progress", data={"number": accepted_case.official_number,
                                                 "party": "长沙银行股份有限公司(岳麓支行)"}).get_data(as_text=True)
    assert _result(page)
    page = client.post("/public/progress", data={"number": accepted_case.official_number,
                                                 "party": "长沙银行"}).get_data(as_text=True)
    assert _result(page) is None and "没有与该编号和当事人信息匹配的案卷" in page


def test_progress_never_answers_a_get(client, accepted_case, no_misses):
    page = client.get("/public/progress", query_string={"number": accepted_case.number, "party": "002X",
                                                        "id_number": "11010519491231002X"}).get_data(as_text=True)
    assert _result(page) is None and 'method="post"' in page


def test_three_misses_bring_the_captcha(app, client, accepted_case, no_misses):
    for last4 in ("1111", "2222", "3333"):
        page = client.post("/public/progress", data={"number": accepted_case.number, "party": last4}).get_data(as_text=True)
        assert _result(page) is None
    assert 'src="/captcha/progress.png"' in page
    # From now on the right answer alone is not enough: the captcha is asked and checked.
    page = client.post("/public/progress", data={"number": accepted_case.number, "party": "002X"}).get_data(as_text=True)
    assert _result(page) is None and "图片中的字符" in page
    assert client.get("/captcha/progress.png").mimetype == "image/png"
    with app.test_request_context():
        from app import captcha
        digest = captcha._digest("K7PQ")
    with client.session_transaction() as s:
        s["captcha:progress"] = digest
    page = client.post("/public/progress", data={"number": accepted_case.number, "party": "002X",
                                                 "captcha": "k7pq"}).get_data(as_text=True)
    assert _result(page)


def test_progress_queries_are_rate_limited(app, client, accepted_case, no_misses):
    from tests.test_limits import assert_chinese_429
    app.config["REGISTRY_RATELIMIT_ENABLED"] = True
    try:
        limit = int(app.config["REGISTRY_RATELIMIT_PUBLIC"].split()[0])
        env = {"REMOTE_ADDR": "10.99.1.7"}
        for _ in range(limit):
            assert client.post("/public/progress", data={"number": accepted_case.number, "party": "002X"},
                               environ_base=env).status_code == 200
        assert_chinese_429(client.post("/public/progress", data={"number": accepted_case.number, "party": "002X"},
                                       environ_base=env))
    finally:
        app.config["REGISTRY_RATELIMIT_ENABLED"] = False


# ---- 查档 with authority ---------------------------------------------------------------------------------

def test_archive_query_without_authority_is_refused_and_leaves_no_proof(client, db):
    right = _single_holder_right(db, 3)
    before = _archive_counts(db)
    client.auth.login("public")  # real-name, but not this property's holder
    page = client.post("/archive/", data={"certificate_number": right.certificate_number,
                                          "id_number": right.holders[0].party.id_number}).get_data(as_text=True)
    assert "只能查询本人名下的不动产" in page
    client.auth.login("bank_a_op")  # an institution with a purpose but no written authorization
    page = client.post("/archive/", data={"certificate_number": right.certificate_number, "purpose": "贷前调查",
                                          "id_number": right.holders[0].party.id_number}).get_data(as_text=True)
    assert "请上传权利人的书面授权" in page
    fake = {"authorization": (io.BytesIO(b"MZ\x90\x00program"), "授权书.pdf")}
    page = client.post("/archive/", data={"certificate_number": right.certificate_number, "purpose": "贷前调查",
                                          "id_number": right.holders[0].party.id_number, **fake},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "程序" in page
    assert client.get("/archive-authority/").status_code in (302, 403)  # the authorities' form is the registry's
    assert _archive_counts(db) == before


def test_archive_queries_with_authority_are_logged_and_the_holder_sees_them(client, db):
    right = _single_holder_right(db, 4)
    holder = _holder_account(db, right)
    before = _archive_counts(db)

    client.auth.login(holder.username, PASSWORD)
    assert client.post("/archive/", data={"certificate_number": right.certificate_number}).status_code == 302
    client.auth.login("bank_a_op")
    assert client.post("/archive/", data={
        "certificate_number": right.certificate_number, "purpose": "贷前调查", "id_number": right.holders[0].party.id_number,
        "authorization": (io.BytesIO(PDF), "授权书.pdf")}, content_type="multipart/form-data").status_code == 302
    client.auth.login("reviewer")
    assert client.post("/archive-authority/", data={
        "certificate_number": right.certificate_number, "requester": "长沙市岳麓区人民法院",
        "document_number": "(2026)湘0104执123号", "basis": "《民事诉讼法》第二百四十九条", "purpose": "执行财产查询",
    }).status_code == 302

    assert _archive_counts(db) == (before[0] + 3, before[1] + 3)
    rows = db.session.scalars(select(ArchiveQuery).where(ArchiveQuery.unit_id == right.unit_id)
                              .order_by(ArchiveQuery.id)).all()[-3:]
    assert [r.requester_kind for r in rows] == ["holder", "institution", "authority"]
    assert rows[1].requester_name == factories.institution(db, "bank_a").name and rows[1].purpose == "贷前调查"
    assert rows[1].authorization_file and rows[2].document_number == "(2026)湘0104执123号"
    assert "民事诉讼法" in rows[2].basis

    # The proof states its basis (PDF text).
    proof = rows[2].proof
    pdf = client.get(f"/public/archive/{proof.token}/pdf").data
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode().replace(" ", "")
    assert "民事诉讼法" in text and "长沙市岳麓区人民法院" in text

    client.auth.login(holder.username, PASSWORD)
    page = client.get("/mine/").get_data(as_text=True)
    about = page[page.index('id="queries-about-me"'):]
    for words in ("长沙市岳麓区人民法院", factories.institution(db, "bank_a").name, "贷前调查", "执行财产查询"):
        assert words in about


# ---- 待缴 / 已缴 / 线下缴费登记 --------------------------------------------------------------------------------

@pytest.fixture
def payable_case(db):
    unit = db.session.scalars(select(Unit).where(Unit.use == "residential").order_by(Unit.id.desc())).first()
    case = factories.case(db, "bank_a_op", node="pre_review", official_number=f"SL{secrets.randbelow(10**9):09d}")
    db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
    db.session.commit()
    return case


def test_offline_payment_is_recorded_by_the_registry_audited_and_the_party_sees_it_paid(client, db, payable_case):
    person = new_account(db, role="Public", id_number="110101199003074514")
    person.first_name, person.last_name = "王小明", ""
    db.session.add(CaseParty(case_id=payable_case.id, role="debtor", name="王小明", id_type="1",
                             id_number="110101199003074514"))
    db.session.commit()
    client.auth.login(person.username, PASSWORD)
    page = client.get("/pay/").get_data(as_text=True)
    due = page[page.index('id="fees-due"'):page.index('id="paid-orders"')]
    assert payable_case.official_number in due

    client.auth.login("bank_a_op")
    assert client.get("/pay/offline/").status_code in (302, 403)
    client.auth.login("reviewer")
    page = client.post("/pay/offline/", data={"number": payable_case.official_number, "amount": "1.00",
                                              "receipt_number": "PJ2026-0001"}).get_data(as_text=True)
    assert "实缴金额须等于应缴金额" in page
    response = client.post("/pay/offline/", data={"number": payable_case.official_number, "amount": "80.00",
                                                  "receipt_number": "PJ2026-0001"})
    assert response.status_code == 302
    db.session.expire_all()
    paid = db.session.scalar(select(Payment).where(Payment.case_id == payable_case.id, Payment.status == "paid"))
    assert paid.channel == "offline" and paid.amount == Decimal("80.00")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "offline_payment",
                                                    AuditLog.object_id == str(paid.id))).username == "reviewer"

    client.auth.login(person.username, PASSWORD)
    page = client.get("/pay/").get_data(as_text=True)
    paid_list = page[page.index('id="paid-orders"'):]
    assert paid.order_number in paid_list and "线下" in paid_list
    assert client.get(f"/pay/receipt/{paid.id}").data.startswith(b"%PDF")
    client.auth.login("bank_b_op")
    assert paid.order_number not in client.get("/pay/").get_data(as_text=True)


def test_one_personal_account_per_id_number(client, db):
    from tests.accounts_helpers import last_code
    from models import Operator
    taken = new_account(db, role="Public", id_number="11010519491231002X")
    phone = "13987650001"
    client.post("/accounts/register/", data={"phone": phone, "send_code": "1"})
    page = client.post("/accounts/register/", data={
        "phone": phone, "code": last_code(db, phone), "name": "周晓明", "id_number": taken.id_number,
        "password": "Public2026", "confirm": "Public2026", "accept_terms": "y", "submit": "1"}).get_data(as_text=True)
    assert "该身份证号已注册账户" in page
    db.session.expire_all()
    assert db.session.scalar(select(Operator).where(Operator.username == phone)) is None
