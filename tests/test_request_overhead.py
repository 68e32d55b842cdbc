"""What every page pays before its own work, made cheap without changing what it shows or allows:
the navbar's menu rendered once per roles and language (app/menu_cache.py), the request's
translations looked up once (app/translations_memo.py), the signed-in user read with its roles in
one statement (app/security.py load_user), the session cookie signed again only when it changed or
is a minute old, the user's 列设置 read once per (user, stamp), one scope criterion for every Scoped
model. Speed is measured by bench/load.py, not here."""
import re

from flask_babel import force_locale, gettext, refresh
from sqlalchemy import delete, event, select, update

from app import menu_cache
from app.security import SESSION_USER_COLUMNS
from models import SCOPED_MODELS, ListSetting, Operator
from models.base import Scoped
from tests import factories


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
    menu_cache._key = lambda *args: None  # nothing cached, nothing read from the cache
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
    # only what every page needs of the user: not the password hash, e-mail or login counts
    read = set(re.findall(r"\bab_user\.(\w+)", security[0].split(" FROM ")[0]))
    assert read == set(SESSION_USER_COLUMNS), read


def _list_parts(page):
    """What a list page shows, markup aside: its search form's filters (labels, fields, filter names,
    active filters; FAB passes them to its script inline, we in a JSON block) and its table (the header's
    labels and sort links, each row's buttons and cells, rows in any order: ties in the order)."""
    import html
    import json
    page = re.sub(r'nonce="[^"]*"', "", page)
    inline = re.search(r"new AdminFilters\(\s*'#filter_form',(.*?)\);\s*\}\)\(jQuery\)", page, re.S)
    if inline:
        search = json.loads(f"[{inline.group(1)}]")
    else:
        data = json.loads(re.search(r'<script type="application/json" id="list-search-data">(.*?)</script>',
                                    page, re.S).group(1))
        search = [data["labels"], data["fields"], data["filters"], data["active"]]
    menu = re.findall(r'<a href="#" name="([^"]+)" class="filter">\s*([^<]+?)\s*</a>', page)
    button = re.search(r'<button type="submit" class="btn\s+btn-sm btn-primary">\s*(\S+)', page).group(1)
    table = re.search(r'<table class="table table-bordered table-hover[^"]*">(.*?)</table>', page, re.S).group(1)
    table = html.unescape(re.sub(r"\s+", " ", re.sub(r">\s+<", "><", table)))
    header = [(m[1].strip() or m[2].strip(), m[0])
              for m in re.findall(r'<th>(?:<a href="?([^" >]+)"?>([^<]+)<i[^>]*></i></a>|([^<]+))</th>', table)]
    rows = sorted(re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[-1]))
    return (search, menu, button), (header, rows)


