"""The workflow engine running 房屋抵押权首次登记 from its rules: roles, guards, history, effects, locking."""
import hashlib
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.rulebook import legal, workflow
from app.rulebook.workflow import WorkflowError
from models.base import utcnow
from models import Case, CaseHistory, CaseUnit, CaseParty, Certificate, Material, Mortgage, Payment, Right, Unit
from tests import factories

_files = itertools.count(1)


def free_unit(db):
    """An owned unit the demo data leaves without mortgage, seal, objection or case, held by one person."""
    for right in db.session.scalars(select(Right).join(Unit).where(
            Right.status == "current", Unit.mortgaged.is_(False), Unit.sealed.is_(False),
            Unit.objected.is_(False), Unit.id.not_in(select(CaseUnit.unit_id))).order_by(Right.id)):
        if len(right.holders) == 1:
            return right.unit
    raise AssertionError("no free unit left in the demo data")


def add_material(db, case, key, filename="scan.pdf"):
    n = next(_files)
    db.session.add(Material(case_id=case.id, material_key=key, filename=filename, content_type="application/pdf",
                            size=10, sha256=hashlib.sha256(f"{key}{n}".encode()).hexdigest(),
                            storage_path=f"/tmp/{n}.pdf"))


def complete(db, case):
    """Fill everything 房屋抵押权首次登记 asks for before submission."""
    case.form_data = {"apply_reason": "housing_loan", "loan_type": "commercial", "contract_number": "DY-2026-001"}
    for cu in case.units:
        cu.data = {"mortgage_kind": "1", "secured_amount": "500000.00", "collateral_value": "900000.00",
                   "term_start": "2026-01-01", "term_end": "2046-01-01", "guarantee_scope": "主债权及利息",
                   "transfer_restricted": False}
    case.parties.append(CaseParty(role="debtor", kind="person", name="王五", id_type="1", id_number="11010519491231002X"))
    for key in ("identity", "application_form", "contracts", "title_source"):
        add_material(db, case, key)
    for p in case.parties:
        p.confirmed_at = utcnow()
    db.session.commit()


@pytest.fixture
def op(db):
    return factories.user(db, "bank_a_op")


@pytest.fixture
def reviewer(db):
    return factories.user(db, "reviewer")


@pytest.fixture
def draft(db, op):
    unit = free_unit(db)
    return workflow.start_case("mortgage_first", op, [unit.id])


def test_start_case_prefills_parties_history_and_executor(db, op, draft):
    assert draft.node == "draft" and draft.executor_id == op.id and draft.rules_version_id
    assert draft.number.startswith("WS")
    roles = {p.role for p in draft.parties}
    assert {"mortgagee", "mortgagor"} <= roles
    mortgagee = next(p for p in draft.parties if p.role == "mortgagee")
    assert mortgagee.id_number == op.institution.uscc
    holder = draft.units[0].unit.rights[0].holders[0].party
    assert any(p.role == "mortgagor" and p.id_number == holder.id_number for p in draft.parties)
    assert [(h.node_from, h.node_to, h.action) for h in draft.history] == [(None, "draft", "start")]


def test_start_refuses_a_sealed_unit_with_the_reason(db, op):
    sealed = db.session.scalar(select(Unit).where(Unit.sealed.is_(True)))
    with pytest.raises(WorkflowError) as exc:
        workflow.start_case("mortgage_first", op, [sealed.id])
    assert "查封" in " ".join(exc.value.problems)


def test_start_refuses_a_role_that_is_not_an_applicant(db, reviewer):
    with pytest.raises(WorkflowError):
        workflow.start_case("mortgage_first", reviewer, [free_unit(db).id])


def test_check_lists_everything_missing_before_submit(db, draft):
    problems = workflow.check(draft, "submit")
    fields = {p.field for p in problems}
    assert {"apply_reason", "contract_number", "mortgage_kind", "material:identity", "material:contracts",
            "party:debtor", "party:mortgagor"} <= fields
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "submit", factories.user(db, "bank_a_op"))
    assert draft.node == "draft"


def test_required_when_and_after_are_enforced(db, draft):
    complete(db, draft)
    cu = draft.units[0]
    cu.data = {**cu.data, "mortgage_kind": "2", "term_end": "2020-01-01"}
    db.session.commit()
    messages = " ".join(p.message for p in workflow.check(draft, "submit"))
    assert "最高债权额" in messages
    assert "结束日期" in messages


