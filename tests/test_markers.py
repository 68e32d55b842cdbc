"""Workflow markers: views ask the workflow which states are payable, final, editable and where a
rejected case may restart; they never name a state."""
import datetime as dt

import pytest
from sqlalchemy import select

from app import rulebook
from app.rulebook import markers
from app.rulebook.loader import RulesError, parse_business
from models import Case, CaseUnit, Unit
from tests import factories


def _businesses(app):
    with app.test_request_context():
        return [(b.key, markers.payable_states(b.workflow)) for b in rulebook.all_businesses()]


def test_every_business_has_a_payable_state(app):
    found = _businesses(app)
    assert len(found) == 14
    assert all(states for _key, states in found), [key for key, states in found if not states]
    online = {key for key, states in found if states == ["unpaid"]}
    assert len(online) == 5, online


def test_a_case_in_each_payable_state_of_every_business_is_on_the_payment_page(app, client, db):
    unit = db.session.scalars(select(Unit).where(Unit.use == "residential")).first()
    client.auth.login("bank_a_op")
    checked = 0
    for key, states in _businesses(app):
        for node in states:
            case = factories.case(db, "bank_a_op", business_key=key, node=node,
                                  submitted_at=dt.datetime(2099, 1, 1))
            db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
            db.session.commit()
            page = client.get("/pay/").get_data(as_text=True)
            assert case.number in page, f"{key} at {node} is not on /pay/"
            case.node, case.submitted_at = "cancelled", dt.datetime(2000, 1, 1)   # out of the way of the next
            db.session.commit()
            checked += 1
    assert checked == 5 + 9 * 3


def test_a_case_outside_a_payable_state_is_not_listed(client, db):
    case = factories.case(db, "bank_a_op", business_key="mortgage_general_online", node="pre_review",
                          submitted_at=dt.datetime(2099, 1, 2))
    client.auth.login("bank_a_op")
    assert case.number not in client.get("/pay/").get_data(as_text=True)


def test_the_pay_button_shows_in_the_online_workflows_unpaid_state(client, db):
    unit = db.session.scalars(select(Unit).where(Unit.use == "residential")).first()
    case = factories.case(db, "bank_a_op", business_key="mortgage_general_online", node="unpaid")
    db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
    db.session.commit()
    client.auth.login("bank_a_op")
    page = client.get(f"/desk/case/{case.id}/").get_data(as_text=True)
    assert 'id="pay-btn"' in page


def test_final_states_come_from_the_workflows(app, db):
    from views.operators import open_cases
    case = factories.case(db, "bank_a_op", node="issued")
    other = factories.case(db, "bank_a_op", node="pre_review")
    with app.test_request_context():
        ids = set(db.session.scalars(open_cases(case.applicant_id).with_only_columns(Case.id)))
    assert other.id in ids and case.id not in ids


def test_rejected_list_and_reapply_targets_follow_reapply_to(app, client, db):
    with app.test_request_context():
        wf = rulebook.get("mortgage_first").workflow
        reapply = markers.reapply_transitions(wf, "rejected")
        assert [t.event for t in reapply] == ["reapply"]
        assert markers.reapply_targets(wf, "rejected", reapply[0]) == ["draft", "pre_review"]
        online = rulebook.get("mortgage_general_online").workflow
        assert markers.reapply_targets(online, "rejected", online.transition("reapply")) == ["draft"]
    case = factories.case(db, "bank_a_op", node="rejected")
    client.auth.login("bank_a_op")
    page = client.get("/desk/office/rejected").get_data(as_text=True)
    assert case.number in page
    assert f'/desk/office/reapply/{case.id}' in page


WORKFLOW_WITH_BAD_MARKERS = """\
key: marked
name: {zh: 标记}
category: mortgage
registration_type: "100"
scenario: {zh: 测试}
applicants: [InstitutionOperator]
lookup_record: ownership
lookup:
  - {field: certificate_number, label: {zh: 不动产权证号}}
  - {field: holder_id_number, label: {zh: 权利人证件号}}
workflow:
  states:
    draft: {label: {zh: 申请}, executor: applicant, initial: true}
    checking: {label: {zh: 审核}, executor: RegistryReviewer, editable: true}
    done: {label: {zh: 办结}, final: true, payable: true}
    back: {label: {zh: 驳回}, executor: applicant, reapply_to: [drafty]}
  transitions:
    - {event: submit, label: {zh: 提交}, from: draft, to: checking, roles: [InstitutionOperator]}
    - {event: finish, label: {zh: 办结}, from: checking, to: done, roles: [RegistryReviewer], guards: [fees_paid]}
    - {event: reject, label: {zh: 驳回}, from: checking, to: back, roles: [RegistryReviewer]}
    - {event: again, label: {zh: 重新申请}, from: back, to: draft, roles: [InstitutionOperator]}
time_limit: {working_days: 5}
"""


@pytest.mark.parametrize("lang, words", [
    ("zh", ["状态 'done' 是终结状态，不能设为可缴费", "'checking' 可编辑", "reapply_to 中的状态 'drafty' 不存在",
            "初始状态 'draft' 必须可编辑"]),
    ("en", ["state 'done' is final and cannot be payable", "state 'checking' is editable",
            "unknown state 'drafty' in reapply_to", "the initial state 'draft' must be editable"]),
])
def test_the_loader_refuses_wrong_markers_with_file_and_line(app, lang, words):
    from flask_babel import force_locale
    with app.test_request_context(), force_locale(lang):
        ctx = rulebook._context()
        with pytest.raises(RulesError) as caught:
            parse_business(WORKFLOW_WITH_BAD_MARKERS, "rules/marked.yaml", ctx)
        text = "\n".join(str(p) for p in caught.value.problems)
    for w in words:
        assert w in text, text
    assert "rules/marked.yaml" in text and {"zh": "第 15 行", "en": "line 15"}[lang] in text, text


def test_no_order_is_made_for_a_case_outside_a_payable_state(client, db):
    from models import Payment
    unit = db.session.scalars(select(Unit).where(Unit.use == "residential")).first()
    case = factories.case(db, "bank_a_op", business_key="mortgage_general_online", node="draft")
    db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
    db.session.commit()
    client.auth.login("bank_a_op")
    page = client.post(f"/pay/order/{case.id}", follow_redirects=True).get_data(as_text=True)
    assert "当前环节不能缴纳此案卷的费用" in page
    assert db.session.scalar(select(Payment).where(Payment.case_id == case.id)) is None
