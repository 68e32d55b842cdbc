"""A hand-edited list URL (an unknown sort column or direction, an unknown filter) is a 400 that says
in Chinese what was wrong, on every list; never a 500, never a list that silently ignores the filter."""
import pytest

BAD = [("_oc_{v}=no_such_column", "不能按此列排序"), ("_oc_{v}=location&_od_{v}=sideways", "不能按此列排序"),
       ("_flt_0_no_such_column=x", "不能按该条件筛选"),
       ("_flt_x_location=x", "不能按该条件筛选")]


def _lists(app):
    """Every FAB list page (a list endpoint without URL arguments) and its view's name."""
    return sorted({(rule.rule, rule.endpoint.split(".")[0]) for rule in app.url_map.iter_rules()
                   if rule.endpoint.endswith(".list") and not rule.arguments})


def test_every_list_refuses_unknown_sort_and_filter_arguments_with_a_chinese_400(app, client):
    client.auth.login("admin")
    lists = _lists(app)
    assert len(lists) >= 10, lists
    for path, view in lists:
        for query, words in BAD:
            response = client.get(f"{path}?{query.format(v=view)}")
            assert response.status_code == 400, (path, query, response.status_code)
            assert words in response.get_data(as_text=True), (path, query)


@pytest.mark.parametrize("query", ["_flt_0_location=长沙", "_oc_UnitView=location&_od_UnitView=desc",
                                   "_flt_2_location=长沙"])
def test_a_known_filter_or_sort_still_lists(client, query):
    client.auth.login("admin")
    response = client.get(f"/unitview/list/?{query}")
    assert response.status_code == 200
    assert "长沙" in response.get_data(as_text=True)