def test_material_of_a_wrong_type_blocks_submit(db, draft):
    complete(db, draft)
    add_material(db, draft, "application_form", "form.exe")
    db.session.commit()
    assert any(p.field == "material:application_form" for p in workflow.check(draft, "submit"))


def test_full_path_records_a_mortgage_and_issues_a_proof(db, op, reviewer, draft):
    complete(db, draft)
    assert [t.event for t in workflow.available_events(draft, op)] == ["submit", "cancel"]
    workflow.fire(draft, "submit", op, expected_version=draft.version)
    assert draft.node == "pre_review" and draft.executor_id is None and draft.executor_role == "RegistryReviewer"
    assert draft.submitted_at is not None
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "accept", op)  # an institution operator cannot accept
    workflow.fire(draft, "accept", reviewer)
    assert draft.official_number and draft.deadline
    with pytest.raises(WorkflowError) as exc:
        workflow.fire(draft, "approve", reviewer)
    assert exc.value.problems
    workflow.fire(draft, "approve", reviewer, opinion="材料齐全，同意")
    with pytest.raises(WorkflowError):  # fees_paid guards recording
        workflow.fire(draft, "record", reviewer)
    lines, total = workflow.fees_due(draft, workflow.rulebook.for_case(draft))
    assert total == Decimal("80.00")
    db.session.add(Payment(order_number=f"PAYT{draft.id:06d}", case_id=draft.id, institution_id=draft.institution_id,
                           amount=total, status="paid", items=[]))
    db.session.commit()
    workflow.fire(draft, "record", reviewer)
    mortgage = db.session.scalar(select(Mortgage).where(Mortgage.case_id == draft.id))
    assert mortgage.secured_amount == Decimal("500000.00") and mortgage.institution_id == draft.institution_id
    assert {p.role for p in mortgage.parties} == {"mortgagor", "debtor"} and mortgage.unit.mortgaged
    workflow.fire(draft, "issue", reviewer)
    proof = db.session.scalar(select(Certificate).where(Certificate.case_id == draft.id))
    assert proof.kind == "proof" and proof.number == mortgage.proof_number and len(proof.token) > 20
    assert draft.node == "issued" and draft.finished_at and draft.executor_id is None
    assert [h.action for h in draft.history] == ["start", "submit", "accept", "approve", "record", "issue"]
    assert draft.history[3].opinion == "材料齐全，同意" and draft.history[3].actor_id == reviewer.id


def test_double_submit_fails_cleanly_and_writes_nothing(db, op, draft):
    complete(db, draft)
    seen = draft.version
    workflow.fire(draft, "submit", op, expected_version=seen)
    entries = db.session.scalar(select(func.count(CaseHistory.id)).where(CaseHistory.case_id == draft.id))
    with pytest.raises(WorkflowError) as exc:
        workflow.fire(draft, "submit", op, expected_version=seen)
    assert "请刷新后重试" in str(exc.value.problems[0])
    assert db.session.scalar(select(func.count(CaseHistory.id)).where(CaseHistory.case_id == draft.id)) == entries


def test_concurrent_change_is_detected_by_the_version_column(db, op, reviewer, draft):
    complete(db, draft)
    workflow.fire(draft, "submit", op)
    # Another process accepts the case behind our back: the row's version moves on.
    db.session.execute(text("UPDATE case_file SET version = version + 1 WHERE id = :id"), {"id": draft.id})
    db.session.commit()
    db.session.expire_all()
    stale = draft.version
    db.session.execute(text("UPDATE case_file SET version = version + 1 WHERE id = :id"), {"id": draft.id})
    db.session.commit()
    before = db.session.scalar(select(func.count(CaseHistory.id)).where(CaseHistory.case_id == draft.id))
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "accept", reviewer, expected_version=stale)
    db.session.expire_all()
    assert db.session.get(Case, draft.id).node == "pre_review"
    assert db.session.scalar(select(func.count(CaseHistory.id)).where(CaseHistory.case_id == draft.id)) == before


def test_reject_needs_type_and_reapply_offers_the_allowed_restart_nodes(db, op, reviewer, draft):
    complete(db, draft)
    workflow.fire(draft, "submit", op)
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "reject", reviewer, opinion="缺少材料")
    workflow.fire(draft, "reject", reviewer, opinion="缺少材料", reject_type="materials_missing")
    assert draft.node == "rejected" and draft.executor_id == op.id
    assert draft.history[-1].reject_type == "materials_missing"
    reapply = next(t for t in workflow.available_events(draft, op) if t.event == "reapply")
    assert reapply.to == ["draft", "pre_review"]
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "reapply", op, target="approved")
    # Straight back to pre-review only with what submitting needs: the missing material blocks it.
    material = next(m for m in draft.materials if m.material_key == "contracts")
    db.session.delete(material)
    db.session.commit()
    with pytest.raises(WorkflowError) as exc:
        workflow.fire(draft, "reapply", op, target="pre_review")
    assert "抵押合同及主债权合同（借款合同）" in " ".join(exc.value.problems)
    add_material(db, draft, "contracts")
    db.session.commit()
    workflow.fire(draft, "reapply", op, target="pre_review")
    assert draft.node == "pre_review" and draft.executor_role == "RegistryReviewer"


