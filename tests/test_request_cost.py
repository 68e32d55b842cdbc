"""What a signed-in page does not repeat at every request: signing the session cookie, reading the
user's 列设置. Both were a twentieth of a list page's time under load (bench/load.py)."""
import re

from sqlalchemy import delete, event, update

from models import ListSetting, Operator
from tests import factories


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
