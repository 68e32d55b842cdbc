"""Phone layout and the personal font size, in a real browser (Debian chromium).

At 390×844 (a common phone) the desk case page, the review case page, the 待办 list and FAB's own
list pages fit the screen: no sideways scrolling, tables read as cards. With the large font chosen
in 个人设置, FAB's list cells, form inputs and buttons grow too, not only our own text.
"""
import pytest

from app import rulebook
from app.extensions import db as _db
from models import Case

from .test_browser_desk import login
from .test_desk import apply_through_views, submit

PHONE = {"width": 390, "height": 844}

# Elements sticking out past the right edge of the screen: named in the failure message.
OVERFLOW_JS = """() => {
  const w = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 1 && getComputedStyle(el).position !== 'fixed') {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
               ' right=' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: w, out: out.slice(0, 12)};
}"""


@pytest.fixture(scope="module")
def cases(app):
    """A draft of bank_a_op's (with parties, so party actions show) and a submitted one for the reviewer."""
    from .conftest import Auth, IsolatedClient
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.auth = Auth(client)
    with app.app_context():
        business = rulebook.get("mortgage_first")
        username, draft = apply_through_views(client, business)
        assert username == "bank_a_op"
        _u, sent = apply_through_views(client, business, exclude=[cu.unit_id for cu in draft.units])
        assert submit(client, sent).status_code == 200
        _db.session.expire_all()
        assert _db.session.get(Case, sent.id).submitted_at is not None
        return draft.id, sent.id


def _fits(page, url):
    page.goto(url)
    page.wait_for_load_state()
    assert "/login/" not in page.url, url
    report = page.evaluate(OVERFLOW_JS)
    assert report["scroll"] <= report["inner"], (url, report)


def test_the_desk_pages_fit_a_phone(browser, live_server, cases):
    draft, _sent = cases
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    login(page, live_server, "bank_a_op")
    assert "陈晓东" in page.content()
    _fits(page, f"{live_server}/desk/case/{draft}/")
    # The party actions (confirm, remove ...) are on screen, not cut off at the right.
    actions = page.locator("#party-table button:visible, #party-table a.btn:visible")
    assert actions.count() > 0
    for i in range(actions.count()):
        box = actions.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    # Table rows read as cards: each cell carries its column's name.
    assert page.locator("#history td[data-label]").count() > 0
    _fits(page, f"{live_server}/desk/office/todo")
    _fits(page, f"{live_server}/caseview/list/")
    context.close()


def test_the_review_page_and_the_framework_lists_fit_a_phone(browser, live_server, cases):
    _draft, sent = cases
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    login(page, live_server, "reviewer")
    assert "审核员" in page.content()
    _fits(page, f"{live_server}/review/case/{sent}/")
    _fits(page, f"{live_server}/review/")
    _fits(page, f"{live_server}/unitview/list/")
    login(page, live_server, "admin")
    assert "系统管理员" in page.content()
    _fits(page, f"{live_server}/users/list/")
    # FAB's list rows are cards: the header row is hidden and each cell names its column.
    assert not page.locator("table.table thead").first.is_visible()
    cell = page.locator("table.table td[data-label='姓名']").first
    assert cell.is_visible()
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"姓名"'
    _fits(page, f"{live_server}/auditlogview/list/")
    context.close()


def _sizes(page, live_server):
    page.goto(f"{live_server}/users/list/")
    cell = page.locator("table.table td").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    button = page.locator(".btn").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    page.goto(f"{live_server}/users/add")
    field = page.locator("input[name=first_name]").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    return cell, button, field


def _choose_font(page, live_server, size):
    page.goto(f"{live_server}/settings/")
    page.select_option("#font-form select[name=font_size]", size)
    page.click("#font-form [name=save_font]")
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1


def test_the_large_font_also_grows_the_framework_tables_inputs_and_buttons(page, live_server):
    login(page, live_server, "admin")
    assert "系统管理员" in page.content()
    _choose_font(page, live_server, "normal")
    normal = _sizes(page, live_server)
    _choose_font(page, live_server, "large")
    large = _sizes(page, live_server)
    _choose_font(page, live_server, "normal")
    assert all(b > a for a, b in zip(normal, large)), (normal, large)
