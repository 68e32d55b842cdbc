"""Keyset paging (app/paging.py): pages by cursor show every row once, in order, also when rows tie
on the sort column or it is NULL; counts stop at the cap; a forged cursor or an unknown sort column
is a 400 that says so in Chinese."""
import datetime as dt
import re

import pytest
from sqlalchemy import event, insert, select

from models import Case, Operator

TIED = dt.datetime(2026, 11, 30, 9, 30, 0)
N_TODO, N_WAITING = 45, 43  # more than two pages of 20 each, rows tying on their sort column


@pytest.fixture(scope="module")
def tied(app):
    """N_TODO cases in bank_a_op's 待办 updated at one instant, N_WAITING waiting in 预审 submitted at one
    instant (drafts have no submitted_at: the case list sorted by it crosses the NULLs)."""
    from app import rulebook
    from app.extensions import db
    with app.app_context():
        op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
        version = rulebook.get("mortgage_first").version_id
        common = dict(business_key="mortgage_first", rules_version_id=version, institution_id=op.institution_id,
                      applicant_id=op.id, form_data={}, version=1, created_at=TIED, updated_at=TIED)
        db.session.execute(insert(Case), [dict(common, number=f"PGTODO{i:04d}", executor_id=op.id, node="draft")
                                          for i in range(N_TODO)])
        db.session.execute(insert(Case), [dict(common, number=f"PGWAIT{i:04d}", executor_role="RegistryReviewer",
                                               node="pre_review", submitted_at=TIED) for i in range(N_WAITING)])
        db.session.commit()
        yield op.institution_id


def _numbers(html, known):
    """The case numbers of `known` on a page, in the order the page shows them (each once)."""
    pattern = re.compile(r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, sorted(known, key=len, reverse=True)))
                         + r")(?![0-9A-Za-z])")
    return list(dict.fromkeys(m.group(1) for m in pattern.finditer(html)))


def _link(html, cls):
    m = re.search(rf'<a href="([^"]+)" class="{cls}"', html)
    return m and m.group(1).replace("&amp;", "&")


