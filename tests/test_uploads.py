"""Institution registration (anonymous) checks its documents by content like case materials, caps
their size, stores them under generated names with the detected type, and deletes them a set time
after the registration is rejected."""
import datetime as dt
import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.demo import make_uscc
from app.services import registration_documents
from models import AuditLog, Institution, Operator
from tests.accounts_helpers import forget_request_globals

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200


@pytest.fixture(scope="module", autouse=True)
def _no_leftover_documents(app, fresh_database):
    """Institution ids restart with each module's database, DATA_DIR does not: clear other modules'
    registration documents so a new institution's folder holds only its own."""
    shutil.rmtree(Path(app.config["DATA_DIR"]) / "registrations", ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def registration(n, documents):
    return {"name": f"上传测试银行{n}", "kind": "bank", "uscc": make_uscc(f"91430104MA4L1{n:04d}"),
            "legal_person": "刘强", "legal_person_id_number": "110101199003074514", "contact_name": "刘强",
            "contact_phone": "13911112222", "address": "长沙市", "username": f"upload_admin{n}",
            "email": f"upload{n}@example.com", "admin_name": "刘强", "admin_phone": "13911112222",
            "password": "NewBank2026", "confirm": "NewBank2026", "accept_terms": "y",
            "documents": [(BytesIO(data), name) for name, data in documents]}


def register(client, n, documents):
    client.get("/logout/")
    return client.post("/accounts/register/institution/", data=registration(n, documents),
                       content_type="multipart/form-data")


def stored_everything(app):
    root = Path(app.config["DATA_DIR"]) / "registrations"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_program_renamed_pdf_is_refused_with_a_chinese_message_and_nothing_stored(app, client, db):
    before = stored_everything(app)
    r = register(client, 1, [("营业执照.pdf", EXE)])
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "营业执照.pdf 是可执行程序而不是文档，已拒绝上传" in page
    assert db.session.scalar(select(Institution).where(Institution.name == "上传测试银行1")) is None
    assert db.session.scalar(select(Operator).where(Operator.username == "upload_admin1")) is None
    assert stored_everything(app) == before


def test_content_must_be_of_the_named_type(client, db):
    page = register(client, 2, [("licence.pdf", JPEG)]).get_data(as_text=True)
    assert "licence.pdf：文件内容不是 .pdf 格式" in page
    assert db.session.scalar(select(Institution).where(Institution.name == "上传测试银行2")) is None


def test_a_document_over_the_size_cap_is_refused(app, client, db):
    app.config["REGISTRATION_MAX_MB"] = 1
    try:
        page = register(client, 3, [("licence.pdf", PDF + b"0" * (1024 * 1024))]).get_data(as_text=True)
    finally:
        app.config["REGISTRATION_MAX_MB"] = 10
    assert "licence.pdf 超过 1 MB" in page
    assert db.session.scalar(select(Institution).where(Institution.name == "上传测试银行3")) is None


def test_documents_are_stored_under_generated_names_with_the_detected_type(app, client, db):
    r = register(client, 4, [("营业执照.JPEG", JPEG), ("../../授权书.PDF", PDF)])
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    inst = db.session.scalar(select(Institution).where(Institution.name == "上传测试银行4"))
    names = registration_documents.listing(inst.id)
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["jpg", "pdf"]
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(jpg|pdf)", n) for n in names)
    folder = registration_documents.folder(inst.id)
    assert sorted(p.name for p in folder.iterdir()) == names  # no temporary file left behind
    assert sorted((folder / n).read_bytes() for n in names) == sorted([JPEG, PDF])


def _reject(client, db, n):
    register(client, n, [("licence.pdf", PDF + str(n).encode())])
    inst = db.session.scalar(select(Institution).where(Institution.name == f"上传测试银行{n}"))
    assert registration_documents.listing(inst.id)
    assert "/logout" in client.auth.login("reviewer").get_data(as_text=True)
    client.post(f"/registrations/{inst.id}/", data={"opinion": "材料不全", "reject": "1"})
    db.session.expire_all()
    assert db.session.get(Institution, inst.id).status == "rejected"
    return inst.id


def _age(db, inst_id, days):
    db.session.execute(update(Institution).where(Institution.id == inst_id).values(
        updated_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)))
    db.session.commit()


def test_documents_of_rejected_registrations_are_purged_after_the_set_time(app, client, db):
    rejected_long_ago, rejected_now = _reject(client, db, 5), _reject(client, db, 6)
    register(client, 7, [("licence.pdf", PDF + b"7")])
    pending_old = db.session.scalar(select(Institution.id).where(Institution.name == "上传测试银行7"))
    _age(db, rejected_long_ago, 31)
    _age(db, pending_old, 400)
    assert app.config["REJECTED_FILES_DAYS"] == 30
    result = app.test_cli_runner().invoke(args=["purge-rejected-files"])
    assert result.exit_code == 0 and "1 rejected" in result.output, result.output
    assert not registration_documents.folder(rejected_long_ago).exists()
    assert registration_documents.listing(rejected_now) and registration_documents.listing(pending_old)
    assert db.session.scalar(select(AuditLog.object_id).where(AuditLog.action == "purge_registration_files")) \
        == str(rejected_long_ago)
    assert app.test_cli_runner().invoke(args=["purge-rejected-files"]).output.startswith("documents of 0 ")


def test_a_rejection_in_the_review_purges_what_is_due(app, client, db):
    app.config["REJECTED_FILES_DAYS"] = 0
    try:
        inst_id = _reject(client, db, 8)
    finally:
        app.config["REJECTED_FILES_DAYS"] = 30
    assert registration_documents.listing(inst_id) == []
    assert client.get(f"/registrations/{inst_id}/").status_code == 200