def test_other_institution_cannot_fire_on_the_case(db, draft):
    other = factories.user(db, "bank_b_op")
    assert workflow.available_events(draft, other) == []
    with pytest.raises(WorkflowError):
        workflow.fire(draft, "cancel", other)
    workflow.fire(draft, "cancel", factories.user(db, "bank_a_op"))
    assert draft.node == "cancelled"


# --- Every business type runs through the same engine, from its rules alone -------------------

def _fill(db, case, business, seq):
    """Fill what the rules ask for, generically from field types and vocabularies (prefills kept)."""
    import datetime as dt

    from app import rulebook
    from app.demo import make_id_card

    def value(f):
        if f.type == "money":
            return "900000.00" if "collateral" in f.field else "300000.00"
        if f.type == "date":
            return "2046-01-01" if f.after else "2026-01-01"
        if f.type == "choice":
            return rulebook.vocabulary(f.vocabulary)[0].code
        if f.type == "boolean":
            return False
        if f.type == "integer":
            return "1"
        return "测试" if not f.validator else "13800138000"

    case.form_data = {f.field: value(f) for f in business.form.case}
    for cu in case.units:
        cu.data = {**{f.field: value(f) for f in business.form.per_unit}, **(cu.data or {})}
        # only the amount of the mortgage's kind (一般: 被担保主债权数额, 最高额: 最高债权额) is filled in
        cu.data = {k: v for k, v in cu.data.items()
                   if all(legal.applies(f, {**case.form_data, **cu.data}) for f in business.form.per_unit if f.field == k)}
    case.form_data = {k: v for k, v in case.form_data.items()
                      if all(legal.applies(f, case.form_data) for f in business.form.case if f.field == k)}
    for role, spec in business.form.parties.items():
        have = [p for p in case.parties if p.role == role]
        for i in range(len(have), spec.min):
            if spec.accepted_id_types() == ("8",):
                kind, id_type, number = "organisation", "8", "91350100M000100Y43"
            else:
                kind, id_type, number = "person", "1", make_id_card(dt.date(1980, 1, 1 + i), 900 + seq * 10 + i)
            case.parties.append(CaseParty(role=role, kind=kind, name=f"测试{role}{i}", id_type=id_type, id_number=number))
    for m in business.materials:
        if m.required:
            add_material(db, case, m.key, f"{m.key}.{m.accept[0]}")
    for p in case.parties:
        p.confirmed_at = utcnow()
    if business.declaration is not None:   # the confirmation code signs the business's 申明 too
        from app.services import declarations
        db.session.flush()
        for p in case.parties:
            declarations.sign(case, p, "138****8000", business.declaration)
    db.session.commit()


def _walk(db, case, actors):
    """Fire the forward path (the first transition declared from each node) until a final state."""
    from app import rulebook
    business = rulebook.for_case(case)
    while not business.workflow.states[case.node].final:
        t = next(t for t in business.workflow.transitions if case.node in t.from_)
        actor = next(a for a in actors if {r.name for r in a.roles} & set(t.roles))
        if "fees_paid" in t.guards:
            _lines, total = workflow.fees_due(case, business)
            db.session.add(Payment(order_number=f"PAYW{case.id:08d}", case_id=case.id, institution_id=case.institution_id,
                                   amount=total, status="paid", items=[]))
            db.session.commit()
        if "tax_cleared" in t.guards:
            from app.services import tax
            for assessment in tax.adapter().assess(case):
                tax.settle(tax.adapter().notification(assessment))
            db.session.commit()
        workflow.fire(case, t.event, actor, opinion="同意")
    return case


