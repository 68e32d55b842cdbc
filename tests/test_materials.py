"""Material uploads: the rules' accepted types, content sniffing, size, duplicates, draft-only changes."""
from types import SimpleNamespace

import pytest

from app.services import materials

SPEC = SimpleNamespace(key="identity", name={"zh": "身份证明材料"}, accept=["pdf", "jpg", "png"], max_files=2)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_renamed_executable_is_refused(app):
    with app.test_request_context():
        with pytest.raises(materials.MaterialError, match="program|可执行程序"):
            materials.check_file(SPEC, "scan.pdf", b"MZ\x90\x00" + b"\x00" * 100)


def test_a_type_the_rules_do_not_accept_is_refused(app):
    with app.test_request_context():
        with pytest.raises(materials.MaterialError, match=r"\.docx"):
            materials.check_file(SPEC, "contract.docx", b"PK\x03\x04rest")


def test_content_must_match_the_extension(app):
    with app.test_request_context():
        with pytest.raises(materials.MaterialError):
            materials.check_file(SPEC, "photo.png", PDF)
        assert materials.check_file(SPEC, "photo.png", PNG) == "png"
        assert materials.check_file(SPEC, "scan.PDF", PDF) == "pdf"


def test_size_limit(app):
    with app.test_request_context():
        with pytest.raises(materials.MaterialError, match="MB"):
            materials.check_file(SPEC, "big.pdf", PDF + b"0" * (2 * 1024 * 1024), max_bytes=1024 * 1024)


def _draft_case(client):
    from app import rulebook

    from .test_desk import apply_through_views
    return rulebook.get("mortgage_first"), apply_through_views(client, rulebook.get("mortgage_first"))[1]


def test_duplicate_upload_is_detected_by_hash_through_the_desk(client, db):
    import io

    from app.extensions import db as _db
    from models import Case
    business, case = _draft_case(client)
    existing = case.materials[0]
    data = materials.file_path(existing).read_bytes()
    r = client.post(f"/desk/case/{case.id}/materials", data={
        "material_key": business.materials[-1].key, "files": (io.BytesIO(data), "again.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert existing.filename in r.get_data(as_text=True)
    _db.session.expire_all()
    assert len(_db.session.get(Case, case.id).materials) == len(case.materials)


def test_materials_can_be_replaced_in_a_draft_but_not_after_submission(client, db):
    import io

    from app.extensions import db as _db
    from models import Case

    from .test_desk import submit, tiny_pdf
    business, case = _draft_case(client)
    first = case.materials[0]
    first_id, first_key = first.id, first.material_key
    r = client.post(f"/desk/case/{case.id}/materials", data={
        "material_key": first_key, "replace_id": str(first_id),
        "files": (io.BytesIO(tiny_pdf("replacement")), "new.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 302
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert "new.pdf" in [m.filename for m in case.materials] and first_id not in [m.id for m in case.materials]
    preview = client.get(f"/desk/case/{case.id}/materials/{case.materials[-1].id}")
    assert preview.status_code == 200 and preview.headers["X-Content-Type-Options"] == "nosniff"
    submit(client, case)
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    count = len(case.materials)
    client.post(f"/desk/case/{case.id}/materials/{case.materials[0].id}/delete")
    _db.session.expire_all()
    assert len(_db.session.get(Case, case.id).materials) == count


def test_menus_offer_apply_office_and_review(client, db):
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "业务申请" in page and "待办" in page and "登记审核" not in page
    page = client.auth.login("reviewer").get_data(as_text=True)
    assert "登记审核" in page
