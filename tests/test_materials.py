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
