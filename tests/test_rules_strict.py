"""The strict loader: what effects and guards need of a business (typed effect options, party roles,
per-unit fields, the order of register and issue effects), prefill and required_when names, overrides
that drop a guard or an effect without naming it, and the tax and calendar files through the same
schema path. Each kind of mistake is refused with file, line and key path: through the loader (in
English, as start-up reports it) and through the rules console, in Chinese and then in English."""
import html
import re
import shutil

import pytest
from sqlalchemy import select

from app import rulebook
from app.rulebook.loader import RulesError, load_directory, parse_business
from models import RuleVersion

# (id, business, old, new, line needle, key path, Chinese, English). A message ending in "（可用：" or
# "(known: " is compared up to there (the list of known names follows).
MISTAKES = [
    ("unknown_effect_option", "mortgage_first", "\nfees:\n", "\neffect_options: {holder_rol: obligee}\nfees:\n",
     "holder_rol", "effect_options.holder_rol",
     "未知的效果选项 'holder_rol'（本业务的效果可用：无）",
     "unknown effect option 'holder_rol' (the effects of this business take: none)"),
    ("option_not_a_role", "mortgage_pre_notice", "obligee_role: mortgagee", "obligee_role: mortgagees",
     "obligee_role", "effect_options.obligee_role",
     "'mortgagees' 不是 form.parties 中的当事人角色（可用：", "'mortgagees' is not a party role of form.parties (known: "),
    ("option_not_a_code", "mortgage_pre_notice", 'pre_notice_kind: "3"', 'pre_notice_kind: "9"',
     "pre_notice_kind", "effect_options.pre_notice_kind",
     "'9' 不是代码表 pre_notice_kinds 中的代码（可用：", "'9' is not a code of vocabulary pre_notice_kinds (known: "),
    ("option_not_a_field", "mortgage_pre_notice", "amount_field: secured_amount", "amount_field: secured_amout",
     "amount_field", "effect_options.amount_field",
     "'secured_amout' 不是表单中的逐单元字段（可用：", "'secured_amout' is not a per-unit field of the form (known: "),
    ("effect_needs_a_role", "mortgage_transfer", "    assignee: {label", "    assignees: {label",
     "effects: [transfer_mortgage]", "workflow_overrides.record.effects",
     "登簿效果（effect）'transfer_mortgage' 需要 form.parties 中有当事人角色 'assignee'（现有：",
     "effect 'transfer_mortgage' needs the party role 'assignee' in form.parties (known: "),
    ("issue_before_record", "mortgage_general_online", "effects: [create_mortgage, issue_proof, finish]",
     "effects: [issue_proof, create_mortgage, finish]", "effects: [issue_proof", "workflow_overrides.pay.effects",
     "效果 'issue_proof' 排在登簿效果 'create_mortgage' 之前；登簿效果必须在前",
     "effect 'issue_proof' comes before the register effect 'create_mortgage'; the register effect must come first"),
    ("issue_without_record", "mortgage_first", "  record:\n    effects: [create_mortgage]", "  record:\n    effects: []",
     "effects: [issue_proof", "workflow_overrides.issue.effects",
     "效果 'issue_proof' 可在状态 'recorded' 下先于任何登簿效果（无）执行：届时没有可发放的证书或证明",
     "effect 'issue_proof' can run from state 'recorded' before any register effect (none): nothing would be issued"),
    ("override_drops_fees_paid", "mortgage_first", "  record:\n    effects: [create_mortgage]",
     "  record:\n    guards: []\n    effects: [create_mortgage]", "guards: []", "workflow_overrides.record.guards",
     "此覆盖去掉了共享流程中的 fees_paid；如确要去掉，请在 remove 中列出",
     "the override drops fees_paid of the shared workflow; name them under 'remove' to remove them on purpose"),
    ("remove_names_nothing_there", "mortgage_first", "  record:\n    effects: [create_mortgage]",
     "  record:\n    remove: [fees_payd]\n    effects: [create_mortgage]", "remove: [fees_payd]",
     "workflow_overrides.record.remove",
     "'fees_payd' 不在共享流程该环节的前置条件或效果中（fees_paid）",
     "'fees_payd' is not among the shared transition's guards or effects (fees_paid)"),
    ("prefill_unknown", "mortgage_change", "prefill: scope}", "prefill: scop}", "prefill: scop}",
     "form.per_unit[6].prefill",
     "prefill 引用的 'scop' 不是 mortgage 记录的属性（可用：", "prefill names 'scop', which a mortgage record does not have (known: "),
    ("required_when_value", "mortgage_first", 'required_when: {mortgage_kind: "2"}', 'required_when: {mortgage_kind: "9"}',
     'mortgage_kind: "9"', "form.per_unit[2].required_when",
     "'9' 不是字段 'mortgage_kind' 的代码表 mortgage_kinds 中的代码（可用：",
     "'9' is not a code of vocabulary mortgage_kinds of field 'mortgage_kind' (known: "),
    ("guard_needs_the_tax_price_field", "second_hand_transfer", "- {field: price,", "- {field: deal_price,",
     "guards: [fees_paid, tax_cleared]", "workflow_overrides.pay.guards",
     "前置条件（guard）'tax_cleared' 需要逐单元字段 'price'（tax/deed_tax.yaml price_field）",
     "guard 'tax_cleared' needs the per-unit field 'price' (tax/deed_tax.yaml price_field)"),
]


def _text(key):
    return (rulebook._rules_dir() / f"{key}.yaml").read_text(encoding="utf-8")


