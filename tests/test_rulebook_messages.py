"""Rules problems in the configurator's language: each kind of mistake, posted as the `configurator`
demo user at the console's edit URL, is told in Chinese by default and in English after /lang/en,
at the right line and key path; shape and name mistakes in one file are reported in one pass."""
import html
import re
import shutil
from datetime import date
from enum import Enum
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from app.rulebook import messages as M
from app.rulebook.loader import RulesError, load_directory
from models import RuleVersion

KEY = "mortgage_first"
FILE = f"rules/{KEY}.yaml"
RULES = Path(__file__).resolve().parent.parent / "rules"


def lookup_emptied(text):
    return re.sub(r"lookup:\n(  - .*\n)+", "lookup: []\n", text, count=1)


# (id, old, new, line needle, key path, Chinese message, English message). A message ending in "（可用："
# or "(known: " is compared up to there (the list of known names follows).
MISTAKES = [
    ("unknown_key", "time_limit: {working_days: 5}", "time_limit: {working_dayz: 5}", "working_dayz",
     "time_limit.working_dayz", "未知的键 'working_dayz'", "unknown key 'working_dayz'"),
    ("missing", "time_limit: {working_days: 5}", "", "key: mortgage_first",
     "time_limit", "缺少必填的键", "required key is missing"),
    ("string_type", "category: mortgage", "category: [mortgage]", "category:",
     "category", "应为文本，而不是 列表", "should be text, not a list"),
    ("bool_parsing", "batch: false", "batch: maybe", "batch:",
     "batch", "应为 true 或 false，而不是 'maybe'", "should be true or false, not 'maybe'"),
    ("int_parsing", "working_days: 5", "working_days: five", "working_days",
     "time_limit.working_days", "应为整数，而不是 'five'", "should be a whole number, not 'five'"),
    ("decimal_parsing", 'amount: "550.00"', 'amount: "55O.00"', "55O.00",
     "fees[0].amounts[1].amount", "应为带引号的金额，如 \"80.00\"，而不是 '55O.00'",
     "should be an amount in quotes such as \"80.00\", not '55O.00'"),
    ("literal_error", "{check: not_mortgaged, severity: warning}", "{check: not_mortgaged, severity: warn}", "severity: warn}",
     "unit_checks[4].severity", "应为 'critical', 'warning' 之一，而不是 'warn'",
     "should be one of 'critical', 'warning', not 'warn'"),
    ("list_type", "applicants: [InstitutionOperator, InstitutionAdmin]", "applicants: InstitutionOperator", "applicants:",
     "applicants", "应为列表，而不是 'InstitutionOperator'", "should be a list, not 'InstitutionOperator'"),
    ("dict_type", "fees:\n", "effect_options: [pre_notice]\nfees:\n", "effect_options",
     "effect_options", "应为“键: 值”的映射，而不是 列表", "should be a mapping of keys to values, not a list"),
    ("model_type", "name: {zh: 房屋抵押权首次登记, en: First registration of a housing mortgage}", "name: 房屋抵押权首次登记",
     "name: 房屋", "name", "应为“键: 值”的映射，而不是 '房屋抵押权首次登记'",
     "should be a mapping of keys to values, not '房屋抵押权首次登记'"),
    ("too_short", None, lookup_emptied, "lookup: []",
     "lookup", "至少需要 1 项，实际为 0 项", "needs at least 1 item(s), found 0"),
    ("less_than_equal", "working_days: 5", "working_days: 50", "working_days",
     "time_limit.working_days", "不能大于 30，而这里是 '50'", "should be at most 30, not '50'"),
    ("string_pattern", "key: mortgage_first", "key: Mortgage-First", "key: Mortgage",
     "key", "'Mortgage-First' 应由 2 至 60 个小写字母、数字或下划线组成，并以字母开头",
     "'Mortgage-First' should be 2 to 60 lowercase letters, digits or underscores, starting with a letter"),
    ("amount_as_number", 'amount: "550.00"', "amount: 550.00", "amount: 550.00",
     "fees[0].amounts[1].amount", "金额请写成带引号的字符串，如 \"80.00\"", "write amounts as quoted strings, e.g. \"80.00\""),
    ("choice_without_vocabulary", "type: choice, vocabulary: loan_types, required: true}", "type: choice, required: true}",
     "field: loan_type", "form.case[1]", "选择（choice）类型的字段需要指定代码表（vocabulary）", "a choice field needs a vocabulary"),
    ("max_below_min", "source: applicant_institution, min: 1, max: 1,", "source: applicant_institution, min: 2, max: 1,",
     "min: 2, max: 1", "form.parties.mortgagee", "max（1）小于 min（2）", "max (1) is smaller than min (2)"),
    ("unknown_validator", "validator: mobile}", "validator: mobil}", "validator: mobil}",
     "form.case[3].validator", "未知的校验器 'mobil'（可用：", "unknown validator 'mobil' (known: "),
    ("unknown_vocabulary", "vocabulary: loan_types", "vocabulary: loan_typos", "loan_typos",
     "form.case[1].vocabulary", "未知的代码表 'loan_typos'（可用：", "unknown vocabulary 'loan_typos' (known: "),
    ("unknown_check", "{check: not_sealed,", "{check: not_seald,", "not_seald",
     "unit_checks[2].check", "未知的检查项 'not_seald'（可用：", "unknown check 'not_seald' (known: "),
    ("unknown_category", "category: mortgage", "category: morgage", "category:",
     "category", "未知的业务类别 'morgage'（代码表 categories：", "unknown category 'morgage' (vocabulary categories: "),
    ("key_not_file_name", "key: mortgage_first", "key: mortgage_frist", "key: mortgage_frist",
     "key", "key 'mortgage_frist' 必须与文件名 'mortgage_first' 一致", "key 'mortgage_frist' must match the file name 'mortgage_first'"),
    ("required_when_unknown", 'required_when: {mortgage_kind: "2"}', 'required_when: {mortgage_knd: "2"}', "mortgage_knd",
     "form.per_unit[2].required_when", "required_when 引用了未知的字段 'mortgage_knd'",
     "required_when refers to unknown field 'mortgage_knd'"),
    ("after_not_date", "after: term_start}", "after: guarantee_scope}", "after: guarantee_scope",
     "form.per_unit[5].after", "after 必须是同一表单中的日期字段，而不是 'guarantee_scope'",
     "after must name a date field of the same form, not 'guarantee_scope'"),
    ("material_twice", "  - key: contracts", "  - key: identity", "max_files: 20",   # line fixed below
     "materials[2].key", "材料键 'identity' 重复声明", "material key 'identity' is declared twice"),
    ("unknown_effect_in_override", "effects: [create_mortgage]", "effects: [create_mortgag]", "create_mortgag]",
     "workflow_overrides.record.effects", "未知的登簿效果（effect）'create_mortgag'（可用：",
     "unknown effect 'create_mortgag' (known: "),
    ("unknown_state_in_override", "to: [draft, pre_review]", "to: [draft, pre_reveiw]", "pre_reveiw",
     "workflow_overrides.reapply.to", "未知的状态 'pre_reveiw'（可用：", "unknown state 'pre_reveiw' (known: "),
    ("unknown_event", "  issue:\n", "  isue:\n", "  isue:",
     "workflow_overrides.isue", "流程中没有事件 'isue'（可用：", "the workflow has no event 'isue' (known: "),
    ("unknown_workflow", "workflow: standard_review", "workflow: standard_reveiw", "workflow: standard_reveiw",
     "workflow", "未知的流程 'standard_reveiw'（可用：", "unknown workflow 'standard_reveiw' (known: "),
    ("duplicate_key", "batch: false\n", "batch: false\nbatch: true\n", "batch: true",
     "batch", "键 'batch' 重复", "duplicate key 'batch'"),
    ("boolean_key", "fees:\n", "on: x\nfees:\n", "on: x",
     "on", "不带引号的键 'on' 会被 YAML 读成布尔值；请加上引号或换一个词",
     "the bare key 'on' is read as a boolean by YAML; quote it or choose another word"),
    ("impossible_date", None, lambda text: re.sub(r"^source: .*$", "source: 2025-02-30", text, count=1, flags=re.M), "source: 2025",
     "source", "'2025-02-30' 看起来是日期，但不是有效的日期；请改正，如果它是文本请加上引号",
     "'2025-02-30' looks like a date but is not one; correct it, or quote it if it is text"),
    ("syntax_tab", "  case:\n    - {field: apply_reason", "  case:\n\t- {field: apply_reason", "field: apply_reason",
     None, "YAML 语法错误：使用了制表符（Tab）缩进，请改用空格缩进",
     "YAML syntax error: a tab is used for indentation; indent with spaces"),
    ("syntax_unclosed_flow", "accept: [pdf, jpg, jpeg, png]\n    max_files: 10", "accept: [pdf, jpg, jpeg, png\n    max_files: 10",
     "max_files: 10", None, "YAML 语法错误：[列表] 或 {映射} 没有闭合", "YAML syntax error: a [list] or {mapping} is not closed"),
]


