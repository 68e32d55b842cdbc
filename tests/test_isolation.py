"""An institution user never lists, shows, edits or deletes another institution's rows, whatever the URL."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditLog, Case, Institution, Mortgage, Operator, PreNotice, Unit
from tests import factories


@pytest.fixture(scope="module")
def bank_b_rows(app):
    """One row of bank B per scoped view: (view, model, pk, text that identifies it on a page)."""
    from app.extensions import db
    with app.app_context():
        bank_b = factories.institution(db, "bank_b")
        case = factories.case(db, "bank_b_op")
        mortgage = db.session.scalar(select(Mortgage).where(Mortgage.institution_id == bank_b.id).limit(1))
        unit = db.session.scalar(select(Unit).where(Unit.pre_noticed.is_(False), Unit.mortgaged.is_(False)).limit(1))
        notice = PreNotice(unit_id=unit.id, kind="4", institution_id=bank_b.id, amount=Decimal("1000.00"),
                           proof_number="湘(2024)长沙市不动产证明第9900001号", registered_at=dt.datetime(2024, 5, 1))
        log = AuditLog(action="test-b", institution_id=bank_b.id, username="bank_b_op", summary="bank b secret")
        db.session.add_all([notice, log])
        db.session.commit()
        operator = factories.user(db, "bank_b_op")
        return {
            "institutionview": (Institution, bank_b.id, bank_b.uscc),
            "caseview": (Case, case.id, case.number),
            "mortgageview": (Mortgage, mortgage.id, mortgage.proof_number),
            "prenoticeview": (PreNotice, notice.id, notice.proof_number),
            "operatorview": (Operator, operator.id, operator.username),
            "auditlogview": (AuditLog, log.id, "bank b secret"),
        }


USERS = ["bank_a_op", "bank_a_admin"]
VIEWS = ["institutionview", "caseview", "mortgageview", "prenoticeview", "operatorview", "auditlogview"]


def _exists(app, model, pk):
    from app.extensions import db
    with app.app_context():
        return db.session.get(model, pk) is not None


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("view", VIEWS)
def test_bank_a_user_cannot_list_or_search_bank_b_rows(client, bank_b_rows, username, view):
    _, _, marker = bank_b_rows[view]
    client.auth.login(username)
    for url in (f"/{view}/list/", f"/{view}/list/?psize_{view[:-4]}view=100", f"/{view}/list/?_flt_0_id={bank_b_rows[view][1]}"):
        page = client.get(url)
        if "_flt_" in url:  # id is no search column: refused (400), not silently dropped (test_list_arguments.py)
            assert page.status_code == 400
        else:
            assert page.status_code in (200, 403)
        assert marker not in page.get_data(as_text=True)


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("view", VIEWS)
def test_bank_a_user_cannot_show_edit_or_delete_bank_b_rows_by_url(app, client, bank_b_rows, username, view):
    model, pk, marker = bank_b_rows[view]
    client.auth.login(username)
    shown = client.get(f"/{view}/show/{pk}")
    assert shown.status_code in (302, 403, 404) and marker not in shown.get_data(as_text=True)
    edit_form = client.get(f"/{view}/edit/{pk}")
    assert edit_form.status_code in (302, 403, 404) and marker not in edit_form.get_data(as_text=True)
    edited = client.post(f"/{view}/edit/{pk}", data={"name": "hijacked", "status": "departed", "summary": "x"})
    assert edited.status_code in (302, 403, 404)
    deleted = client.post(f"/{view}/delete/{pk}")
    assert deleted.status_code in (302, 403, 404)
    assert _exists(app, model, pk), f"{view} row {pk} of bank B was deleted by {username}"
    with app.app_context():
        from app.extensions import db
        row = db.session.get(model, pk)
        assert getattr(row, "name", None) != "hijacked"
        assert getattr(row, "status", None) != "departed" or model is not Operator


def test_bank_a_user_sees_own_rows(client, app):
    """The scope narrows, it does not blank out: bank A's own mortgages are listed."""
    from app.extensions import db
    with app.app_context():
        bank_a = factories.institution(db, "bank_a")
        own = db.session.scalar(select(Mortgage).where(Mortgage.institution_id == bank_a.id).limit(1))
    client.auth.login("bank_a_op")
    page = client.get("/mortgageview/list/?psize_MortgageView=100").get_data(as_text=True)
    assert own.proof_number in page


def test_registry_reviewer_is_not_confined(client, bank_b_rows):
    client.auth.login("reviewer")
    _, pk, marker = bank_b_rows["mortgageview"]
    assert marker in client.get(f"/mortgageview/show/{pk}").get_data(as_text=True)


def test_huge_primary_key_in_url_is_not_found(client):
    client.auth.login("bank_a_op")
    assert client.get("/caseview/show/99999999999999999999999").status_code == 404


def test_scope_refuses_to_write_a_row_of_another_institution(app, bank_b_rows):
    """Even a service that builds a row by hand cannot file it under another institution."""
    from flask import g

    from app.extensions import db
    from app.scope import ScopeViolation
    with app.test_request_context():
        bank_a = factories.institution(db, "bank_a")
        g.institution_scope = bank_a.id
        op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
        db.session.add(Case(number="FOREIGN0001", business_key="x", institution_id=bank_b_rows["institutionview"][1],
                            applicant_id=op.id, node="draft", form_data={}))
        with pytest.raises(ScopeViolation):
            db.session.flush()
        db.session.rollback()


def test_rows_read_on_the_connection_are_confined_like_every_query(app, bank_b_rows):
    """app/scope.py rows(): a list's plain rows, read without the ORM's result machinery, carry the same
    scope: bank A's request reads none of bank B's cases, an unconfined one reads both."""
    from flask import g

    from app import scope
    from app.extensions import db
    case_b = bank_b_rows["caseview"][1]
    with app.test_request_context():
        bank_a = factories.institution(db, "bank_a")
        mine = factories.case(db, "bank_a_op")
        statement = select(Case.id, Case.institution_id).where(Case.id.in_([mine.id, case_b]))
        g.institution_scope, g.data_scope = bank_a.id, None
        assert scope.rows(statement) == [(mine.id, bank_a.id)]
        g.institution_scope = None
        assert sorted(r.id for r in scope.rows(statement)) == sorted([mine.id, case_b])
        db.session.rollback()