def _walk(client, url, known, cls="pager-next"):
    """Follow the pager's 下一页 (or 上一页) links from `url`: [(url, [numbers])] page by page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        pages.append((url, _numbers(html, known)))
        url = _link(html, cls)
        assert len(pages) < 50, "the pager does not end"
    return pages


def _expected(db, where, *order):
    return db.session.scalars(select(Case.number).where(*where).order_by(*order)).all()


def _lists(db, institution_id):
    op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    bank = [Case.institution_id == institution_id]
    return [
        ("bank_a_op", "/caseview/list/", _expected(db, bank, Case.updated_at.desc(), Case.id.desc())),
        ("bank_a_op", "/desk/office/todo", _expected(db, [Case.executor_id == op.id], Case.updated_at.desc(),
                                                     Case.id.desc())),
        ("reviewer", "/review/?node=pre_review", _expected(
            db, [Case.executor_role == "RegistryReviewer", Case.node == "pre_review"], Case.submitted_at, Case.id)),
        # A nullable sort column, both ways: the drafts' NULL submitted_at form a block of their own.
        ("bank_a_op", "/caseview/list/?_oc_CaseView=submitted_at&_od_CaseView=asc",
         _expected(db, bank, Case.submitted_at.asc(), Case.id.asc())),
        ("bank_a_op", "/caseview/list/?_oc_CaseView=submitted_at&_od_CaseView=desc",
         _expected(db, bank, Case.submitted_at.desc(), Case.id.desc())),
    ]


def test_pages_by_cursor_show_every_row_once_in_order_when_rows_tie(client, db, tied):
    for user, url, expected in _lists(db, tied):
        assert len(expected) > 40, (url, len(expected))
        client.auth.login(user)
        forward = _walk(client, url, expected)
        assert len(forward) >= 3, (url, [u for u, _n in forward])
        assert all(len(numbers) == 20 for _u, numbers in forward[:-1]), url
        shown = [n for _u, numbers in forward for n in numbers]
        assert shown == expected, f"{url}: pages overlap or leave gaps"
        # and back from the last page by 上一页: the same pages, the first one again at the end
        backward = _walk(client, forward[-1][0], expected, cls="pager-prev")
        assert [numbers for _u, numbers in backward] == [numbers for _u, numbers in reversed(forward)], url


def test_the_pager_reads_in_chinese_and_leads_back_to_the_first_page(client, db, tied):
    client.auth.login("bank_a_op")
    first = client.get("/desk/office/todo").get_data(as_text=True)
    op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    total = len(_expected(db, [Case.executor_id == op.id], Case.id))
    assert f"共 {total:,} 条" in first
    assert '<span>首页</span>' in first and '<span>上一页</span>' in first and "下一页" in first
    second_url = _link(first, "pager-next")
    assert "after=" in second_url and "page=" not in second_url
    second = client.get(second_url).get_data(as_text=True)
    assert _link(second, "pager-first") == "/desk/office/todo" and _link(second, "pager-prev")
    # The FAB lists say it the same way, with the filters kept in the links.
    fab = client.get("/caseview/list/?_flt_0_business_key=mortgage_first").get_data(as_text=True)
    assert "下一页" in fab and re.search(r"共 [\d,]+ 条", fab) and "Record Count" not in fab
    assert "_flt_0_business_key=mortgage_first" in _link(fab, "pager-next")


def _statements(app, client, url):
    from app.extensions import db
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return response, seen


def test_counts_stop_at_the_cap_and_read_at_most_cap_plus_one_rows(app, client, tied):
    app.config["REGISTRY_LIST_COUNT_CAP"] = 10
    try:
        for user, url, plus in [("bank_a_op", "/caseview/list/", "共 10+ 条"), ("bank_a_op", "/desk/office/todo", "共 10+ 条"),
                                ("reviewer", "/review/?node=pre_review", '<span class="badge">10+</span>'),
                                ("reviewer", "/", None)]:
            client.auth.login(user)
            response, seen = _statements(app, client, url)
            assert response.status_code == 200, url
            if plus:
                assert plus in response.get_data(as_text=True), url
            counts = [(sql, params) for sql, params in seen if re.search(r"\bcount\(", sql, re.I)
                      and re.search(r"\bcase_file\b", sql)]
            assert counts, f"{url} counted no cases"
            for sql, params in counts:
                # every count of cases reads a LIMIT cap+1 subquery, never the whole filtered set
                assert re.search(r"\bLIMIT\b", sql), sql
                values = list(params.values()) if isinstance(params, dict) else list(params)
                assert 11 in values, (sql, params)
    finally:
        app.config["REGISTRY_LIST_COUNT_CAP"] = 10000


def test_the_count_helper_is_exact_below_the_cap_and_says_more_beyond(app, db, tied):
    from app import paging
    with app.test_request_context():
        q = select(Case).where(Case.number.like("PGTODO%"))
        exact, capped = paging.capped_count(q, cap=N_TODO), paging.capped_count(q, cap=N_TODO - 1)
        assert (int(exact), exact.capped, str(exact)) == (N_TODO, False, str(N_TODO))
        assert (int(capped), capped.capped, str(capped)) == (N_TODO - 1, True, f"{N_TODO - 1}+")
        assert str(paging.Count(12345, 10000)) == "10,000+"


def _a_cursor(client, url):
    link = _link(client.get(url).get_data(as_text=True), "pager-next")
    assert link, f"{url} has no next page"
    return re.search(r"after=([^&]+)", link).group(1)


def test_a_forged_cursor_is_a_400_that_says_so_in_chinese(client, tied):
    client.auth.login("bank_a_op")
    real = _a_cursor(client, "/caseview/list/")
    forged = real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB")
    for url in ["/caseview/list/?after=" + forged, "/caseview/list/?before=not-a-cursor",
                "/desk/office/todo?after=" + forged, "/desk/office/done?before=%00%ff",
                "/proofs/?after=x.y", "/caseview/list/?after=" + "A" * 5000]:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert "该翻页链接已损坏" in response.get_data(as_text=True), url
    client.auth.login("reviewer")
    assert client.get("/review/?node=pre_review&after=" + forged).status_code == 400
    client.auth.login("bank_a_admin")
    assert client.get("/auditlogview/list/?after=" + forged).status_code == 400


def test_a_cursor_of_another_list_or_order_starts_at_the_first_page(client, tied):
    client.auth.login("bank_a_op")
    todo_cursor = _a_cursor(client, "/desk/office/todo")
    first = client.get("/caseview/list/").get_data(as_text=True)
    other = client.get("/caseview/list/?after=" + todo_cursor)
    assert other.status_code == 200 and "<span>上一页</span>" in other.get_data(as_text=True)
    assert _numbers(other.get_data(as_text=True), ["PGTODO0044", "PGWAIT0042"]) == _numbers(first, ["PGTODO0044", "PGWAIT0042"])
    # The sort header's link keeps the cursor of the old order: the new order starts from its beginning.
    case_cursor = _a_cursor(client, "/caseview/list/")
    resorted = client.get(f"/caseview/list/?after={case_cursor}&_oc_CaseView=number&_od_CaseView=asc")
    assert resorted.status_code == 200 and "<span>上一页</span>" in resorted.get_data(as_text=True)


def test_an_unknown_sort_column_is_a_400_on_a_framework_list(client):
    client.auth.login("admin")
    for url in ["/caseview/list/?_oc_CaseView=no_such_column&_od_CaseView=asc",
                "/caseview/list/?_oc_CaseView=institution&_od_CaseView=asc",  # a relation, not a column
                "/auditlogview/list/?_oc_AuditLogView=person&_od_AuditLogView=asc"]:  # a Python property
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert "该列表不能按此列排序" in response.get_data(as_text=True), url


def test_a_page_size_from_the_url_is_held_between_one_and_a_hundred_rows(client, tied):
    from app import paging
    assert [paging.page_size(n) for n in (100000, 0, None, 50)] == [100, 20, 20, 50]
    client.auth.login("bank_a_op")
    html = client.get("/caseview/list/?psize_CaseView=30").get_data(as_text=True)
    assert len(_numbers(html, [f"PGTODO{i:04d}" for i in range(N_TODO)] + [f"PGWAIT{i:04d}" for i in range(N_WAITING)])) == 30
    assert client.get("/caseview/list/?psize_CaseView=100000").status_code == 200


def test_a_cursor_carries_each_kind_of_sort_value_unchanged(app):
    from decimal import Decimal

    from app import paging
    values = [dt.datetime(2026, 12, 1, 9, 30, 0, 123456), dt.date(2026, 12, 1), dt.time(9, 30), Decimal("90.25"),
              "湘(2026)长沙市不动产权第0000001号", 7, 2.5, True, None]
    for value in values:
        with app.app_context():
            cursor = paging.make_cursor("UnitView", "area.asc", value, 42)
        with app.test_request_context(f"/unitview/list/?after={cursor}"):
            assert paging.read_cursor("UnitView", "area.asc") == ("after", value, 42), value


def test_a_list_built_once_makes_its_page_statements_once(client, tied):
    """待办's query is built once with its per-request values bound by name (views/desk.py), so every
    page of it, the first and any cursor's, reuses the same statements: no statement is made again."""
    from app import paging
    client.auth.login("bank_a_op")

    def made():
        return sum(len(memo) for memo in paging._DERIVED.values())
    first = client.get("/desk/office/todo")
    second_url = _link(first.get_data(as_text=True), "pager-next")
    third_url = _link(client.get(second_url).get_data(as_text=True), "pager-next")
    before = made()
    for url in ("/desk/office/todo", second_url, third_url, second_url):
        assert client.get(url).status_code == 200
    assert made() == before