def _fab_rendering(app, client, url):
    """The list page as FAB renders it: its own search widget, list and list widget (page numbers,
    values through the template)."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.widgets import ListWidget, SearchWidget

    from views.base import RegistryModelView
    views = [v for v in app.appbuilder.baseviews if isinstance(v, RegistryModelView)]
    saved = [(v, v.search_widget, v.list_widget) for v in views]
    for v in views:
        v.search_widget, v.list_widget = SearchWidget, ListWidget
        v._get_list_widget = ModelView._get_list_widget.__get__(v)
    try:
        return _list_parts(client.get(url).get_data(as_text=True))
    finally:
        for v, search, lst in saved:
            v.search_widget, v.list_widget = search, lst
            del v._get_list_widget


def test_lists_render_as_fab_renders_them_in_each_language(app, client):
    """The search form's parts kept per (view, language) and the cells worked out in Python
    (views/base.py) give the page FAB's widgets give, filters, yes/no words, formatters and row
    buttons included."""
    import datetime as dt

    from sqlalchemy import insert, select

    from app import rulebook
    from app.extensions import db
    from models import Case, Operator
    with app.app_context():
        op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
        now = dt.datetime(2026, 12, 1, 9, 30)
        db.session.execute(insert(Case), [dict(
            number=f"OVH{i:04d}", business_key="mortgage_first", rules_version_id=rulebook.get("mortgage_first").version_id,
            institution_id=op.institution_id, applicant_id=op.id, executor_id=op.id, node="draft", form_data={},
            version=1, created_at=now, updated_at=now, submitted_at=now if i % 2 else None) for i in range(3)])
        db.session.commit()
    for user, url, shown in (("bank_a_op", "/caseview/list/?_flt_0_number=OVH", "/caseview/show/"),
                             ("reviewer", "/unitview/list/?_flt_2_location=1", "/unitview/edit/")):
        client.auth.login(user)
        for lang in ("zh", "en"):
            assert client.get(f"/lang/{lang}").status_code in (200, 302)
            first, second = (_list_parts(client.get(url).get_data(as_text=True)) for _ in range(2))
            assert first == second == _fab_rendering(app, client, url), (user, lang)
            (_filters, _menu, button), (header, rows) = first
            assert len(rows) > 1 and all(shown in r for r in rows) and len(header) > 3, (user, url)
            assert button == ("查询" if lang == "zh" else "Search")
            assert not any(w in r for r in rows for w in ("None", "True", "False"))
        client.get("/lang/zh")


def _session_cookies(response):
    return [v for v in response.headers.get_all("Set-Cookie") if v.startswith("session=")]


def test_a_repeated_list_page_sends_no_session_cookie(client):
    client.auth.login("bank_a_op")
    client.get("/caseview/list/")
    again = client.get("/caseview/list/")
    assert again.status_code == 200 and 'id="logout-form"' in again.get_data(as_text=True)
    assert _session_cookies(again) == []
    # a change to the session is still sent at once
    client.get("/caseview/list/?_oc_CaseView=number&_od_CaseView=asc")
    assert _session_cookies(client.get("/caseview/list/")) != []


def test_column_settings_cost_no_statement_and_a_save_on_another_instance_is_seen_at_once(app, client, db):
    factories.case(db, "bank_a_op")  # a row, so the list has its header
    client.auth.login("bank_a_op")
    with app.app_context():
        engine = db.engine
    client.get("/caseview/list/")
    statements = []
    record = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/caseview/list/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "列设置" in page and "更新时间" in page
    assert not [s for s in statements if "FROM list_setting" in s], statements
    # Another instance saves 列设置 (views/exporting.py save_columns): the row and the user's version.
    user = factories.user(db, "bank_a_op")
    db.session.add(ListSetting(user_id=user.id, list_key="CaseView", columns=["number", "node"]))
    db.session.execute(update(Operator).where(Operator.id == user.id).values(list_settings_stamp="elsewhere"))
    db.session.commit()
    try:
        page = client.get("/caseview/list/").get_data(as_text=True)
        headers = re.findall(r"<th><a href=[^>]*>([^<]+)<i", page) + re.findall(r"<th>([^<]+)</th>", page)
        assert [h.strip() for h in headers] == ["编号", "当前环节"], headers
    finally:
        db.session.execute(delete(ListSetting).where(ListSetting.user_id == user.id))
        db.session.commit()


def test_one_scope_criterion_covers_every_scoped_model_each_by_its_own_clause(client):
    """app/scope.py confines each statement of an institution user with one criterion on Scoped (one
    per model, 25, took ~15 calls each of every statement); every Scoped model says for itself which
    rows an institution sees (tests/test_isolation.py shows they stay confined)."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.util import LoaderCriteriaOption
    assert {m.__name__ for m in SCOPED_MODELS} >= {"Case", "CaseParty", "Operator", "Institution", "AuditLog"}
    assert all(issubclass(m, Scoped) and m.scope_clause.__func__ is not Scoped.scope_clause.__func__
               for m in SCOPED_MODELS)
    client.auth.login("bank_a_op")
    criteria = []

    def after_scope(state):  # listens after app/scope.py's _confine, registered at start-up
        if state.is_select:
            criteria.append([o for o in state.statement._with_options if isinstance(o, LoaderCriteriaOption)])

    event.listen(Session, "do_orm_execute", after_scope)
    try:
        assert client.get("/caseview/list/").status_code == 200
    finally:
        event.remove(Session, "do_orm_execute", after_scope)
    scoped = [c for c in criteria if c]
    assert scoped and all(len(c) == 1 and c[0].root_entity is Scoped for c in scoped), criteria


