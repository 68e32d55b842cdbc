"""Certificates and proofs in the national layout, the 宗地图 / 分户图 drawn from the register's geometry,
the JPG download, and the 申请书 whose text never runs over another box (pdftotext -bbox)."""
import io
import re
import secrets
import shutil
import subprocess
from decimal import Decimal
from itertools import combinations

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from app.services.money import to_chinese_upper
from models import AuditLog, CaseParty, CaseUnit, Certificate, Mortgage, Parcel, PreNotice, Right, Unit
from tests import factories

LONG_BANK = "中国农业发展银行湖南省分行营业部长沙市岳麓区麓山南路支行第二营业室（普惠金融事业部）"


def _tool(name):
    path = shutil.which(name)
    assert path, f"{name} (poppler-utils) is required by these tests and is missing"  # fail, never skip
    return path


def _text(data: bytes, page=None, raw=False) -> str:
    """The text of a PDF: by layout, or (raw) in the order it was drawn, so a cell's wrapped lines stay together."""
    args = [_tool("pdftotext"), "-raw" if raw else "-layout"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(args + ["-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _words(data: bytes):
    """Every word box of every page: (page, xMin, yMin, xMax, yMax, word)."""
    html = subprocess.run([_tool("pdftotext"), "-bbox", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    out = []
    for page_no, page in enumerate(html.split("<page ")[1:], start=1):
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page):
            out.append((page_no, *map(float, m.groups()[:4]), m.group(5)))
    return out


def overlaps(words, tolerance=0.3):
    """Pairs of word boxes on one page that overlap (by more than `tolerance` points each way)."""
    found = []
    for a, b in combinations(words, 2):
        if a[0] != b[0]:
            continue
        if min(a[3], b[3]) - max(a[1], b[1]) > tolerance and min(a[4], b[4]) - max(a[2], b[2]) > tolerance:
            found.append((a[5], b[5]))
    return found


def _certificate(db, record, kind, number):
    cert = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if cert is None:
        cert = Certificate(number=number, kind=kind, token=secrets.token_urlsafe(24), unit_id=record.unit_id,
                           institution_id=getattr(record, "institution_id", None), holder_names="—", content={})
        db.session.add(cert)
        db.session.commit()
    return cert


@pytest.fixture
def owned(db):
    """A current ownership on the first demo parcel with two holders by shares, and its certificate."""
    right = db.session.scalar(select(Right).where(Right.status == "current", Right.share_mode == "2")
                              .join(Unit).where(Unit.unit_code.startswith("430104001001GB00001")).limit(1))
    return right, _certificate(db, right, "certificate", right.certificate_number)


def test_the_certificate_has_a_cover_a_rights_page_and_both_plans(client, owned):
    right, cert = owned
    data = client.get(f"/public/certificate/{cert.token}/pdf").data
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 3
    cover = _text(data, 1)
    assert "不动产权证书" in cover and cert.number in cover.replace(" ", "") and cert.token[:8] in cover
    rights = _text(data, 2)
    unit = right.unit
    for label in ("权利人", "共有情况", "坐落", "不动产单元号", "权利类型", "权利性质", "用途", "面积", "使用期限",
                  "权利其他状况", "附记"):
        assert label in rights, label
    flat = re.sub(r"\s+", "", rights)
    for holder in right.holders:
        assert holder.party.name in flat
    assert "按份共有" in flat and "50%" in flat
    assert unit.location in flat and unit.unit_code in flat
    assert "国有建设用地使用权/房屋所有权" in flat and "出让/市场化商品房" in flat and "城镇住宅用地/住宅" in flat
    assert "2073年12月31日" in flat and f"{unit.floor}/{unit.building.floors}" in flat
    parcel_page, unit_page = _text(data, 3), _text(data, 4)
    # 宗地图: the demo parcel 1 is 120 m × 100 m, parcel 2 touches it on the east; scale and north arrow.
    assert "宗地图" in parcel_page and "120.00" in parcel_page and "100.00" in parcel_page
    assert "430104001001GB00002" in parcel_page and "430104001001GB00003" not in parcel_page
    assert re.search(r"比例尺\s*1:\d+", parcel_page) and "北" in parcel_page
    # 分户图: the unit's own edges (its width is its area over the 10 m depth) and its floor's other rooms.
    assert "分户图" in unit_page and f"{unit.area / 10:.2f}" in unit_page and "10.00" in unit_page
    others = {u.room for u in unit.building.units if u.floor == unit.floor and u.id != unit.id}
    assert others and all(f"{room}室" in unit_page for room in others)
    for page in pages[2:4]:  # drawn with paths (moves, lines, fills), not a pasted picture
        ops = page.get_contents().get_data()
        assert len(re.findall(rb"[\d.]+ [\d.]+ l\b", ops)) >= 8 and b" m " in ops and b"/Im" not in ops


def test_a_unit_without_geometry_gets_a_clear_plan_to_be_supplied(client, db, owned):
    right, cert = owned
    unit = db.session.get(Unit, right.unit_id)
    saved, unit.geometry = unit.geometry, None
    db.session.commit()
    try:
        data = client.get(f"/public/certificate/{cert.token}/pdf").data
    finally:
        unit.geometry = saved
        db.session.commit()
    page = _text(data, 4)
    assert "分户图" in page and "附图待补" in page and "登记簿中没有该户的轮廓" in page


def test_the_mortgage_proof_names_the_obligor_the_amount_in_words_and_the_term(client, db):
    mortgage = db.session.scalar(select(Mortgage).where(Mortgage.status == "current", Mortgage.kind == "1").limit(1))
    cert = _certificate(db, mortgage, "proof", mortgage.proof_number)
    data = client.get(f"/public/certificate/{cert.token}/pdf").data
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2
    flat = re.sub(r"\s+", "", _text(data))
    mortgagor = next(p.party.name for p in mortgage.parties if p.role == "mortgagor")
    assert "不动产登记证明" in flat and "证明权利或事项抵押权" in flat
    assert "权利人" in flat and mortgage.mortgagee_name in flat
    assert f"义务人{mortgagor}" in flat
    assert f"{mortgage.secured_amount:,.2f}元（{to_chinese_upper(mortgage.secured_amount)}）" in flat
    assert "债务履行期限" in flat and "2024年03月01日起2044年02月28日止" in flat
    assert "附记" in flat and "担保范围" in flat and "最高债权额" not in flat
    assert mortgage.unit.unit_code in flat and mortgage.unit.location in flat


def test_a_maximum_amount_mortgage_proof_prints_the_maximum_and_the_period(client, db):
    mortgage = db.session.scalar(select(Mortgage).where(Mortgage.status == "current").order_by(Mortgage.id.desc()))
    mortgage.kind, mortgage.maximum_amount, mortgage.secured_amount = "2", Decimal("1500000.50"), None
    db.session.commit()
    cert = _certificate(db, mortgage, "proof", mortgage.proof_number)
    flat = re.sub(r"\s+", "", _text(client.get(f"/public/certificate/{cert.token}/pdf").data))
    assert "最高额抵押权" in flat and "1,500,000.50元（壹佰伍拾万元伍角）" in flat and "债权确定期间" in flat


def test_the_pre_notice_proof_names_buyer_and_developer(client, db):
    notice = db.session.scalar(select(PreNotice).where(PreNotice.kind == "1").limit(1))
    cert = _certificate(db, notice, "proof", notice.proof_number)
    flat = re.sub(r"\s+", "", _text(client.get(f"/public/certificate/{cert.token}/pdf").data))
    assert "预售商品房买卖预告登记" in flat and "义务人湖南麓谷置业有限公司" in flat
    assert to_chinese_upper(notice.amount) in flat


def test_the_jpg_download_is_the_document_as_one_image_and_is_audited(client, db, owned):
    _right, cert = owned
    before = db.session.query(AuditLog).filter(AuditLog.action == "download_certificate").count()
    r = client.get(f"/public/certificate/{cert.token}/jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:3] == b"\xff\xd8\xff"
    assert f"{cert.number}.jpg" in r.headers["Content-Disposition"].replace("%28", "(").replace("%29", ")") or \
        ".jpg" in r.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(r.data))
    assert image.height > 3 * image.width  # four A4 pages, top to bottom
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "download_certificate")
                                 .order_by(AuditLog.id.desc())).all()
    assert len(entries) == before + 1 and entries[0].summary == "JPG" and entries[0].object_id == str(cert.id)


def test_a_bank_downloads_its_own_proof_as_jpg_but_not_another_banks(client, db):
    mine = db.session.scalar(select(Mortgage).where(Mortgage.mortgagee_name.like("中国建设银行%")).limit(1))
    theirs = db.session.scalar(select(Mortgage).where(Mortgage.mortgagee_name.like("中国工商银行%")).limit(1))
    mine_cert = _certificate(db, mine, "proof", mine.proof_number)
    theirs_cert = _certificate(db, theirs, "proof", theirs.proof_number)
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "/logout" in page
    ok = client.get(f"/proofs/{mine_cert.id}/jpg")
    assert ok.status_code == 200 and ok.mimetype == "image/jpeg"
    assert client.get(f"/proofs/{theirs_cert.id}/jpg").status_code == 404
    assert client.get(f"/proofs/{theirs_cert.id}/pdf").status_code == 404
    listed = client.get("/proofs/", query_string={"q": mine_cert.number}).get_data(as_text=True)
    assert f'href="/proofs/{mine_cert.id}/jpg"' in listed


# ---- geometry on the register's edit forms -------------------------------------------------------

def test_the_registry_edits_a_parcel_boundary_and_bad_geometry_is_refused(client, db):
    page = client.auth.login("admin").get_data(as_text=True)
    assert "/logout" in page
    parcel = db.session.scalar(select(Parcel).order_by(Parcel.id.desc()).limit(1))
    form = {"code": parcel.code, "location": parcel.location, "area": str(parcel.area), "land_use": parcel.land_use,
            "right_nature": "出让", "term_start": "2004-01-01", "term_end": "2073-12-31"}
    for bad, message in (("[[0,0],[10,0],[10,10]]", "闭合"), ('{"type":"Point","coordinates":[1,2]}', "Polygon"),
                         ("[[0,0],[10,10],[10,0],[0,10],[0,0]]", "自相交"), ("not json", "GeoJSON")):
        r = client.post(f"/parcelview/edit/{parcel.id}", data={**form, "geometry": bad})
        assert r.status_code == 200 and message in r.get_data(as_text=True), bad
        db.session.expire_all()
        assert db.session.get(Parcel, parcel.id).geometry != bad
    good = '{"type": "Polygon", "coordinates": [[[320, 0], [620, 0], [620, 120], [320, 120], [320, 0]]]}'
    backwards = client.post(f"/parcelview/edit/{parcel.id}", data={**form, "geometry": good, "term_end": "2003-12-31"},
                            follow_redirects=True)
    assert "结束日期必须晚于开始日期" in backwards.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Parcel, parcel.id).term_end.year == 2073
    r = client.post(f"/parcelview/edit/{parcel.id}", data={**form, "geometry": good})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Parcel, parcel.id).geometry == \
        '{"type":"Polygon","coordinates":[[[320.0,0.0],[620.0,0.0],[620.0,120.0],[320.0,120.0],[320.0,0.0]]]}'


