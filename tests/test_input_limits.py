"""Ids at or beyond 2**63 anywhere (a path part, an int: converter, a query argument) are answered
404 or 400, never a 500: SQLite cannot bind such an int (OverflowError) and PostgreSQL's bigint ends
there too. The crawl takes every rule of the URL map that has an id-like part."""
import re

import pytest

BIG = (2**63, 2**64)
# Plausible values for the parts that are not ids, so the request reaches the code that reads the id.
FILLS = {"key": "mortgage_first", "locale": "zh", "name": "muldelete", "filename": "x.pdf", "token": "x",
         "group_by": "x"}
SKIP = ("static", "appbuilder.static")


def _id_like(rule, arg):
    converter = rule._converters.get(arg)
    return type(converter).__name__.endswith("IntegerConverter") or arg in ("pk", "order", "version") \
        or arg.endswith("_id")


def _fill(rule, values):
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def crawl_targets(app):
    """(method, url) for every rule with an id-like part: the id as 2**63 and 2**64, the other parts
    once plausible and once the same big number."""
    targets = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or not any(_id_like(rule, a) for a in rule.arguments):
            continue
        for n in BIG:
            for values in ({a: n for a in rule.arguments},
                           {a: (n if _id_like(rule, a) else FILLS.get(a, "x")) for a in rule.arguments}):
                for method in {"GET", "POST"} & rule.methods:
                    targets.add((method, _fill(rule, values)))
    return sorted(targets)


def query_targets(app):
    """Every argument-less GET page with id-like query arguments (and FAB's filter on id) at 2**63."""
    n, targets = 2**63, set()
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or "logout" in rule.rule or rule.endpoint in SKIP:
            continue
        targets.add(("GET", f"{rule.rule}?id={n}&case_id={n}&pk={n}&_flt_0_id={n}&version={n}"))
    return sorted(targets)


def _server_errors(client, targets):
    failures = []
    for method, url in targets:
        try:
            status = client.open(url, method=method, data={"action": "muldelete", "rowid": str(2**64)}).status_code
        except Exception as exc:  # TESTING propagates a 500 as the exception itself
            status = f"{type(exc).__name__}: {exc}"[:120]
        if not isinstance(status, int) or status >= 500:
            failures.append((method, url, status))
    return failures


@pytest.mark.parametrize("username", ["admin", "bank_a_op"])
def test_no_route_answers_a_huge_id_with_a_server_error(app, client, username):
    page = client.auth.login(username).get_data(as_text=True)
    assert "/logout" in page
    targets = crawl_targets(app)
    assert len(targets) > 200  # every FAB view's show/edit/delete/action plus our own int routes
    assert ("POST", f"/desk/case/{2**64}/materials/{2**64}/delete") in targets
    failures = _server_errors(client, targets) + _server_errors(client, query_targets(app))
    assert failures == []
    assert "/logout" in client.get("/").get_data(as_text=True)  # still signed in: the crawl ran as that user


def test_a_huge_int_part_is_not_found(client):
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    assert "/logout" in page
    for n in BIG:
        assert client.get(f"/desk/case/{n}/").status_code == 404
        assert client.get(f"/caseview/show/{n}").status_code == 404
    assert client.get(f"/desk/case/{2**31 - 1}/").status_code == 404  # the largest id is merely absent
    assert client.get(f"/desk/case/{2**31}/").status_code == 404  # beyond an INTEGER id (PostgreSQL: 32 bits)


def test_a_key_beyond_an_integer_column_is_not_found(client):
    """PostgreSQL's INTEGER ids end at 2**31 - 1: a larger key must not reach the driver (a DataError, a 500)."""
    client.auth.login("admin")
    for n in (2**31, 2**62):
        assert client.get(f"/caseview/show/{n}").status_code == 404
        assert client.get(f"/desk/case/{n}/").status_code == 404