def test_the_navbar_and_list_tools_are_kept_once_and_each_request_gets_its_own_name_and_token(app, client, db):
    """bank_a_op and bank_a_op2 share roles, so they share one kept navbar and one kept 列设置 form
    (app/fragments.py with_slots): each still sees their own name, escaped, and forms carrying their
    own session's CSRF token, which signs them out."""
    db.session.execute(update(Operator).where(Operator.username == "bank_a_op2").values(first_name="林雪<b>"))
    db.session.commit()
    pages = {}
    for user in ("bank_a_op", "bank_a_op2"):
        client.auth.login(user)
        for _ in range(2):
            page = client.get("/desk/office/todo").get_data(as_text=True)
        tokens = set(re.findall(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page))
        assert len(tokens) >= 1 and "\ue000" not in page
        pages[user] = page, tokens
        client.post("/logout/", data={"csrf_token": next(iter(tokens))})
        assert 'id="logout-form"' not in client.get("/").get_data(as_text=True), f"{user} still signed in"
    assert "陈晓东" in pages["bank_a_op"][0] and "林雪" not in pages["bank_a_op"][0]
    assert "林雪&lt;b&gt;" in pages["bank_a_op2"][0] and "林雪<b>" not in pages["bank_a_op2"][0]
    assert "陈晓东" not in pages["bank_a_op2"][0]
    assert pages["bank_a_op"][1].isdisjoint(pages["bank_a_op2"][1])
    # the tools keep the list they were shown on: the form goes back to this page
    assert 'name="next" value="/desk/office/todo?"' in pages["bank_a_op"][0]