# ---- the 申请书 -----------------------------------------------------------------------------------

def _case(db, business_key, username, unit, parties, form_data=None, unit_data=None):
    case = factories.case(db, username, business_key=business_key)
    case.form_data = form_data or {}
    cu = CaseUnit(case_id=case.id, unit_id=unit.id, data=unit_data or {})
    db.session.add(cu)
    for role, name, id_number in parties:
        db.session.add(CaseParty(case_id=case.id, role=role, name=name, id_type="8" if len(id_number) == 18
                                 and not id_number[:6].isdigit() else "1", id_number=id_number,
                                 phone="13800000000"))
    db.session.commit()
    return case


@pytest.fixture
def printed_cases(db):
    from app import rulebook
    from views import desk_common as dc
    mortgaged = db.session.scalar(select(Mortgage).where(Mortgage.status == "current").limit(1))
    owned = db.session.scalar(select(Right).where(Right.status == "current", Right.unit_id != mortgaged.unit_id)
                              .limit(1))
    presale = db.session.scalar(select(Unit).where(Unit.unit_code.startswith("430104001001GB00003"))
                                .order_by(Unit.id.desc()).limit(1))
    holder = owned.holders[0].party
    cases = [
        _case(db, "mortgage_first", "bank_a_op", owned.unit,
              [("mortgagee", LONG_BANK, "91430104MA4L000011"), ("mortgagor", holder.name, holder.id_number),
               ("debtor", "欧阳长青司马东方", "11010519491231002X")],
              {"apply_reason": "housing_loan", "loan_type": "commercial", "contract_number": "JH-2026-" + "0" * 30},
              {"mortgage_kind": "1", "secured_amount": "1234567.89", "collateral_value": "2000000.00",
               "term_start": "2026-01-01", "term_end": "2046-01-01", "guarantee_scope": "主债权及利息" * 8}),
        _case(db, "second_hand_transfer", "bank_a_op", owned.unit,
              [("obligee", "欧阳长青", "11010519491231002X"), ("obligor", holder.name, holder.id_number)]),
        _case(db, "purchase_pre_notice", "dev_op", presale,
              [("obligee", "司马东方", "11010519491231002X"),
               ("obligor", "湖南麓谷置业有限公司长沙岳麓区桐梓坡路项目开发建设指挥部", "91430104MA4L000038")]),
        _case(db, "mortgage_cancel", "bank_a_op", mortgaged.unit,
              [("mortgagee", LONG_BANK, "91430104MA4L000011"), ("mortgagor", "张三", "11010519491231002X")]),
    ]
    return [(c, dc.case_summary(c, rulebook.get(c.business_key)), u)
            for c, u in zip(cases, (owned, owned, None, mortgaged))]


