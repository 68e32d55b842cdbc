"""The printed application form and materials list: Chinese text embedded, user text escaped."""
import io

from pypdf import PdfReader

from app.services import pdf


def _summary(number="A1", obligee="张三丰"):
    return {"number": number, "business_name": "房屋抵押权首次登记", "date": "2026-11-24",
            "institution": "甲银行", "applicant": "bank_a_op",
            "case_fields": [{"label": "申请原因", "value": "贷款"}],
            "parties": [{"role": "抵押人", "name": obligee, "id_type": "身份证", "id_number": "11010519491231002X",
                         "share": None}],
            "units": [{"unit_code": "430102001001GB00001F00010001", "area": "89.50", "location": "长沙市某路1号",
                       "group": None, "fields": [{"label": "被担保主债权数额", "value": "10000.00",
                                                  "upper": "壹万元整"}]}],
            "materials": [{"name": "身份证明材料", "required": True, "files": [{"filename": "id.pdf", "pages": 2}]}]}


def _text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_application_form_embeds_the_chinese_font_and_names_the_party(app):
    with app.test_request_context():
        data = pdf.case_documents([_summary()])
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "张三丰" in text and "不动产登记申请书" in text and "壹万元整" in text
    # The WenQuanYi font travels inside the file (a CID font like STSong-Light would not).
    fonts = [f.get_object() for page in PdfReader(io.BytesIO(data)).pages
             for f in page["/Resources"]["/Font"].values()]
    assert any("WenQuanYi" in str(f.get("/BaseFont")) or "wqy" in str(f.get("/BaseFont")).lower() for f in fonts)
    assert b"/FontFile2" in data


def test_batch_print_puts_every_case_in_one_pdf(app):
    with app.test_request_context():
        data = pdf.case_documents([_summary("A1", "张三"), _summary("A2", "李四")])
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 4
    text = _text(data)
    assert "张三" in text and "李四" in text


def test_user_text_is_escaped_and_cannot_fetch_files(app):
    with app.test_request_context():
        data = pdf.case_documents([_summary(obligee='<img src="/etc/passwd">王五')])
    assert "王五" in _text(data)