def active_text(db):
    return db.session.scalar(select(RuleVersion.content).where(RuleVersion.business_key == KEY, RuleVersion.active.is_(True)))


def line_of(text, needle):
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def apply(text, old, new):
    if callable(new):
        edited = new(text)
    else:
        assert old in text, old
        edited = text.replace(old, new, 1)
    assert edited != text
    return edited


def post_edit(client, text):
    """Post the text at the console's edit URL; returns (problems listed above the form, the page)."""
    page = client.get(f"/rules/{KEY}/edit").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    response = client.post(f"/rules/{KEY}/edit", data={"content": text, "base_version": base, "note": "test"})
    assert response.status_code == 200   # not saved: back on the form
    page = response.get_data(as_text=True)
    block = re.search(r'class="alert alert-danger rules-problems">(.*?)</div>', page, re.S).group(1)
    return [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", block, re.S)], html.unescape(page)


def shown_at_line(page, line, message):
    row = re.search(rf'<tr class="danger" data-line="{line}">(.*?)</tr>', page, re.S)
    return row is not None and message in row.group(1)


def expected(language, line, path, message):
    if language == "zh":
        return f"{FILE} 第 {line} 行：{path}：{message}" if path else f"{FILE} 第 {line} 行：{message}"
    return f"{FILE}, line {line}: {path}: {message}" if path else f"{FILE}, line {line}: {message}"


def matches(problem, wanted):
    if wanted.endswith(("（可用：", "(known: ", "categories：", "categories: ")):
        return problem.startswith(wanted)
    return problem == wanted


@pytest.fixture
def configurator(client):
    client.auth.login("configurator")
    yield client
    client.get("/lang/zh")


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_kind_of_mistake_in_chinese_then_in_english(db, configurator, mistake):
    name, old, new, needle, path, zh, en = mistake
    original = active_text(db)
    text = apply(original, old, new)
    line = line_of(text, needle)
    if name == "material_twice":   # the second 'identity' is the one reported
        line = line_of(text, "max_files: 20") - 4
    before = db.session.scalar(select(RuleVersion.version).where(RuleVersion.business_key == KEY, RuleVersion.active.is_(True)))

    problems, page = post_edit(configurator, text)
    wanted = expected("zh", line, path, zh)
    assert any(matches(p, wanted) for p in problems), (wanted, problems)
    at = expected("zh", line, path, "")
    assert sum(p.startswith(at) for p in problems) == 1, problems   # one problem for one mistake
    assert shown_at_line(page, line, wanted if not wanted.endswith(("：", ": ")) else wanted.rsplit("（", 1)[0])
    assert not any(word in " ".join(problems) for word in ("Input should", "Field required", "Extra inputs", ", line "))

    configurator.get("/lang/en")
    problems, page = post_edit(configurator, text)
    wanted = expected("en", line, path, en)
    assert any(matches(p, wanted) for p in problems), (wanted, problems)
    assert not re.search(r"[\u4e00-\u9fff]", " ".join(problems).replace("房屋抵押权首次登记", ""))  # no Chinese left

    assert active_text(db) == original   # nothing was saved
    assert db.session.scalar(select(RuleVersion.version).where(
        RuleVersion.business_key == KEY, RuleVersion.active.is_(True))) == before


def test_shape_and_name_mistakes_are_reported_together_once_each(db, configurator):
    text = active_text(db)
    text = apply(text, "batch: false", "batch: maybe")                                  # shape
    text = apply(text, "    required: true\n    accept: [pdf, jpg, jpeg, png]\n    max_files: 10",
                 "    requird: true\n    accept: [pdf, jpg, jpeg, png]\n    max_files: 10")  # shape, in a material
    text = apply(text, "validator: mobile}", "validator: mobil}")                        # name
    text = apply(text, "vocabulary: loan_types", "vocabulary: loan_typos")                 # name
    text = apply(text, "effects: [create_mortgage]", "effects: [create_mortgag]")          # name, in an override
    problems, _page = post_edit(configurator, text)
    wanted = [
        expected("zh", line_of(text, "batch: maybe"), "batch", "应为 true 或 false，而不是 'maybe'"),
        expected("zh", line_of(text, "requird"), "materials[0].requird", "未知的键 'requird'"),
        expected("zh", line_of(text, "loan_typos"), "form.case[1].vocabulary", "未知的代码表 'loan_typos'（可用："),
        expected("zh", line_of(text, "validator: mobil}"), "form.case[3].validator", "未知的校验器 'mobil'（可用："),
        expected("zh", line_of(text, "create_mortgag]"), "workflow_overrides.record.effects", "未知的登簿效果（effect）'create_mortgag'（可用："),
    ]
    assert len(problems) == len(wanted), problems
    for w in wanted:
        assert sum(matches(p, w) for p in problems) == 1, (w, problems)


def test_a_broken_part_does_not_make_names_that_refer_to_it_look_wrong(db, configurator):
    """term_end says `after: term_start`; term_start's own type is misspelt. Only that is reported,
    not "after must name a date field"; and a lookup key with a stray key still counts as the key
    the lookup record needs."""
    text = active_text(db)
    text = apply(text, "en: Term start}, earliest: \"1949-10-01\", years_ahead: 1, type: date,",
                 "en: Term start}, earliest: \"1949-10-01\", years_ahead: 1, type: datum,")
    text = apply(text, "validator: id_or_uscc}\n\nunit_checks", "validator: id_or_uscc, extra: 1}\n\nunit_checks")
    problems, _page = post_edit(configurator, text)
    assert problems == [
        expected("zh", line_of(text, "lookup:") + 2, "lookup[1].extra", "未知的键 'extra'"),
        expected("zh", line_of(text, "type: datum"), "form.per_unit[4].type",
                 "应为 'text', 'choice', 'money', 'date', 'boolean', 'integer', 'id_number' 之一，而不是 'datum'"),
    ]


def test_problems_are_in_english_without_a_request(tmp_path):
    """Start-up (no request, no user) words problems in English, whatever the default language."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    f = rules / "mortgage_first.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("batch: false", "batch: maybe"), encoding="utf-8")
    with pytest.raises(RulesError) as exc:
        load_directory(rules)
    line = line_of(f.read_text(encoding="utf-8"), "batch: maybe")
    assert str(exc.value) == f"Invalid rules:\n  - rules/mortgage_first.yaml, line {line}: batch: should be true or false, not 'maybe'"


def test_a_shared_workflow_reports_shape_and_names_together_and_its_users_stay_quiet(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    f = rules / "workflows" / "standard_review.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace("    from: accepted\n    to: approved", "    from: accepted\n    to: aproved", 1)
    text = text.replace("requires_opinion: true", "requires_opinion: maybe", 1)
    f.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as exc:
        load_directory(rules)
    problems = [str(p) for p in exc.value.problems]
    assert any(p.startswith(f"workflows/standard_review.yaml, line {line_of(text, 'to: aproved')}: transitions[2].to: "
                            "unknown state 'aproved' (known: ") for p in problems), problems
    assert any(p.startswith(f"workflows/standard_review.yaml, line {line_of(text, 'requires_opinion: maybe')}: ")
               and p.endswith("requires_opinion: should be true or false, not 'maybe'") for p in problems), problems
    # Nothing else: no "cannot be reached" through the broken transition, no "unknown workflow" in
    # the business files that use it.
    assert len(problems) == 2, problems


@pytest.mark.parametrize("annotation, value, zh, en", [
    (date, "2025-13-01", "应为日期，如 2025-01-31，而不是 '2025-13-01'", "should be a date such as 2025-01-31, not '2025-13-01'"),
    (Enum("Kind", {"A": "critical", "B": "warning"}), "fatal", "应为 'critical', 'warning' 之一，而不是 'fatal'",
     "should be one of 'critical', 'warning', not 'fatal'"),
    (dict[str, str], [1], "应为“键: 值”的映射，而不是 列表", "should be a mapping of keys to values, not a list"),
    (list[str], {"a": 1}, "应为列表，而不是 映射", "should be a list, not a mapping"),
    (str, None, "应为文本，而不是 空值", "should be text, not an empty value"),
    (int, "1.5", "应为整数，而不是 '1.5'", "should be a whole number, not '1.5'"),
    (bool, [True], "应为 true 或 false，而不是 列表", "should be true or false, not a list"),
])
def test_pydantic_error_types_are_worded_by_the_catalogue(app, annotation, value, zh, en):
    with pytest.raises(ValidationError) as exc:
        TypeAdapter(annotation).validate_python(value)
    [err] = exc.value.errors()
    message = M.from_pydantic(err)
    assert message.render(translate=False) == en
    with app.test_request_context():
        assert str(message) == zh      # Chinese is the default language
