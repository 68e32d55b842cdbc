"""字典管理: the data dictionary in the database behind app/dictionary.py (label/choices), seeded from
rules/vocabularies.yaml and the models' enumerations, edited by Admin and Configurator as versions."""
import contextvars
import re

import pytest
from sqlalchemy import event, select

from app import dictionary
from models import AuditLog, DictItem, DictType, DictVersion, Institution


def _item(db, type_code, code):
    return db.session.scalar(select(DictItem).join(DictType, DictType.id == DictItem.type_id)
                             .where(DictType.code == type_code, DictItem.code == code))


def fresh(app, fn, *args):
    """fn(*args) in a request of its own, as a page would call it (the test's own app context keeps
    the dictionary it read first in its flask.g, as one request does)."""
    def run():
        with app.test_request_context("/"):
            return fn(*args)
    return contextvars.Context().run(run)


def _form(app, type_code, **changes):
    """The edit form of one type as the page posts it, with changes {code: {field: value}}."""
    entry = fresh(app, dictionary.table)[type_code]
    data = {"base_version": str(entry["version"])}
    for n, item in enumerate(entry["items"]):
        row = {**item, **changes.get(item["code"], {})}
        data.update({f"code-{n}": item["code"], f"label_zh-{n}": row["label_zh"], f"label_en-{n}": row["label_en"],
                     f"order-{n}": str(row["sort_order"]), f"color-{n}": row["color"]})
        if row["enabled"]:
            data[f"enabled-{n}"] = "y"
    return data


def test_seeded_from_the_vocabularies_and_the_enumerations(app, db):
    assert fresh(app, dictionary.label, "id_types", "1") == "身份证"
    assert [code for code, _ in fresh(app, dictionary.choices, "id_types")][:3] == ["1", "2", "3"]
    assert fresh(app, dictionary.label, "id_types", None) == ""
    assert fresh(app, dictionary.label, "id_types", "zz") == "zz"  # not in the dictionary: the code shows
    bank = _item(db, "institution_kind", "bank")
    assert bank.label_zh == "银行" and bank.label_en == "Bank"
    assert db.session.scalar(select(DictVersion).where(DictVersion.type_code == "id_types")).version == 1
    assert dictionary.sync() == 0  # idempotent: nothing missing, nothing added


def test_a_page_reads_the_dictionary_once(app, client):
    client.auth.login("admin")
    statements = []

    def count(conn, cursor, statement, *args):
        if "dict_type" in statement:
            statements.append(statement)

    from app.extensions import db as database
    with app.app_context():
        engine = database.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/institutionview/list/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200 and "银行" in page.get_data(as_text=True)
    assert len(statements) == 1


def test_configurator_edits_a_label_shown_everywhere_and_versioned(app, db, client):
    client.auth.login("configurator")
    page = client.get("/dictionary/")
    assert page.status_code == 200 and "机构类型" in page.get_data(as_text=True)
    response = client.post("/dictionary/institution_kind/", data={
        **_form(app, "institution_kind", bank={"label_zh": "商业银行", "color": "primary"}), "note": "按新规范"},
        follow_redirects=True)
    assert response.status_code == 200 and "已保存为版本 2" in response.get_data(as_text=True)
    assert fresh(app, dictionary.label, "institution_kind", "bank") == "商业银行"
    assert fresh(app, dictionary.color, "institution_kind", "bank") == "primary"
    saved = db.session.scalar(select(DictVersion).where(DictVersion.type_code == "institution_kind",
                                                        DictVersion.version == 2))
    assert saved.author_name == "configurator" and saved.note == "按新规范" and "商业银行" in saved.content
    entries = db.session.scalars(select(AuditLog).where(AuditLog.object_type.in_(("DictItem", "DictType")))).all()
    assert any(e.action == "dictionary_saved" and e.summary == "institution_kind v2" for e in entries)
    assert any(e.action == "update" and (e.after or {}).get("label_zh") == "商业银行" for e in entries)
    history = client.get("/dictionary/institution_kind/versions").get_data(as_text=True)
    assert "+" in history and "商业银行" in history and "按新规范" in history

    client.auth.login("admin")
    listing = client.get("/institutionview/list/").get_data(as_text=True)
    assert "商业银行" in listing

    client.auth.login("configurator")
    restored = client.post("/dictionary/institution_kind/versions/1/restore", follow_redirects=True)
    assert "版本 1 已恢复为版本 3" in restored.get_data(as_text=True)
    assert fresh(app, dictionary.label, "institution_kind", "bank") == "银行"