def test_a_derived_statement_is_made_once_and_goes_with_its_base():
    import gc
    import weakref

    from sqlalchemy import bindparam

    from app import paging
    base = select(Case).where(Case.executor_id == bindparam("me"))
    calls = []
    one = paging.derived(base, "page", lambda q: calls.append(q) or q.limit(21))
    two = paging.derived(base, "page", lambda q: calls.append(q) or q.limit(21))
    assert one is two and len(calls) == 1
    gone = weakref.ref(base)
    del base, one, two, calls
    gc.collect()
    assert gone() is None, "the memo keeps its base alive (a leak for per-request statements)"


def test_a_pager_link_is_the_url_url_for_builds(app):
    """Page.link builds the list's URL once (app/url_memo.py) and adds its arguments as url_for encodes
    them: Chinese, spaces, slashes and ampersands in a filter, a cursor, a dropped page number."""
    from flask import url_for

    from app.paging import Page
    args = {"_flt_0_location": "长沙 12栋/101室&x=1", "_oc_CaseView": "number", "page_CaseView": "3", "empty": ""}
    with app.test_request_context("/caseview/list/", query_string=args):
        from flask import request
        request.url_rule = app.url_map._rules_by_endpoint["CaseView.list"][0]
        request.view_args = {}
        page = Page(rows=[], size=20, args=request.args.to_dict())
        for cursor in ({"after": "eyJ4IjoxfQ.abc-_"}, {"before": "x y"}, {}):
            expected = url_for("CaseView.list", **{k: v for k, v in args.items() if not k.startswith("page")}, **cursor)
            assert page.link(**cursor) == expected, cursor
