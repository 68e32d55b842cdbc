"""The configurator console: an edit in the browser takes effect for new cases at once, cases in
flight keep their version, every save is a version with a diff, and any version can be restored."""
import re

import pytest
from sqlalchemy import select

from app import rulebook
from app.rulebook import workflow
from models import RuleVersion
from tests import factories
from tests.conftest import browser_logout
from tests.test_workflow import complete, free_unit

NEW_MATERIAL = """  - key: valuation_report
    name: {zh: 房地产估价报告, en: Valuation report}
    required: true
    accept: [pdf]
    max_files: 1
"""


def active_text(db, key):
    return db.session.scalar(select(RuleVersion.content).where(RuleVersion.business_key == key, RuleVersion.active.is_(True)))


def edit_form(client, key):
    page = client.get(f"/rules/{key}/edit").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    return page, base


def save(client, key, text, base, note="test"):
    return client.post(f"/rules/{key}/edit", data={"content": text, "base_version": base, "note": note},
                       follow_redirects=True)


@pytest.fixture
def configurator(client):
    client.auth.login("configurator")
    return client


def test_console_lists_every_business_with_its_version(db, configurator):
    page = configurator.get("/rules/").get_data(as_text=True)
    for b in rulebook.all_businesses():
        assert b.name.zh in page
    assert "房屋抵押权首次登记" in page and "预购商品房预告登记" in page


def test_business_page_renders_materials_fields_diagram_fees_and_time_limit(db, configurator):
    page = configurator.get("/rules/mortgage_first/").get_data(as_text=True)
    assert "抵押合同及主债权合同（借款合同）" in page and "不动产权属来源证明材料" in page
    assert 'data-field="secured_amount"' in page and "<code>mortgage_kind</code> = 2" in page
    assert "<svg" in page and 'data-state="pre_review"' in page
    assert "捌拾元整" in page and "80.00" in page
    assert "5" in re.search(r'class="time-limit">([^<]*)<', page).group(1)


def test_people_without_the_configurator_role_cannot_edit(db, client):
    before = len(rulebook.versions("mortgage_first"))
    client.auth.login("bank_a_op")
    page = client.get("/rules/mortgage_first/edit", follow_redirects=True).get_data(as_text=True)
    assert 'name="content"' not in page
    client.post("/rules/mortgage_first/edit", data={"content": "key: x"}, follow_redirects=True)
    assert len(rulebook.versions("mortgage_first")) == before


def test_invalid_edit_is_shown_against_its_line_and_not_saved(db, configurator):
    _page, base = edit_form(configurator, "mortgage_first")
    text = active_text(db, "mortgage_first").replace("working_days: 5", "working_dayz: 5")
    before = len(rulebook.versions("mortgage_first"))
    page = save(configurator, "mortgage_first", text, base).get_data(as_text=True)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "working_dayz" in s)
    assert f"第 {line} 行：time_limit.working_dayz：未知的键 &#39;working_dayz&#39;" in page  # in Chinese by default
    assert f'data-line="{line}"' in page and "working_dayz: 5" in page  # the typed text is kept
    assert len(rulebook.versions("mortgage_first")) == before


def test_required_material_added_in_the_browser_applies_to_new_cases_only_and_can_be_rolled_back(db, configurator):
    op = factories.user(db, "bank_a_op")
    old_case = workflow.start_case("mortgage_first", op, [free_unit(db).id])
    old_version = rulebook.get("mortgage_first").version

    _page, base = edit_form(configurator, "mortgage_first")
    original = active_text(db, "mortgage_first")
    edited = original.replace("\nworkflow: standard_review", NEW_MATERIAL + "\nworkflow: standard_review", 1)
    assert edited != original
    page = save(configurator, "mortgage_first", edited, base, note="估价报告必须提供").get_data(as_text=True)
    assert f"版本 {old_version + 1}" in page

    # Versions: author, note and the diff against the previous version.
    page = configurator.get("/rules/mortgage_first/versions").get_data(as_text=True)
    assert "configurator" in page and "估价报告必须提供" in page
    assert "+  - key: valuation_report" in page and f"--- v{old_version}" in page

    # A new case needs the material; the case started before does not.
    new_case = workflow.start_case("mortgage_first", op, [free_unit(db).id])
    assert new_case.rules_version_id != old_case.rules_version_id
    complete(db, new_case)
    complete(db, old_case)
    assert [p.field for p in workflow.check(new_case, "submit") if p.severity == "critical"] == ["material:valuation_report"]
    with pytest.raises(workflow.WorkflowError) as exc:
        workflow.fire(new_case, "submit", op)
    assert "房地产估价报告" in " ".join(exc.value.problems)
    assert not [p for p in workflow.check(old_case, "submit") if p.severity == "critical"]
    workflow.fire(old_case, "submit", op)
    assert old_case.node == "pre_review"

    # Roll back: the earlier text becomes the newest version and new cases no longer need it.
    page = configurator.post(f"/rules/mortgage_first/versions/{old_version}/restore", follow_redirects=True).get_data(as_text=True)
    assert active_text(db, "mortgage_first") == original
    latest = rulebook.versions("mortgage_first")[0]
    assert latest.version == old_version + 2 and latest.active and "restored version" in latest.note
    assert f'data-version="{latest.version}"' in page
    after = workflow.start_case("mortgage_first", op, [free_unit(db).id])
    complete(db, after)
    assert not [p for p in workflow.check(after, "submit") if p.severity == "critical"]
    # ... while the case started under the edited version still keeps it.
    assert any(m.key == "valuation_report" for m in rulebook.for_case(new_case).materials)


