"""The audit trail records who changed what, with before/after, and an IP the client cannot forge."""
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from models import AuditLog, Institution
from tests import factories
from tests.conftest import signed_in


def test_a_forged_forwarded_for_header_does_not_become_the_recorded_ip(client, db):
    landed = client.post("/login/", data={"username": "bank_a_op", "password": DEMO_PASSWORD},
                         headers={"X-Forwarded-For": "6.6.6.6"}, follow_redirects=True)
    assert signed_in(landed.get_data(as_text=True))
    entry = db.session.scalar(select(AuditLog).where(AuditLog.username == "bank_a_op")
                              .order_by(AuditLog.id.desc()).limit(1))
    assert entry is not None and entry.ip == "127.0.0.1"


def test_an_edit_through_a_view_is_audited_with_before_and_after(client, db):
    bank = factories.institution(db, "bank_a")
    client.auth.login("admin")
    client.post(f"/institutionview/edit/{bank.id}", data={
        "name": bank.name, "kind": bank.kind, "uscc": bank.uscc, "legal_person": bank.legal_person,
        "contact_phone": "13900001111", "status": bank.status})
    entry = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "Institution",
                                                     AuditLog.object_id == str(bank.id), AuditLog.action == "update")
                              .order_by(AuditLog.id.desc()).limit(1))
    assert entry.username == "admin"
    assert entry.before["contact_phone"] == "13807310001" and entry.after["contact_phone"] == "13900001111"
    db.session.expire_all()
    assert db.session.get(Institution, bank.id).contact_phone == "13900001111"


def test_the_token_login_api_is_closed(client):
    """FAB's JWT login would bypass lockout, the CA requirement and the audit."""
    response = client.post("/api/v1/security/login", json={"username": "bank_a_op", "password": DEMO_PASSWORD,
                                                           "provider": "db"})
    assert response.status_code == 404 and "access_token" not in response.get_data(as_text=True)
