"""What every page pays before its own work, made cheap without changing what it shows or allows:
the navbar's menu rendered once per roles and language (app/menu_cache.py), the request's
translations looked up once (app/translations_memo.py), the signed-in user read with its roles in
one statement (app/security.py load_user). Speed is measured by bench/load.py, not here."""
import re

from flask_babel import force_locale, gettext, refresh
from sqlalchemy import event

from app import menu_cache


def _menu(page):
    """The navbar's menu entries (the left-hand list) of a page."""
    found = re.search(r'<ul class="nav navbar-nav">(.*?)</ul>\s*<ul class="nav navbar-nav navbar-right">', page, re.S)
    assert found, "no navbar menu on the page"
    return found.group(1)


def _fresh_menu(app, client, url):
    """The menu as FAB renders it without the cache, for the client's current user and language."""
    cache = app.extensions["registry_menu"]
    saved = dict(cache)
    cache.clear()
    original = menu_cache._key
    menu_cache._key = lambda sm: None  # nothing cached, nothing read from the cache
    try:
        return _menu(client.get(url).get_data(as_text=True))
    finally:
        menu_cache._key = original
        cache.update(saved)


def test_the_cached_menu_is_the_menu_fab_renders_for_each_role_and_language(app, client):
    menus = {}
    for user in ("bank_a_op", "reviewer", "configurator"):
        client.auth.login(user)
        for lang in ("zh", "en"):
            assert client.get(f"/lang/{lang}").status_code in (200, 302)
            first, second = (_menu(client.get("/").get_data(as_text=True)) for _ in range(2))
            assert first == second == _fresh_menu(app, client, "/"), (user, lang)
            menus[user, lang] = first
        client.get("/lang/zh")
    assert "业务办公" in menus["bank_a_op", "zh"] and "Business office" in menus["bank_a_op", "en"]
    assert "/desk/apply/" in menus["bank_a_op", "zh"] and "/desk/apply/" not in menus["reviewer", "zh"]
    assert "/unitview/list/" in menus["reviewer", "zh"] and "/unitview/list/" not in menus["bank_a_op", "zh"]
    assert len(set(menus.values())) == len(menus)  # each role and language its own menu
    keys = set(app.extensions["registry_menu"])
    assert {(("InstitutionOperator",), "zh"), (("RegistryReviewer",), "en")} <= {(k[0], k[1]) for k in keys}


def test_visitors_get_the_public_menu_from_the_cache_too(app, client):
    client.auth.logout()
    page = client.get("/").get_data(as_text=True)
    assert "办理进度查询" in _menu(page) and "/caseview/list/" not in page
    assert _menu(client.get("/").get_data(as_text=True)) == _fresh_menu(app, client, "/")
    assert any(k[0] == ("Anonymous",) for k in app.extensions["registry_menu"])


def test_a_role_kept_in_the_database_gets_its_menu_rendered_afresh(app, client):
    """FAB's Admin keeps its permissions in the database (editable while running, on any instance):
    never cached."""
    client.auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert "/users/list/" in _menu(page) or "/operatoradminview/list/" in _menu(page)
    assert not any("Admin" in k[0] for k in app.extensions["registry_menu"])


def test_translations_follow_the_language_within_a_request(app):
    with app.test_request_context("/"):
        assert gettext("Search") == "查询"
        with force_locale("en"):
            assert gettext("Search") == "Search"
        assert gettext("Search") == "查询"
        from flask import session
        session["locale"] = "en"
        refresh()
        assert gettext("Search") == "Search"


def test_the_signed_in_user_and_roles_cost_one_statement(app, client):
    from app.extensions import db
    client.auth.login("bank_a_op")
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/caseview/list/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    security = [s for s in statements if re.search(r"\bFROM\s+ab_(user|role|group|user_role|user_group)\b", s)]
    assert len(security) == 1, security
