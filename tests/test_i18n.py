"""Chinese is the default; every string in the source has a Chinese translation; English is one click away."""
import pytest

from app import i18n

MENUS_ZH = {"bank_a_op": ["业务办公", "业务查询", "系统管理", "工作台"],
            "bank_a_admin": ["操作员管理", "审计日志", "机构信息"],
            "reviewer": ["不动产单元", "宗地", "抵押权"]}
MENUS_EN = {"bank_a_op": ["Business office", "Business query", "System management", "Workbench"]}


def test_every_source_string_has_a_chinese_translation():
    gaps = i18n.missing("zh")
    assert gaps == {}, "untranslated: " + "; ".join(f"{w} {m!r}" for m, w in list(gaps.items())[:20])


@pytest.mark.parametrize("username", sorted(MENUS_ZH))
def test_each_role_sees_its_menus_in_chinese_by_default(client, username):
    page = client.auth.login(username).get_data(as_text=True)
    for label in MENUS_ZH[username]:
        assert label in page


def test_switching_to_english_translates_the_menus(client):
    client.auth.login("bank_a_op")
    client.get("/lang/en")
    page = client.get("/").get_data(as_text=True)
    client.get("/lang/zh")
    for label in MENUS_EN["bank_a_op"]:
        assert label in page
    assert "业务办公" not in page


def test_operator_does_not_see_registry_menus(client):
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "/unitview/list/" not in page and "/parcelview/list/" not in page


def test_visitors_see_the_public_services_menu(client):
    client.post("/logout/")
    page = client.get("/").get_data(as_text=True)
    assert "办理进度查询" in page and "电子证照查验" in page
    assert "在线缴费" not in page and "/caseview/list/" not in page
