"""A rules version is the whole resolved business: the business text plus the shared workflow,
vocabularies, tax table and calendar it was checked with, stored once each by content address. A case
keeps its version; a deploy that edits a shared workflow changes new cases only. Versions pinned by
open cases are re-checked at start-up and in the console; a business file newer than a console edit
is offered as a three-way view, never skipped silently."""
import html
import logging
import re
import shutil
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import rulebook
from app.rulebook import workflow
from models import Case, RuleBlob, RuleVersion
from tests import factories
from tests.test_workflow import free_unit

KEY = "mortgage_first"          # runs on the shared workflow standard_review
OTHER = "mortgage_change"       # the same shared workflow


@pytest.fixture
def rules_dir(app, tmp_path, monkeypatch):
    """A copy of rules/ the test may edit; deploy() is a restart of the app on the edited files."""
    folder = tmp_path / "rules"
    shutil.copytree(rulebook._rules_dir(), folder)
    monkeypatch.setitem(app.config, "RULES_DIR", str(folder))

    def deploy():
        rulebook._imported.clear()      # as if the app started again on the files
        rulebook._cache.clear()         # and nothing is remembered from before
        rulebook._contexts.clear()
        rulebook.all_businesses()
    yield SimpleNamespace(path=folder, deploy=deploy)
    monkeypatch.undo()
    rulebook._imported.clear()          # the next test imports the shipped files again
    rulebook._cache.clear()
    rulebook._contexts.clear()


@pytest.fixture
def op(db):
    return factories.user(db, "bank_a_op")


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_workflow_file_edit_does_not_change_a_pinned_case(db, op, rules_dir):
    rules_dir.deploy()
    pinned = workflow.start_case(KEY, op, [free_unit(db).id])
    before = rulebook.for_case(pinned).workflow.transition("accept")
    assert before.label.zh == "受理" and not before.requires_opinion

    # The deploy changes the shared workflow: accepting now needs an opinion and is named anew.
    _edit(rules_dir.path / "workflows" / "standard_review.yaml", "label: {zh: 受理, en: Accept}",
          "label: {zh: 受理（新）, en: Accept (new)}\n    requires_opinion: true")
    rules_dir.deploy()

    db.session.expire_all()
    case = db.session.get(Case, pinned.id)
    kept = rulebook.for_case(case).workflow.transition("accept")
    assert kept.label.zh == "受理" and not kept.requires_opinion          # the case keeps its workflow
    fresh = workflow.start_case(KEY, op, [free_unit(db).id])
    assert fresh.rules_version_id != pinned.rules_version_id
    new = rulebook.for_case(fresh).workflow.transition("accept")
    assert new.label.zh == "受理（新）" and new.requires_opinion          # a new case gets the new one
    # Every business on the shared workflow got a new version that shares the one new workflow part.
    a, b = rulebook.get(KEY), rulebook.get(OTHER)
    assert a.parts["workflows/standard_review.yaml"] == b.parts["workflows/standard_review.yaml"]
    assert rulebook.for_case(case).parts["workflows/standard_review.yaml"] != a.parts["workflows/standard_review.yaml"]
    assert db.session.scalar(select(func.count()).select_from(RuleBlob).where(
        RuleBlob.digest == a.parts["workflows/standard_review.yaml"])) == 1


def test_a_vocabulary_edit_does_not_change_what_a_pinned_case_accepts(db, op, rules_dir):
    rules_dir.deploy()
    pinned = workflow.start_case(KEY, op, [free_unit(db).id])
    codes = [v.code for v in rulebook.for_case(pinned).vocabularies["reject_types"]]
    assert "data_error" in codes
    _edit(rules_dir.path / "vocabularies.yaml", "{code: data_error,", "{code: renamed_reason,")
    rules_dir.deploy()
    db.session.expire_all()
    assert [v.code for v in rulebook.for_case(db.session.get(Case, pinned.id)).vocabularies["reject_types"]] == codes
    assert "renamed_reason" in [v.code for v in rulebook.get(KEY).vocabularies["reject_types"]]


def test_identical_parts_are_stored_once(db, rules_dir):
    rules_dir.deploy()
    rows = db.session.scalars(select(RuleVersion).where(RuleVersion.active.is_(True))).all()
    vocab = {r.parts["rules/vocabularies.yaml"] for r in rows}
    assert len(rows) >= 14 and len(vocab) == 1
    assert {r.parts["tax/deed_tax.yaml"] for r in rows} and {r.parts["calendar/holidays.yaml"] for r in rows}
    assert db.session.scalar(select(func.count()).select_from(RuleBlob).where(RuleBlob.digest.in_(vocab))) == 1
    # A comment is not a change: the same content keeps the same address and no new version is made.
    versions = db.session.scalar(select(func.count()).select_from(RuleVersion))
    _edit(rules_dir.path / "vocabularies.yaml", "categories:", "# a comment\ncategories:")
    rules_dir.deploy()
    assert db.session.scalar(select(func.count()).select_from(RuleVersion)) == versions


