"""A bank's list of its proofs (他项权证 / 不动产登记证明): only its own, searchable by number, location
and the names on them, exportable to Excel as plain text cells."""
import io
import re
import secrets

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import CaseParty, CaseUnit, Certificate, Unit
from tests import factories

FORMULA = '=HYPERLINK("http://evil.example/","点我")'


def login(client, username):
    page = client.auth.login(username).get_data(as_text=True)
    assert "/logout" in page, f"{username} could not sign in"
    return page


def _proof(db, username, unit, number, mortgagor, kind="proof"):
    case = factories.case(db, username, node="issued")
    db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
    db.session.add(CaseParty(case_id=case.id, role="mortgagor", name=mortgagor, id_type="1",
                             id_number="11010519491231002X"))
    inst = factories.institution(db, "bank_a" if username.startswith("bank_a") else "bank_b")
    cert = Certificate(number=number, kind=kind, token=secrets.token_urlsafe(24), unit_id=unit.id, case_id=case.id,
                       institution_id=case.institution_id, holder_names=inst.name,
                       content={"location": unit.location})
    db.session.add(cert)
    db.session.commit()
    return cert


@pytest.fixture(scope="module")
def proofs(app):
    from app.extensions import db
    with app.app_context():
        units = db.session.scalars(select(Unit).order_by(Unit.id.desc()).limit(3)).all()
        out = {
            "mine": _proof(db, "bank_a_op", units[0], "湘(2026)长沙市不动产证明第9100001号", "欧阳晓岚"),
            "other_mine": _proof(db, "bank_a_op", units[1], "湘(2026)长沙市不动产证明第9100002号", FORMULA),
            "theirs": _proof(db, "bank_b_op", units[2], "湘(2026)长沙市不动产证明第9100003号", "司马青衫"),
        }
        return {k: {"id": c.id, "number": c.number, "location": c.unit.location, "code": c.token[:8]}
                for k, c in out.items()}


def _listed(html):
    return set(re.findall(r'<tr class="proof-row" data-number="([^"]+)">', html))


def test_the_bank_menu_leads_to_its_proof_list(client, proofs):
    home = login(client, "bank_a_op")
    assert 'href="/proofs/"' in home and "证书/证明" in home
    html = client.get("/proofs/").get_data(as_text=True)
    listed = _listed(html)
    assert {proofs["mine"]["number"], proofs["other_mine"]["number"]} <= listed
    assert proofs["theirs"]["number"] not in html and "司马青衫" not in html
    row = re.search(rf'data-number="{re.escape(proofs["mine"]["number"])}">(.*?)</tr>', html, re.S).group(1)
    assert "欧阳晓岚" in row and proofs["mine"]["code"] in row and f'href="/proofs/{proofs["mine"]["id"]}/pdf"' in row


@pytest.mark.parametrize("typed, expected", [
    ("第9100001号", "mine"),
    ("湘（2026）长沙市不动产证明第 9100001 号", "mine"),  # full-width brackets and spaces, as people type them
    ("欧阳晓岚", "mine"),
    ("晓岚", "mine"),
])
def test_the_list_searches_by_number_and_mortgagor_name(client, proofs, typed, expected):
    login(client, "bank_a_op")
    listed = _listed(client.get("/proofs/", query_string={"q": typed}).get_data(as_text=True))
    assert listed == {proofs[expected]["number"]}


def test_the_list_searches_by_location(client, proofs):
    login(client, "bank_a_op")
    listed = _listed(client.get("/proofs/", query_string={"q": proofs["mine"]["location"]}).get_data(as_text=True))
    assert proofs["mine"]["number"] in listed and proofs["other_mine"]["number"] not in listed


def test_a_search_for_another_banks_proof_finds_nothing(client, proofs):
    login(client, "bank_a_op")
    for typed in (proofs["theirs"]["number"], "司马青衫"):
        html = client.get("/proofs/", query_string={"q": typed}).get_data(as_text=True)
        assert _listed(html) == set() and "司马青衫" not in html.split('id="proof-list"')[1]


def test_wildcards_in_the_search_are_plain_text(client, proofs):
    login(client, "bank_a_op")
    assert _listed(client.get("/proofs/", query_string={"q": "%"}).get_data(as_text=True)) == set()
    assert _listed(client.get("/proofs/", query_string={"q": "_"}).get_data(as_text=True)) == set()


def test_the_export_holds_the_searched_rows_as_plain_text(client, proofs):
    login(client, "bank_a_op")
    r = client.get("/proofs/export.xlsx", query_string={"q": "第910000"})
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = rows[0]
    assert header[:3] == ["编号", "类型", "核验码"] and "抵押人/义务人" in header and "坐落" in header
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {proofs["mine"]["number"], proofs["other_mine"]["number"]}
    formula_row = next(row for row in ws.iter_rows(min_row=2) if row[0].value == proofs["other_mine"]["number"])
    cell = formula_row[header.index("抵押人/义务人")]
    assert cell.value == FORMULA and cell.data_type == "s", "a typed formula must stay text"
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row)
    assert {row[1] for row in rows[1:]} == {"不动产登记证明"}


def test_the_export_of_another_bank_holds_none_of_mine(client, proofs):
    login(client, "bank_b_op")
    ws = load_workbook(io.BytesIO(client.get("/proofs/export.xlsx").data)).active
    numbers = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert proofs["theirs"]["number"] in numbers
    assert not numbers & {proofs["mine"]["number"], proofs["other_mine"]["number"]}


def test_the_public_user_has_no_proof_list(client, proofs):
    login(client, "public")
    assert client.get("/proofs/").status_code in (302, 403)
    assert client.get("/proofs/export.xlsx").status_code in (302, 403)
