"""The rules console refuses YAML anchors and aliases, oversized documents and too many nodes before
building anything: a "billion laughs" alias bomb or a recursive alias used to take the server down
(exponential memory, or a RecursionError answered with a 500)."""
import time

import pytest

from app.rulebook import source
from app.rulebook.source import SourceProblem
from tests.test_rules_console import active_text, edit_form, save

BILLION_LAUGHS = "\n".join(
    ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
       f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]) + "\n"
RECURSIVE = "key: mortgage_first\nloop: &loop\n  again: *loop\n"


@pytest.fixture
def configurator(client):
    page = client.auth.login("configurator").get_data(as_text=True)
    assert "/logout" in page
    return client


def test_an_alias_bomb_is_refused_fast_with_a_chinese_message(db, configurator):
    before = active_text(db, "mortgage_first")
    _, base = edit_form(configurator, "mortgage_first")
    started = time.monotonic()
    r = save(configurator, "mortgage_first", before + "\n" + BILLION_LAUGHS, base)
    elapsed = time.monotonic() - started
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and elapsed < 1.0, elapsed
    assert "不允许使用 YAML 锚点和别名" in page
    assert active_text(db, "mortgage_first") == before


def test_a_recursive_alias_is_refused_not_a_server_error(db, configurator):
    _, base = edit_form(configurator, "mortgage_first")
    r = save(configurator, "mortgage_first", RECURSIVE, base)
    assert r.status_code == 200
    assert "不允许使用 YAML 锚点和别名" in r.get_data(as_text=True)


def test_an_anchor_alone_is_refused_with_its_line(app):
    with pytest.raises(SourceProblem) as exc:
        source.load("key: x\nnames: &n {zh: 甲}\n", "t.yaml")
    (problem,) = exc.value.problems
    assert problem.line == 2 and "anchors" in problem.render(False)


def test_a_document_over_the_byte_cap_is_refused_before_parsing(app):
    big = "items:\n" + "  - x\n" * (source.MAX_BYTES // 6 + 1)
    started = time.monotonic()
    with pytest.raises(SourceProblem) as exc:
        source.load(big, "big.yaml")
    assert time.monotonic() - started < 0.1
    assert "KB" in exc.value.problems[0].render(False)


def test_a_document_with_too_many_nodes_is_refused(app):
    many = "items: [" + ",".join(["1"] * (source.MAX_NODES + 1)) + "]\n"
    assert len(many.encode()) < source.MAX_BYTES
    with pytest.raises(SourceProblem) as exc:
        source.load(many, "many.yaml")
    assert "nodes" in exc.value.problems[0].render(False)


def test_a_normal_edit_still_saves(db, configurator):
    before = active_text(db, "mortgage_first")
    _, base = edit_form(configurator, "mortgage_first")
    text = before.replace("\n", "\n# 一行注释\n", 1)
    r = save(configurator, "mortgage_first", text, base)
    assert r.status_code == 200
    assert active_text(db, "mortgage_first") == text