def test_a_disabled_item_leaves_the_forms_but_keeps_its_words(app, db, client):
    client.auth.login("admin")
    form = _form(app, "institution_kind", developer={"enabled": False})
    assert client.post("/dictionary/institution_kind/", data=form).status_code == 302
    assert "developer" not in [code for code, _ in fresh(app, dictionary.choices, "institution_kind")]
    assert fresh(app, dictionary.label, "institution_kind", "developer") == _item(db, "institution_kind", "developer").label_zh
    add = client.get("/institutionview/add").get_data(as_text=True)
    assert 'value="bank"' in add and 'value="developer"' not in add
    developer = db.session.scalar(select(Institution).where(Institution.kind == "developer"))
    edit = client.get(f"/institutionview/edit/{developer.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="developer">[^<]+</option>', edit)  # the record keeps its kind
    assert not re.search(r'<option selected value="bank">', edit)


def test_refused_edits_keep_what_was_typed(app, db, client):
    client.auth.login("configurator")
    form = _form(app, "share_modes", **{"0": {"label_zh": "", "label_en": "Sole (typed)"}})
    page = client.post("/dictionary/share_modes/", data=form)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "中文名称必填" in text and "Sole (typed)" in text
    assert _item(db, "share_modes", "0").label_en == "Sole ownership"
    stale = _form(app, "share_modes", **{"0": {"label_zh": "独有"}})
    stale["base_version"] = "0"
    assert "您编辑期间他人已保存版本" in client.post("/dictionary/share_modes/", data=stale).get_data(as_text=True)
    assert _item(db, "share_modes", "0").label_zh == "单独所有"
    assert "内容没有变化" in client.post("/dictionary/share_modes/", data=_form(app, "share_modes")).get_data(as_text=True)


@pytest.mark.parametrize("username", ["reviewer", "bank_a_op"])
def test_only_admin_and_configurator_edit_the_dictionary(client, username):
    client.auth.login(username)
    assert client.get("/dictionary/").status_code == 403
    assert client.post("/dictionary/id_types/", data={}).status_code == 403


def test_the_review_desk_offers_the_dictionary_reject_types(app, db, client):
    from tests.test_review import _submitted_case
    _business, case = _submitted_case(client)
    client.auth.login("configurator")
    form = _form(app, "reject_types", fees_unpaid={"enabled": False}, data_error={"label_zh": "申请信息填写有误"})
    assert client.post("/dictionary/reject_types/", data=form).status_code == 302
    client.auth.login("reviewer")
    page = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert re.search(r'<option value="data_error"[^>]*>申请信息填写有误</option>', page)
    assert 'value="fees_unpaid"' not in page and 'value="materials_missing"' in page


def test_the_desk_offers_the_dictionary_words(app, db, client):
    from app import rulebook
    from tests.test_desk import apply_through_views
    username, case = apply_through_views(client, rulebook.get("mortgage_first"))
    client.auth.login("configurator")
    form = _form(app, "id_types", **{"1": {"label_zh": "居民身份证（二代）"}})
    assert client.post("/dictionary/id_types/", data=form).status_code == 302
    client.auth.login(username)
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert re.search(r'<option value="1"[^>]*>居民身份证（二代）</option>', page)
