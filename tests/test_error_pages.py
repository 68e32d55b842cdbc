"""Errors are told in Chinese: one page per HTTP error, and FAB's failed saves and deletes flash a
sentence, never "Database Error", "DatabaseException: IntegrityError" or SQL text."""
import io

from sqlalchemy import select
from werkzeug.exceptions import InternalServerError

from models import Parcel

ENGLISH = ("Not Found", "Method Not Allowed", "Internal Server Error", "Request Entity Too Large",
           "Database Error", "IntegrityError", "DatabaseException")


def _chinese_page(response, code, title):
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert title in page and 'id="error-page"' in page, page[:500]
    assert not any(word in page for word in ENGLISH)
    assert response.headers["Cache-Control"] == "no-store"
    return page


def test_not_found_and_method_not_allowed_are_chinese_pages(client):
    _chinese_page(client.get("/no-such-page"), 404, "页面不存在")
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "/logout" in page
    r = client.get("/desk/case/1/fire")  # POST only
    _chinese_page(r, 405, "不允许的操作")
    assert "POST" in r.headers["Allow"]
    _chinese_page(client.get("/registrations/"), 403, "没有权限")


def test_an_upload_beyond_the_limit_is_a_chinese_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        r = client.post("/accounts/register/institution/", data={"documents": (io.BytesIO(b"%PDF-" + b"0" * 4096), "a.pdf")},
                        content_type="multipart/form-data")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    _chinese_page(r, 413, "文件过大")


def test_a_server_error_page_is_chinese_even_when_the_layout_cannot_render(app, monkeypatch):
    from app import errors
    with app.test_request_context("/anything"):
        page = errors.error_page(InternalServerError())
        assert page.status_code == 500 and "系统出错了" in page.get_data(as_text=True)
        assert "navbar" in page.get_data(as_text=True)

    def database_down():
        raise RuntimeError("database down")
    monkeypatch.setattr(errors, "_fab_context", database_down)
    with app.test_request_context("/anything"):
        page = errors.error_page(InternalServerError()).get_data(as_text=True)
        assert "系统出错了" in page and "navbar" not in page and "bootstrap.min.css" in page
    with app.test_request_context("/api/v1/anything"):
        assert errors.error_page(InternalServerError()).get_json() == {
            "message": "平台未能完成此请求。请稍后重试；如多次出现，请联系登记机构。"}


def test_a_refused_delete_flashes_a_chinese_sentence_and_keeps_the_row(client, db):
    parcel = db.session.scalars(select(Parcel)).first()
    assert parcel.buildings  # still carries buildings: the database refuses the delete
    page = client.auth.login("admin").get_data(as_text=True)
    assert "/logout" in page
    page = client.post(f"/parcelview/delete/{parcel.id}", follow_redirects=True).get_data(as_text=True)
    assert "未保存：该记录与已有记录重复，或仍被其他记录引用" in page
    assert not any(word in page for word in ENGLISH)
    db.session.expire_all()
    assert db.session.get(Parcel, parcel.id) is not None


def test_an_unknown_sort_column_is_a_bad_request_not_a_server_error(client):
    page = client.auth.login("admin").get_data(as_text=True)
    assert "/logout" in page
    _chinese_page(client.get("/unitview/list/?_oc_UnitView=nonexistent&_od_UnitView=asc"), 400, "请求有误")
    _chinese_page(client.get("/unitview/list/?_oc_UnitView=location&_od_UnitView=sideways"), 400, "请求有误")
    assert client.get("/unitview/list/?_oc_UnitView=location&_od_UnitView=desc").status_code == 200


def test_every_http_error_gets_a_chinese_page(app):
    from werkzeug.exceptions import Gone, Unauthorized

    from app import errors
    with app.test_request_context("/x"):
        for exc, code in ((Unauthorized(), 401), (Gone(), 410)):
            r = errors.error_page(exc)
            assert r.status_code == code and "请求有误" in r.get_data(as_text=True)


def test_a_post_without_its_csrf_token_says_the_page_expired(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post("/accounts/register/institution/", data={"name": "x"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    page = _chinese_page(r, 400, "请求有误")
    assert "页面已过期，请刷新页面后重新提交。" in page and "CSRF" not in page
