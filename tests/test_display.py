"""The display layer (app/display.py and its wiring in views/base.py): every value reads as words,
on FAB's lists and show pages, in Chinese by default."""
import datetime as dt
import re
from decimal import Decimal

import pytest

from app import display


@pytest.mark.parametrize("value, column, expected", [
    (None, None, ""), ("", None, ""), (True, None, "是"), (False, None, "否"),
    (dt.datetime(2026, 12, 2, 9, 30, 15, 123456), None, "2026-12-02 09:30"), (dt.date(2026, 1, 5), None, "2026-01-05"),
    (Decimal("1250000"), "secured_amount", "1,250,000.00"), (Decimal("99.5"), "amount", "99.50"),
    (Decimal("120.50"), "area", "120.5"), (Decimal("1.0000"), "share", "1"), (7, "floor", "7"),
    (1250000, "maximum_amount", "1,250,000.00"),
    ([True, None, "甲"], None, "是、甲"),
])
def test_values_read_as_words(app, value, column, expected):
    with app.test_request_context():
        assert str(display.value(value, column)) == expected


def test_a_related_row_without_a_name_of_its_own_reads_as_its_party(app):
    class Holder:  # like models.RightHolder: no __str__, a party
        def __init__(self, party):
            self.party = party

    class Party:
        def __str__(self):
            return "陈晓东（430104199001011234）"

    with app.test_request_context():
        assert display.value([Holder(Party()), Holder(Party())]) == "陈晓东（430104199001011234）、陈晓东（430104199001011234）"
        assert "object at 0x" not in display.value(object())


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_show_pages_name_related_rows_and_never_print_reprs_or_microseconds(client):
    client.auth.login("admin")
    right = _page(client, "/rightview/show/2")
    building = _page(client, "/buildingview/show/1")
    for page in (right, building):
        assert "object at 0x" not in page and not re.search(r"\d\d:\d\d:\d\d\.\d{6}", page)
        assert not re.search(r">\s*(None|True|False)\s*<", page)
    assert "（" in right  # a holder: 姓名（证件号）
    assert "GB" in building  # the units by their unit codes


def test_titles_buttons_and_labels_are_chinese(client):
    client.auth.login("admin")
    cases = _page(client, "/caseview/list/")
    assert "List Case" not in cases and "案卷" in cases
    mortgage = _page(client, "/mortgageview/show/1")
    assert "Show Mortgage" not in mortgage and "抵押权详情" in mortgage
    assert "Cancel" not in mortgage and "取消" in mortgage
    edit = _page(client, "/institutionview/edit/1")
    assert "Edit Institution" not in edit and "编辑" in edit
    users = _page(client, "/users/list/")
    assert "InstitutionOperator" not in users and "机构操作员" in users


def test_the_operator_list_delete_says_it_removes_from_the_institution(client):
    client.auth.login("bank_a_admin")
    page = _page(client, "/operatorview/list/")
    assert "确定将该操作员移出本机构吗" in page and "移出本机构" in page
    assert "确定要删除这条记录吗" not in page


def test_the_audit_log_shows_actions_and_objects_in_words(client):
    client.auth.login("admin")
    page = _page(client, "/auditlogview/list/")
    assert "登录" in page and 'data-label="操作">login<' not in page
    assert 'data-label="对象">Operator<' not in page