def test_a_stale_edit_does_not_overwrite_a_newer_version(db, configurator):
    _page, base = edit_form(configurator, "mortgage_cancel")
    text = active_text(db, "mortgage_cancel")
    save(configurator, "mortgage_cancel", text.replace("max_files: 10", "max_files: 11", 1), base)
    page = save(configurator, "mortgage_cancel", text.replace("max_files: 10", "max_files: 12", 1), base).get_data(as_text=True)
    assert "max_files: 12" not in active_text(db, "mortgage_cancel")
    assert 'name="content"' in page  # back on the form with the text kept
    rulebook.restore_version("mortgage_cancel", int(base))


def test_public_guide_needs_no_login(db, client):
    client.post("/logout/")
    index = client.get("/guide/")
    assert index.status_code == 200 and "房屋抵押权注销登记" in index.get_data(as_text=True)
    page = client.get("/guide/mortgage_pre_notice/").get_data(as_text=True)
    assert "购房人按揭购买预售商品房" in page
    assert "当事人关于抵押预告登记的约定" in page and "<svg" in page
    assert client.get("/guide/no_such_business/").status_code == 404


def test_configurator_sees_the_rules_menu(db, configurator):
    page = configurator.get("/", follow_redirects=True).get_data(as_text=True)
    assert "/rules/" in page and "/guide/" in page


def test_flowchart_highlights_the_path_of_a_case(db):
    from app.services import flowchart
    op = factories.user(db, "bank_a_op")
    case = workflow.start_case("mortgage_first", op, [free_unit(db).id])
    complete(db, case)
    workflow.fire(case, "submit", op)
    svg = flowchart.render(rulebook.for_case(case), case)
    assert '<g class="edge taken" data-event="submit">' in svg
    assert '<g class="state current visited" data-state="pre_review">' in svg
    assert 'class="state" data-state="issued"' in svg


def test_business_keys_appear_only_in_rules_and_tests():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    keys = [p.stem for p in (root / "rules").glob("*.yaml") if p.stem != "vocabularies"]
    pattern = re.compile(r"\b(" + "|".join(keys) + r")\b")
    offenders = [f"{p.relative_to(root)}:{n}" for folder in ("app", "views", "models")
                 for p in (root / folder).rglob("*") if p.suffix in (".py", ".html")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_a_changed_rules_file_is_imported_as_a_new_version_unless_edited_in_the_console(app, db, tmp_path, monkeypatch):
    import shutil
    original = (rulebook._rules_dir() / "mortgage_correction.yaml").read_text(encoding="utf-8")
    rules = tmp_path / "rules"
    shutil.copytree(rulebook._rules_dir(), rules)
    f = rules / "mortgage_correction.yaml"

    def deploy(days):
        f.write_text(original.replace("working_days: 5", f"working_days: {days}"), encoding="utf-8")
        monkeypatch.setattr(rulebook, "_imported", set())  # as if the app started again

    monkeypatch.setitem(app.config, "RULES_DIR", str(rules))
    deploy(4)
    assert rulebook.get("mortgage_correction").time_limit.working_days == 4
    assert rulebook.versions("mortgage_correction")[0].note.startswith("imported from")
    rulebook.save_version("mortgage_correction", original.replace("working_days: 5", "working_days: 3"),
                          factories.user(db, "configurator"))
    deploy(2)
    assert rulebook.get("mortgage_correction").time_limit.working_days == 3  # the configurator's edit wins
    monkeypatch.undo()
    rulebook.save_version("mortgage_correction", original, factories.user(db, "configurator"), note="back to the file")
    assert rulebook.get("mortgage_correction").time_limit.working_days == 5


def test_edit_page_lists_the_names_rules_may_use(db, configurator):
    page = configurator.get("/rules/mortgage_first/edit").get_data(as_text=True)
    for name in ("id_or_uscc", "not_sealed", "fees_paid", "create_mortgage", "ownership", "mortgage_kinds", "standard_review"):
        assert f"<code>{name}</code>" in page


def test_configurator_adds_a_material_in_a_real_browser_and_rolls_it_back(page, live_server, app):
    """The acceptance walk in Debian chromium: edit, save, see the diff, a new case needs it, restore."""
    from app.demo import DEMO_PASSWORD
    from app.extensions import db as _db
    with app.app_context():
        original = active_text(_db, "mortgage_first")
        before = rulebook.get("mortgage_first").version
    browser_logout(page, live_server)
    page.goto(f"{live_server}/login/")
    page.locator("input[name=username]:visible").first.fill("configurator")
    password = page.locator("input[name=password]:visible").first
    password.fill(DEMO_PASSWORD)
    password.press("Enter")
    page.wait_for_load_state()
    page.goto(f"{live_server}/rules/mortgage_first/edit")
    text = page.input_value("textarea[name=content]")
    page.fill("textarea[name=content]", text.replace("\nworkflow: standard_review", NEW_MATERIAL + "\nworkflow: standard_review", 1))
    page.fill("input[name=note]", "新增估价报告")
    page.locator("button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/rules/mortgage_first/versions" in page.url
    assert page.locator(f'.rule-version[data-version="{before + 1}"] .rules-diff').inner_text().count("valuation_report") >= 1
    with app.app_context():
        op = factories.user(_db, "bank_a_op")
        case = workflow.start_case("mortgage_first", op, [free_unit(_db).id])
        assert "material:valuation_report" in {p.field for p in workflow.check(case, "submit")}
    page.locator(f'.rule-version[data-version="{before}"] button[type=submit]').click()
    page.wait_for_load_state()
    assert page.locator(f'.rule-version[data-version="{before + 2}"] .label-success').count() == 1
    with app.app_context():
        assert active_text(_db, "mortgage_first") == original