def test_the_csrf_token_is_signed_once_per_session_and_still_guards_every_post(app, client):
    """app/csrf_tokens.py: the session's token is signed once and reused; a token not of this session
    is still refused, and the page's token still works."""
    from app import csrf_tokens
    client.auth.login("bank_a_op")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production (test clients post without tokens otherwise)
    try:
        _csrf_guards(client, csrf_tokens)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _csrf_guards(client, csrf_tokens):
    signed_before = csrf_tokens._signed.cache_info().misses
    first, second = (re.search(r'id="logout-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                               client.get("/desk/office/todo").get_data(as_text=True)).group(1) for _ in range(2))
    assert first == second and csrf_tokens._signed.cache_info().misses == signed_before + 1
    forged = first[:-3] + ("AAA" if not first.endswith("AAA") else "BBB")
    assert client.post("/logout/", data={"csrf_token": forged}).status_code == 400
    assert 'id="logout-form"' in client.get("/").get_data(as_text=True), "a forged token signed the user out"
    client.post("/logout/", data={"csrf_token": first})
    assert 'id="logout-form"' not in client.get("/").get_data(as_text=True)
    # another session gets another token
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login/", data={"username": "bank_a_op", "password": "Demo@2026", "csrf_token": token})
    again = client.get("/desk/office/todo").get_data(as_text=True)
    assert 'id="logout-form"' in again, "bank_a_op could not sign in again"
    third = re.search(r'name="csrf_token" value="([^"]+)"', again)
    assert third and third.group(1) != first


def _signed_in(client):
    return 'id="logout-form"' in client.get("/desk/office/todo").get_data(as_text=True)


def test_the_session_cookie_is_verified_once_and_still_refused_forged_or_timed_out(app, client, monkeypatch):
    """app/settings.py SessionInterface: a cookie's signature is checked once per (keys, cookie), its age
    at every request; a forged cookie is refused after the genuine one was kept, and the kept one is
    refused once the console's session timeout has passed."""
    from itsdangerous import TimestampSigner

    from app import settings
    client.auth.login("bank_a_op")
    assert _signed_in(client), "bank_a_op could not sign in"
    before = settings._unsigned.cache_info()
    assert all(_signed_in(client) for _ in range(3))
    after = settings._unsigned.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 3
    genuine = client.get_cookie("session").value
    forged = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    client.set_cookie("session", forged)
    assert not _signed_in(client), "a forged session cookie was accepted"
    client.set_cookie("session", genuine)
    assert _signed_in(client)
    with app.app_context():
        timeout = settings.get("session_minutes") * 60
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + timeout + 5)
    assert not _signed_in(client), "a session past its timeout was accepted"


def test_a_slot_value_is_put_in_as_text_and_never_searched_for_markers(app):
    """app/fragments.py with_slots: a value holding a marker's characters (a name typed with them) shows
    as typed; it does not pull another slot's value (the CSRF token) into the page."""
    from app.fragments import _marker, with_slots
    with app.test_request_context():
        html = with_slots(("test slots",), lambda **s: f"<p>{s['name']}</p><i>{s['token']}</i>",
                          name=f"陈{_marker('token')}<b>", token="SECRET")
    assert html == f"<p>陈{_marker('token')}&lt;b&gt;</p><i>SECRET</i>"


def test_desk_lists_in_the_kept_frame_show_each_users_font_and_messages_once(app, client, db):
    """app/fragments.py page(): 待办's frame is kept per language and font size; each user still gets
    their own font size, the message flashed for them once, and the whole frame (navbar, language menu)."""
    db.session.execute(update(Operator).where(Operator.username == "bank_a_op2").values(font_size="large"))
    db.session.commit()
    client.auth.login("bank_a_op")
    first = client.get("/desk/office/todo").get_data(as_text=True)
    assert 'id="logout-form"' in first and "registry-root font-" not in first and "业务办公" in first
    token = re.search(r'name="csrf_token" value="([^"]+)"', first).group(1)
    client.post("/desk/office/todo/columns", data={"column": ["number", "business"], "csrf_token": token})
    flashed = client.get("/desk/office/todo").get_data(as_text=True)
    assert flashed.count("列设置已保存") == 1
    assert "列设置已保存" not in client.get("/desk/office/todo").get_data(as_text=True)
    client.post("/logout/", data={"csrf_token": token})
    client.auth.login("bank_a_op2")
    large = client.get("/desk/office/todo").get_data(as_text=True)
    assert "registry-root font-large" in large
    client.get("/lang/en")
    english = client.get("/desk/office/todo").get_data(as_text=True)
    assert "Business office" in english and "registry-root font-large" in english and "业务办公" not in english
    client.get("/lang/zh")


def test_a_role_given_through_a_group_counts_from_the_next_request_and_stops_when_taken_away(app, client, db):
    """app/security.py load_user reads the user's roles and their groups' as plain rows with the user:
    a group's role opens its pages at the next request, and closes them as soon as it is taken away."""
    from flask_appbuilder.security.sqla.models import Group, Role, assoc_user_group
    client.auth.login("bank_a_op2")
    assert client.get("/rules/").status_code == 403
    group = Group(name="rules-helpers", label="rules helpers",
                  roles=[db.session.scalar(select(Role).where(Role.name == "Configurator"))])
    db.session.add(group)
    db.session.flush()
    helper = db.session.scalar(select(Operator.id).where(Operator.username == "bank_a_op2"))
    db.session.execute(assoc_user_group.insert().values(user_id=helper, group_id=group.id))
    db.session.commit()
    try:
        assert client.get("/rules/").status_code == 200
        assert 'id="logout-form"' in client.get("/desk/office/todo").get_data(as_text=True)  # still an operator
    finally:
        db.session.execute(assoc_user_group.delete().where(assoc_user_group.c.group_id == group.id))
        db.session.delete(group)
        db.session.commit()
    assert client.get("/rules/").status_code == 403