def test_the_application_form_is_the_standard_layout_with_no_overlapping_text(app, printed_cases):
    from app.services import pdf
    for case, summary, record in printed_cases:
        with app.test_request_context():
            data = pdf.case_documents([summary], documents=("application",))
        words = _words(data)
        assert words, "no text extracted"
        assert overlaps(words) == [], (case.business_key, overlaps(words)[:5])
        flat = re.sub(r"\s+", "", _text(data, raw=True))
        for block in ("不动产登记申请书", "申请登记事项", "申请人情况", "权利人", "义务人", "不动产情况", "抵押情况",
                      "登记原因及证明", "申请人签章"):
            assert block in flat, (case.business_key, block)
        assert case.units[0].unit.unit_code in flat
        assert case.applicant.get_full_name() in flat  # the 经办人 by full name
        number = getattr(record, "certificate_number", None) or getattr(record, "proof_number", None)
        if number:
            assert number in flat, case.business_key  # the looked-up 不动产权证号 / 证明号
    mortgage_first = re.sub(r"\s+", "", _text(pdf_of(app, printed_cases[0][1]), raw=True))
    assert LONG_BANK in mortgage_first and "1234567.89（壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分）" in mortgage_first
    assert "陈晓东" in mortgage_first


def pdf_of(app, summary):
    from app.services import pdf
    with app.test_request_context():
        return pdf.case_documents([summary], documents=("application",))