def _units(db, key, op):
    """Demo units fit for each business, found through the register as a bank or developer would."""
    from models import Building, Mortgage, PreNotice
    used = select(CaseUnit.unit_id)
    if key in ("mortgage_general_online", "second_hand_transfer"):
        return [free_unit(db).id]
    if key in ("mortgage_change", "mortgage_transfer", "mortgage_correction", "mortgage_cancel"):
        m = db.session.scalar(select(Mortgage).where(Mortgage.status == "current", Mortgage.institution_id == op.institution_id,
                                                     Mortgage.unit_id.not_in(used)).order_by(Mortgage.id))
        return [m.unit_id]
    if key in ("mortgage_pre_notice_cancel", "pre_mortgage_conversion"):
        p = db.session.scalar(select(PreNotice).where(PreNotice.status == "current", PreNotice.kind == "3",
                                                      PreNotice.unit_id.not_in(used)).order_by(PreNotice.id))
        return [p.unit_id]
    if key == "mortgage_pre_notice":
        bought = select(PreNotice.unit_id).where(PreNotice.kind == "3")
        p = db.session.scalar(select(PreNotice).where(PreNotice.status == "current", PreNotice.kind == "1",
                                                      PreNotice.unit_id.not_in(bought), PreNotice.unit_id.not_in(used)))
        return [p.unit_id]
    building = db.session.scalar(select(Building).where(Building.developer_id.isnot(None)))
    free = [u for u in sorted(building.units, key=lambda u: u.id) if not u.pre_notices and not u.mortgaged
            and u.id not in set(db.session.scalars(used))]
    return [u.id for u in free[:2]]


BANK_BUSINESSES = ["mortgage_change", "mortgage_transfer", "mortgage_correction", "mortgage_cancel",
                   "mortgage_general_online", "mortgage_pre_notice", "mortgage_pre_notice_cancel",
                   "pre_mortgage_conversion", "construction_mortgage_first"]
DEVELOPER_BUSINESSES = ["purchase_pre_notice", "second_hand_transfer"]


@pytest.mark.parametrize("key", BANK_BUSINESSES + DEVELOPER_BUSINESSES)
def test_every_business_runs_from_application_to_its_final_state(db, reviewer, key):
    op = factories.user(db, "bank_a_op" if key in BANK_BUSINESSES else "dev_op")
    case = workflow.start_case(key, op, _units(db, key, op))
    business = workflow.rulebook.for_case(case)
    _fill(db, case, business, seq=len(key))
    assert [p for p in workflow.check(case, "submit") if p.severity == "critical"] == []
    _walk(db, case, [op, reviewer])
    assert case.node == "issued" and case.finished_at
    effects = [e for t in business.workflow.transitions for e in t.effects]
    for cu in case.units:
        if any(e.startswith(("create_", "change_", "transfer_", "correct_", "cancel_", "convert_")) for e in effects):
            assert cu.data.get("_record"), f"{key}: no register record noted"
    if "issue_proof" in effects or "issue_certificate" in effects:
        assert db.session.scalar(select(func.count(Certificate.id)).where(Certificate.case_id == case.id)) == len(case.units)


def test_cancellation_cancels_the_mortgage_and_frees_the_unit(db, reviewer):
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case("mortgage_cancel", op, _units(db, "mortgage_cancel", op))
    _fill(db, case, workflow.rulebook.for_case(case), seq=77)
    _walk(db, case, [op, reviewer])
    mortgage = db.session.get(Mortgage, case.units[0].data["_record"]["id"])
    assert mortgage.status == "cancelled" and mortgage.cancelled_at and not case.units[0].unit.mortgaged


def test_first_registration_then_transfer_by_its_case_number(db, reviewer):
    from app.rulebook import lookup
    dev = factories.user(db, "dev_op")
    first = workflow.start_case("new_housing_first", dev, _units(db, "new_housing_first", dev))
    _fill(db, first, workflow.rulebook.for_case(first), seq=88)
    _walk(db, first, [dev, reviewer])
    rights = [db.session.get(Right, cu.data["_record"]["id"]) for cu in first.units]
    assert all(r.status == "current" and r.holders[0].party.id_number == dev.institution.uscc for r in rights)
    transfer = workflow.rulebook.get("new_housing_transfer")
    found = lookup.find_units(transfer, {"case_number": first.number, "holder_id_number": dev.institution.uscc})
    assert {c.unit.id for c in found if c.ok} == {cu.unit_id for cu in first.units}
    case = workflow.start_case("new_housing_transfer", dev, [c.unit.id for c in found])
    _fill(db, case, transfer, seq=99)
    _walk(db, case, [dev, reviewer])
    for cu, old in zip(case.units, rights):
        new = db.session.get(Right, cu.data["_record"]["id"])
        assert old.status == "historical" and new.status == "current" and new.holders[0].party.name.startswith("测试")
