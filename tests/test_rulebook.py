"""Rules files: all of them load; each kind of mistake is reported with file, key path and line."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import rulebook
from app.rulebook import lookup
from app.rulebook.loader import RulesError, load_directory
from app.validators import ValidationFailed

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

ALL_KEYS = {"mortgage_pre_notice", "mortgage_pre_notice_cancel", "mortgage_first", "mortgage_change",
            "mortgage_transfer", "mortgage_correction", "mortgage_cancel", "construction_mortgage_first",
            "purchase_pre_notice", "mortgage_general_online", "pre_mortgage_conversion", "new_housing_first",
            "new_housing_transfer", "second_hand_transfer"}


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def line_of(path, needle):
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_for(rules_dir):
    with pytest.raises(RulesError) as exc:
        load_directory(rules_dir)
    return [str(p) for p in exc.value.problems]   # no request: English (app/rulebook/messages.py)


def test_every_business_of_both_manuals_loads():
    _ctx, files = load_directory(RULES)
    assert set(files) == ALL_KEYS


def test_all_businesses_come_from_the_database_in_category_order(db):
    businesses = rulebook.all_businesses()
    assert {b.key for b in businesses} == ALL_KEYS
    order = [v.code for v in rulebook.vocabulary("categories")]
    assert [order.index(b.category) for b in businesses] == sorted(order.index(b.category) for b in businesses)
    assert all(b.version_id for b in businesses)


def test_business_exposes_the_contract_the_desk_uses(db):
    b = rulebook.get("mortgage_first")
    assert b.name.zh == "房屋抵押权首次登记" and b.display_name == "房屋抵押权首次登记"
    assert [m.name.zh for m in b.materials] == ["身份证明材料", "不动产登记申请书", "抵押合同及主债权合同（借款合同）",
                                                "不动产权属来源证明材料"]
    assert b.workflow.initial == "draft" and b.workflow.states["issued"].final
    assert b.workflow.transition("record").effects == ["create_mortgage"]
    assert b.workflow.transition("reapply").to == ["draft", "pre_review"]
    assert b.form.parties["debtor"].min == 1 and b.time_limit.working_days == 5
    assert rulebook.label("mortgage_kinds", "2") == "最高额抵押"
    assert {v.code for v in rulebook.vocabulary("id_types")} >= {"1", "8"}


def test_syntax_error_names_file_and_line(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "batch: false", "batch: [false")
    problems = problems_for(rules_copy)
    assert any(p.startswith("rules/mortgage_first.yaml, line ") and "YAML syntax error" in p for p in problems)


def test_misspelt_key_names_its_path_and_line(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "    required: true\n    accept: [pdf, jpg, jpeg, png]\n    max_files: 10",
         "    requird: true\n    accept: [pdf, jpg, jpeg, png]\n    max_files: 10")
    assert f"rules/mortgage_first.yaml, line {line_of(f, 'requird')}: materials[0].requird: unknown key 'requird'" \
        in problems_for(rules_copy)


def test_unknown_validator_is_refused_with_the_known_names(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "validator: certificate_number}", "validator: certificate_numbr}")
    problem = next(p for p in problems_for(rules_copy) if "certificate_numbr" in p)
    assert problem.startswith(f"rules/mortgage_first.yaml, line {line_of(f, 'certificate_numbr')}: lookup[0].validator: "
                              "unknown validator 'certificate_numbr' (known: ")


def test_unknown_state_in_a_shared_workflow(rules_copy):
    f = rules_copy / "workflows" / "standard_review.yaml"
    edit(f, "    from: accepted\n    to: approved", "    from: accepted\n    to: aproved")
    problem = next(p for p in problems_for(rules_copy) if "aproved" in p)
    assert problem.startswith(f"workflows/standard_review.yaml, line {line_of(f, 'to: aproved')}: transitions[2].to: "
                              "unknown state 'aproved' (known: draft, pre_review")


def test_missing_required_key(rules_copy):
    f = rules_copy / "mortgage_cancel.yaml"
    edit(f, "time_limit: {working_days: 5}\n", "")
    top = line_of(f, "key: mortgage_cancel")  # a missing key is reported where its parent mapping starts
    assert f"rules/mortgage_cancel.yaml, line {top}: time_limit: required key is missing" in problems_for(rules_copy)


def test_bare_boolean_word_as_key_is_refused(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "effect_options" if "effect_options" in f.read_text() else "fees:\n", "on: x\nfees:\n")
    assert f"rules/mortgage_first.yaml, line {line_of(f, 'on: x')}: on: the bare key 'on' is read as a boolean by YAML; " \
           "quote it or choose another word" in problems_for(rules_copy)


def test_duplicate_key(rules_copy):
    f = rules_copy / "mortgage_change.yaml"
    edit(f, "batch: false\n", "batch: false\nbatch: true\n")
    assert f"rules/mortgage_change.yaml, line {line_of(f, 'batch: true')}: batch: duplicate key 'batch'" in problems_for(rules_copy)


def test_amount_written_as_a_number_is_refused(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, 'amount: "550.00"', "amount: 550.00")
    problem = next(p for p in problems_for(rules_copy) if "fees[0].amounts[1].amount" in p)
    assert problem == f"rules/mortgage_first.yaml, line {line_of(f, 'amount: 550.00')}: fees[0].amounts[1].amount: " \
                      "write amounts as quoted strings, e.g. \"80.00\""


def test_unknown_vocabulary_and_required_when_field(rules_copy):
    f = rules_copy / "mortgage_first.yaml"
    edit(f, "vocabulary: loan_types", "vocabulary: loan_typos")
    edit(f, "required_when: {mortgage_kind: \"2\"}", "required_when: {mortgage_knd: \"2\"}")
    problems = problems_for(rules_copy)
    assert any(p.startswith(f"rules/mortgage_first.yaml, line {line_of(f, 'loan_typos')}: form.case[1].vocabulary: "
                            "unknown vocabulary 'loan_typos'") for p in problems)
    assert f"rules/mortgage_first.yaml, line {line_of(f, 'mortgage_knd')}: form.per_unit[2].required_when: " \
           "required_when refers to unknown field 'mortgage_knd'" in problems


def test_unreachable_state_and_dead_end_in_a_workflow(rules_copy):
    f = rules_copy / "workflows" / "online_registration.yaml"
    edit(f, "  cancelled:", "  limbo:      {label: {zh: 悬置}, executor: applicant}\n  cancelled:")
    problems = problems_for(rules_copy)
    assert f"workflows/online_registration.yaml, line {line_of(f, 'limbo')}: states.limbo: state 'limbo' cannot be " \
           "reached from 'draft'" in problems


def test_unknown_effect_in_an_override_and_all_problems_at_once(rules_copy):
    edit(rules_copy / "mortgage_first.yaml", "effects: [create_mortgage]", "effects: [create_mortgag]")
    edit(rules_copy / "mortgage_cancel.yaml", "category: cancellation", "category: cancelation")
    problems = problems_for(rules_copy)
    assert any("mortgage_first.yaml" in p and "unknown effect 'create_mortgag'" in p for p in problems)
    f = rules_copy / "mortgage_cancel.yaml"
    assert any(p.startswith(f"rules/mortgage_cancel.yaml, line {line_of(f, 'category:')}: category: unknown category 'cancelation'")
               for p in problems)


def test_broken_rules_stop_start_up_with_file_line_and_path(rules_copy, tmp_path):
    edit(rules_copy / "mortgage_first.yaml", "working_days: 5", "working_days: 50")
    env = {**os.environ, "REGISTRY_RULES_DIR": str(rules_copy), "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    run = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    line = line_of(rules_copy / "mortgage_first.yaml", "working_days: 50")
    assert f"rules/mortgage_first.yaml, line {line}: time_limit.working_days: should be at most 30, not '50'" in run.stderr


def test_lookup_validates_keys_before_searching(db):
    b = rulebook.get("mortgage_first")
    with pytest.raises(ValidationFailed) as exc:
        lookup.find_units(b, {"certificate_number": "湘2024长沙市不动产权第12号", "holder_id_number": "11010519491231002X"})
    assert "不动产权证号" in str(exc.value)


def test_lookup_by_certificate_checks_the_holder(db):
    from sqlalchemy import select
    from models import Right, Unit
    right = db.session.scalar(select(Right).join(Unit).where(Unit.sealed.is_(True)))
    b = rulebook.get("mortgage_first")
    holder = right.holders[0].party.id_number
    [found] = lookup.find_units(b, {"certificate_number": right.certificate_number, "holder_id_number": holder})
    assert found.unit.id == right.unit_id and not found.ok and any("查封" in r for r in found.reasons)
    # Someone else's ID number finds nothing: the number alone must not reveal the unit.
    assert lookup.find_units(b, {"certificate_number": right.certificate_number,
                                 "holder_id_number": "11010519491231002X"}) == []


def test_lookup_by_proof_number_only_for_the_mortgagee(db):
    from sqlalchemy import select
    from models import Institution, Mortgage
    m = db.session.scalar(select(Mortgage).where(Mortgage.status == "current").order_by(Mortgage.id))
    inst = db.session.get(Institution, m.institution_id)
    b = rulebook.get("mortgage_cancel")
    [mine] = lookup.find_units(b, {"proof_number": m.proof_number, "mortgagee_id_number": inst.uscc}, institution_id=inst.id)
    assert mine.ok and mine.record.id == m.id
    # Another institution typing the mortgagee's (public) credit code finds nothing.
    assert lookup.find_units(b, {"proof_number": m.proof_number, "mortgagee_id_number": inst.uscc},
                             institution_id=-1) == []


def test_lookup_by_survey_number_lists_a_whole_building(db):
    from sqlalchemy import select
    from models import Building, Institution
    building = db.session.scalar(select(Building).where(Building.developer_id.isnot(None)))
    dev = db.session.get(Institution, building.developer_id)
    b = rulebook.get("purchase_pre_notice")
    found = lookup.find_units(b, {"survey_number": building.survey_number, "obligor_id_number": dev.uscc})
    assert len(found) == len(building.units)
    assert any(c.ok for c in found) and any(not c.ok for c in found)  # sold units already carry a pre-notice
