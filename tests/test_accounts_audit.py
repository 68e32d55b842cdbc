"""The audit log view: searchable by user, action, object, IP and time range; before/after shown."""
import datetime as dt

import pytest
from sqlalchemy import select

from models import AuditLog
from tests.accounts_helpers import forget_request_globals, new_account


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


def test_admin_searches_the_audit_log_by_user_action_and_time_range(client, db):
    user = new_account(db)
    client.post("/login/", data={"username": user.username, "password": "wrong-pass1"})
    client.auth.login("admin")
    now = dt.datetime.utcnow()
    args = {"_flt_0_username": user.username, "_flt_0_action": "login_failed",
            "_flt_1_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "_flt_2_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")}
    page = client.get("/auditlogview/list/", query_string=args).get_data(as_text=True)
    assert "[password]" in page  # the failure's summary, only present in a result row
    args["_flt_1_at"] = (now + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    page = client.get("/auditlogview/list/", query_string=args).get_data(as_text=True)
    assert "[password]" not in page


def test_audit_detail_shows_before_and_after_of_a_change(client, db):
    from tests.factories import institution
    inst = institution(db, "developer")
    old = inst.address
    inst.address = old + "（新址）"
    db.session.commit()
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update", AuditLog.object_type == "Institution",
                                                     AuditLog.object_id == str(inst.id)).order_by(AuditLog.id.desc()))
    client.auth.login("admin")
    page = client.get(f"/auditlogview/show/{entry.id}").get_data(as_text=True)
    assert "audit-changes" in page and f"<td>{old}</td><td>{old}（新址）</td>" in page
    inst.address = old
    db.session.commit()


def test_institution_admin_sees_only_their_institutions_audit_entries(client, db):
    client.auth.login("bank_b_admin")
    client.auth.login("bank_a_admin")
    page = client.get("/auditlogview/list/", query_string={"_flt_0_username": "bank_b_admin"}).get_data(as_text=True)
    assert "bank_b_admin</td>" not in page