def test_the_overlap_check_catches_text_running_into_the_next_cell():
    words = [(1, 100, 100, 300, 110, "中国农业发展银行湖南省分行营业部"), (1, 270, 100, 300, 110, "面积"),
             (1, 100, 120, 150, 130, "坐落"), (2, 270, 100, 300, 110, "面积")]
    assert overlaps(words) == [("中国农业发展银行湖南省分行营业部", "面积")]


def test_the_unit_edit_form_carries_its_outline(client, db):
    page = client.auth.login("admin").get_data(as_text=True)
    assert "/logout" in page
    unit = db.session.scalar(select(Unit).where(Unit.geometry.is_not(None)).limit(1))
    form = client.get(f"/unitview/edit/{unit.id}").get_data(as_text=True)
    assert 'name="geometry"' in form and "空间范围（GeoJSON）" in form
    assert unit.geometry.replace('"', "&#34;") in form or unit.geometry.replace('"', "&quot;") in form


@pytest.mark.parametrize("typed", [
    "[[0,0],[10,0],[10,10],[0,10],[0,0]]",
    '{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}}',
    '{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}',
])
def test_a_polygon_is_stored_in_one_canonical_form(typed):
    from app.services import plans
    assert plans.parse(typed) == '{"type":"Polygon","coordinates":[[[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,10.0],[0.0,0.0]]]}'
    assert plans.parse("  ") is None


@pytest.mark.parametrize("typed", [
    "[[0,0],[10,0],[NaN,10],[0,10],[0,0]]", "[[0,0],[10,0],[true,10],[0,10],[0,0]]", '[[0,0],[10,0],["1",10],[0,0]]',
    "[[0,0],[10,0],[20,0],[0,0]]", "[[0,0],[10,0],[10,10],[10,0],[0,0]]",
    '{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}',
    "[" + ",".join(f"[{i},{i * i}]" for i in range(300)) + ",[0,0]]", "[[1e9,0],[10,0],[10,10],[1e9,0]]",
])
def test_bad_polygons_are_refused_with_a_reason(app, typed):
    from app.services import plans
    from app.validators import ValidationFailed
    with app.test_request_context(), pytest.raises(ValidationFailed) as refused:
        plans.parse(typed)
    assert str(refused.value)