def test_a_pinned_version_that_no_longer_loads_is_reported_by_name(app, db, op, client, rules_dir, caplog):
    rules_dir.deploy()
    case = workflow.start_case(KEY, op, [free_unit(db).id])
    row = db.session.get(RuleVersion, case.rules_version_id)
    text = row.content
    rulebook.save_version(KEY, text.replace("working_days: 5", "working_days: 4"), factories.user(db, "configurator"))
    # The case's (older) version names an effect the code no longer has, as after an upgrade that removed it.
    row = db.session.get(RuleVersion, case.rules_version_id)
    assert not row.active
    row.content = text.replace("effects: [create_mortgage]", "effects: [create_mortgage_v0]", 1)
    db.session.commit()
    rulebook._cache.clear()

    with caplog.at_level(logging.WARNING):
        rulebook.init_app(app)                        # start-up: a warning, not a crash
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"{KEY} version {row.version}" in m and "create_mortgage_v0" in m for m in warned), warned

    client.auth.login("configurator")
    page = client.get("/rules/").get_data(as_text=True)
    banner = re.search(r'class="alert alert-danger rules-pinned-broken">(.*?)</div>', page, re.S)
    assert banner and f"{KEY} 第 {row.version} 版（1 件在办）" in banner.group(1)
    assert "create_mortgage_v0" in banner.group(1) and "未知的登簿效果" in banner.group(1)


@pytest.fixture
def configurator(client):
    client.auth.login("configurator")
    yield client
    client.get("/lang/zh")


def _active(db, key):
    return db.session.scalar(select(RuleVersion).where(RuleVersion.business_key == key, RuleVersion.active.is_(True)))


def _console_save(client, key, old, new):
    page = client.get(f"/rules/{key}/edit").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    text = re.search(r'<textarea name="content"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    text = html.unescape(text)
    assert old in text
    response = client.post(f"/rules/{key}/edit", data={"content": text.replace(old, new, 1), "base_version": base})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_newer_file_after_a_console_edit_shows_in_the_three_way_view(db, configurator, rules_dir):
    key = "mortgage_correction"
    rules_dir.deploy()
    _console_save(configurator, key, "working_days: 5", "working_days: 3")
    console = _active(db, key)
    # Then a deploy changes another line of the business file.
    _edit(rules_dir.path / f"{key}.yaml", "max_files: 10", "max_files: 12")
    rules_dir.deploy()
    db.session.expire_all()
    assert _active(db, key).id == console.id              # the console's version stays active ...

    index = configurator.get("/rules/").get_data(as_text=True)
    assert "rules-precedence" in index and "一经在此编辑，则以本控制台的版本为准" in index
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', index, re.S).group(1)
    assert "文件较新：合并" in row                           # ... and the newer file is shown, not skipped
    edit = configurator.get(f"/rules/{key}/edit").get_data(as_text=True)
    assert "rules-file-newer" in edit

    page = configurator.get(f"/rules/{key}/merge").get_data(as_text=True)
    sides = {name: html.unescape(re.search(rf'class="rules-side {name}"[^>]*>(.*?)</pre>', page, re.S).group(1))
             for name in ("rules-file", "rules-console-text")}
    merged = html.unescape(re.search(r'<textarea name="content" class="form-control rules-merged"[^>]*>(.*?)</textarea>',
                                     page, re.S).group(1))
    assert "max_files: 12" in sides["rules-file"] and "working_days: 5" in sides["rules-file"]
    assert "working_days: 3" in sides["rules-console-text"] and "max_files: 12" not in sides["rules-console-text"]
    assert "working_days: 3" in merged and "max_files: 12" in merged and "<<<<<<<" not in merged

    response = configurator.post(f"/rules/{key}/merge", data={"content": merged, "base_version": str(console.version)})
    assert response.status_code == 302
    db.session.expire_all()
    saved = _active(db, key)
    assert saved.version == console.version + 1 and "max_files: 12" in saved.content and "working_days: 3" in saved.content
    assert rulebook.file_change(key) is None                # merged: nothing left to offer
    assert rulebook.get(key).time_limit.working_days == 3


def test_the_three_way_merge_marks_lines_changed_on_both_sides():
    base = "a: 1\nb: 2\nc: 3\n"
    merged, conflicts = rulebook.merge3(base, "a: 1\nb: 20\nc: 3\n", "a: 1\nb: 200\nc: 30\n")
    assert conflicts == 1
    # The hunk is the lines either side changed (b and c): each side's version of them, between markers.
    assert merged == "a: 1\n<<<<<<< console\nb: 20\nc: 3\n=======\nb: 200\nc: 30\n>>>>>>> file\n"
    merged, conflicts = rulebook.merge3(base, "a: 10\nb: 2\nc: 3\n", "a: 1\nb: 2\nc: 30\n")
    assert (merged, conflicts) == ("a: 10\nb: 2\nc: 30\n", 0)


def test_a_tax_file_edit_does_not_change_a_pinned_cases_rates(db, rules_dir):
    """The sandbox bureau and the tax guard assess a case with the deed-tax table its version pinned."""
    from app.services import tax
    rules_dir.deploy()
    seller = factories.user(db, "bank_a_op")
    pinned = workflow.start_case("second_hand_transfer", seller, [free_unit(db).id])
    _edit(rules_dir.path / "tax" / "deed_tax.yaml", '- {rate: "0.03"}', '- {rate: "0.05"}')
    rules_dir.deploy()
    db.session.expire_all()
    case = db.session.get(Case, pinned.id)
    assert tax.deed_tax("1000000", 120, False, rulebook.for_case(case).tax) == (Decimal("0.03"), Decimal("30000.00"))
    fresh = workflow.start_case("second_hand_transfer", seller, [free_unit(db).id])
    assert tax.deed_tax("1000000", 120, False, rulebook.for_case(fresh).tax)[0] == Decimal("0.05")