def _mistake(key, old, new):
    text = _text(key)
    assert old in text, old
    edited = text.replace(old, new, 1)
    assert edited != text
    return edited


def _line(text, needle):
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def _expected(language, key, line, path, message):
    if language == "zh":
        return f"rules/{key}.yaml 第 {line} 行：{path}：{message}"
    return f"rules/{key}.yaml, line {line}: {path}: {message}"


def _matches(found, wanted):
    if wanted.endswith(("（可用：", "(known: ", "（现有：")):
        return found.startswith(wanted)
    return found == wanted


def _post(client, key, text):
    page = client.get(f"/rules/{key}/edit").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    response = client.post(f"/rules/{key}/edit", data={"content": text, "base_version": base, "note": "test"})
    assert response.status_code == 200   # not saved: back on the form
    block = re.search(r'class="alert alert-danger rules-problems">(.*?)</div>', response.get_data(as_text=True), re.S)
    return [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


@pytest.fixture
def configurator(client):
    client.auth.login("configurator")
    yield client
    client.get("/lang/zh")


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_the_loader_refuses_each_kind_of_mistake_with_file_and_line(app, mistake):
    name, key, old, new, needle, path, _zh, en = mistake
    text = _mistake(key, old, new)
    with app.app_context():
        ctx = rulebook._context()
        parse_business(_text(key), f"rules/{key}.yaml", ctx, expected_key=key)   # the file as shipped passes
        with pytest.raises(RulesError) as exc:
            parse_business(text, f"rules/{key}.yaml", ctx, expected_key=key)
    found = [p.english() for p in exc.value.problems]
    wanted = _expected("en", key, _line(text, needle), path, en)
    assert any(_matches(p, wanted) for p in found), (wanted, found)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_the_console_refuses_each_kind_of_mistake_in_chinese_then_in_english(db, configurator, mistake):
    name, key, old, new, needle, path, zh, en = mistake
    before = db.session.scalar(select(RuleVersion.id).where(RuleVersion.business_key == key, RuleVersion.active.is_(True)))
    text = _mistake(key, old, new)
    line = _line(text, needle)
    found = _post(configurator, key, text)
    wanted = _expected("zh", key, line, path, zh)
    assert any(_matches(p, wanted) for p in found), (wanted, found)
    configurator.get("/lang/en")
    found = _post(configurator, key, text)
    wanted = _expected("en", key, line, path, en)
    assert any(_matches(p, wanted) for p in found), (wanted, found)
    assert db.session.scalar(select(RuleVersion.id).where(
        RuleVersion.business_key == key, RuleVersion.active.is_(True))) == before   # nothing saved


def test_an_override_that_names_what_it_removes_is_accepted(app):
    text = _mistake("mortgage_first", "  record:\n    effects: [create_mortgage]",
                    "  record:\n    guards: []\n    remove: [fees_paid]\n    effects: [create_mortgage]")
    with app.app_context():
        spec, wf = parse_business(text, "rules/mortgage_first.yaml", rulebook._context(), expected_key="mortgage_first")
    assert wf.transition("record").guards == [] and wf.transition("record").effects == ["create_mortgage"]
    shipped = _text("mortgage_first")
    with app.app_context():
        _spec, wf = parse_business(shipped, "rules/mortgage_first.yaml", rulebook._context(), expected_key="mortgage_first")
    assert wf.transition("record").guards == ["fees_paid"]   # an override without guards keeps the shared ones


# (id, file under rules/, old, new, line needle, key path, Chinese, English)
TABLE_MISTAKES = [
    ("misspelt_tax_band", "tax/deed_tax.yaml", '{first_home: true, max_area: "90", rate: "0.01"}',
     '{first_hom: true, max_area: "90", rate: "0.01"}', "first_hom:", "bands[0].first_hom",
     "未知的键 'first_hom'", "unknown key 'first_hom'"),
    ("negative_tax_rate", "tax/deed_tax.yaml", '{rate: "0.03"}', '{rate: "-0.03"}', '"-0.03"', "bands[2].rate",
     "不能小于 0，而这里是 '-0.03'", "should be at least 0, not '-0.03'"),
    ("calendar_span_backwards", "calendar/holidays.yaml", "{from: 2026-10-01, to: 2026-10-07}",
     "{from: 2026-10-07, to: 2026-10-01}", "from: 2026-10-07", "holidays[12]",
     "区间的结束日期（2026-10-01）早于开始日期（2026-10-07）", "the span ends (2026-10-01) before it starts (2026-10-07)"),
    ("calendar_misspelt_key", "calendar/holidays.yaml", "workdays:", "workday:", "workday:", "workday",
     "未知的键 'workday'", "unknown key 'workday'"),
]


@pytest.mark.parametrize("mistake", TABLE_MISTAKES, ids=[m[0] for m in TABLE_MISTAKES])
def test_tax_and_calendar_files_go_through_the_same_schema_path(app, tmp_path, mistake):
    name, filename, old, new, needle, path, zh, en = mistake
    rules = tmp_path / "rules"
    shutil.copytree(rulebook._rules_dir(), rules)
    target = rules / filename
    text = target.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    target.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as exc:   # start-up refuses the directory
        load_directory(rules)
    line = _line(text, needle)
    assert f"{filename}, line {line}: {path}: {en}" in [p.english() for p in exc.value.problems]
    with app.test_request_context("/"):       # shown in a request: Chinese by default
        assert f"{filename} 第 {line} 行：{path}：{zh}" in [str(p) for p in exc.value.problems]
