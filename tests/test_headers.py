"""Security headers on every response, HTTPS-only mode, no-store on files and sign-in pages, and
FAB's pages working in a real browser under the Content-Security-Policy (app/headers.py)."""
import io
import re
from pathlib import Path

from flask import Flask, session

from app import headers, rulebook

ROOT = Path(__file__).resolve().parent.parent


def policy(response) -> dict:
    """The Content-Security-Policy as {directive: [sources]}."""
    out = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def assert_secure_headers(response):
    csp = policy(response)
    assert "'self'" in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"] and "*" not in csp["script-src"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_files_and_errors_carry_the_security_headers(client):
    for url in ("/", "/login/", "/guide/", "/public/progress", "/static/css/registry.css", "/no-such-page"):
        r = client.get(url)
        assert_secure_headers(r)
        assert "Strict-Transport-Security" not in r.headers, url  # REGISTRY_HTTPS is off: plain http works
    client.auth.login("admin")
    r = client.get("/unitview/list/")
    assert r.status_code == 200
    assert_secure_headers(r)


def test_fab_inline_scripts_carry_this_requests_nonce_and_ours_need_none(client):
    """FAB's list page has inline scripts (filters, delete buttons); each carries the nonce the header
    allows, and the nonce changes with every response."""
    client.auth.login("admin")
    nonces = []
    for _ in range(2):
        r = client.get("/unitview/list/")
        header = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", policy(r)["script-src"][-1])
        assert header, r.headers["Content-Security-Policy"]
        # (a JSON data block is not run: it needs no nonce)
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")([^>]*)>", r.get_data(as_text=True))
        assert len(inline) >= 3
        assert all(f'nonce="{header.group(1)}"' in attrs for attrs in inline)
        nonces.append(header.group(1))
    assert nonces[0] != nonces[1]


def test_our_templates_hold_no_inline_script():
    """Scripts of ours are files under app/static; a template passes them data through data-* attributes."""
    offenders = []
    for path in sorted((ROOT / "views" / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                        r"\son[a-z]+\s*=", r"javascript:", r"baselib\.get_nonce|csp_nonce"):
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


def test_hsts_and_https_redirect_only_with_registry_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/", base_url="https://localhost").headers
    assert client.get("/").status_code == 200  # http is served, not redirected
    app.config["REGISTRY_HTTPS"] = True
    try:
        r = client.get("/", base_url="https://localhost")
        assert r.status_code == 200 and r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        r = client.post("/login/?next=/", data={"username": "x"})
        assert r.status_code == 308 and r.headers["Location"] == "https://localhost/login/?next=/"
        assert client.get("/healthz").status_code == 200  # the load balancer's plain-http check
    finally:
        app.config["REGISTRY_HTTPS"] = False


def _tiny_app(**config):
    tiny = Flask("tiny")
    tiny.config.update(SECRET_KEY="k" * 32, **config)
    headers.init_app(tiny)

    @tiny.route("/")
    def index():
        session["seen"] = True
        return "ok"
    return tiny


def test_registry_https_makes_the_session_cookie_secure():
    secure = _tiny_app(REGISTRY_HTTPS=True).test_client().get("/", base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]
    assert secure.headers["Strict-Transport-Security"] == headers.HSTS
    plain = _tiny_app(REGISTRY_HTTPS=False).test_client().get("/")
    assert plain.status_code == 200 and "Secure" not in plain.headers["Set-Cookie"]


def test_sign_in_pages_are_never_stored(client):
    for url in ("/login/", "/login/?method=ca", "/accounts/forgot/", "/accounts/register/",
                "/accounts/register/institution/"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", url
    refused = client.post("/login/ca/", data={})
    assert refused.headers["Cache-Control"] == "no-store"
    client.auth.login("bank_a_admin")
    assert client.get("/settings/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/guide/").headers.get("Cache-Control", "")  # ordinary pages may be kept


def test_pdfs_and_material_files_are_never_stored(client, db):
    from tests.test_desk import apply_through_views, submit
    _user, case = apply_through_views(client, rulebook.get("mortgage_first"))
    pdf = client.get(f"/desk/case/{case.id}/print")
    assert pdf.mimetype == "application/pdf" and pdf.headers["Cache-Control"] == "no-store"
    material = case.materials[0]
    for url in (f"/desk/case/{case.id}/materials/{material.id}", f"/desk/case/{case.id}/materials/{material.id}?download=1"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", url
        # the preview's own stricter policy stays; framing is refused all the same
        assert policy(r)["default-src"] == ["'none'"] and policy(r)["frame-ancestors"] == ["'none'"]
    assert submit(client, case).status_code == 200
    client.auth.login("reviewer")
    r = client.get(f"/review/case/{case.id}/materials/{material.id}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


# ---- the browser ------------------------------------------------------------------------------

def watch(page):
    """Every Content-Security-Policy complaint and every error the page reports (but the browser's
    own request for a favicon, which the app does not have)."""
    problems = []

    def console(m):
        where = m.location.get("url") or ""
        if "Content Security Policy" in m.text or (m.type == "error" and not where.endswith("/favicon.ico")):
            problems.append(f"{m.text} ({where})")
    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


def test_login_home_and_a_fab_list_work_under_the_policy(page, live_server):
    from app.demo import DEMO_PASSWORD
    problems = watch(page)
    page.goto(f"{live_server}/")
    page.goto(f"{live_server}/login/")
    page.click("#tab-ca-link")  # Bootstrap's tabs run from FAB's bundled scripts
    assert page.locator("#ca-key-file").is_visible()
    page.click("#tab-password-link")
    page.fill("#tab-password input[name=username]", "admin")
    page.fill("#tab-password input[name=password]", DEMO_PASSWORD)
    page.click("#password-submit")
    page.wait_for_load_state()
    assert page.locator("#logout-form").count() == 1 and "/login" not in page.url
    # the menu bar's dropdowns open
    page.locator("a.dropdown-toggle", has_text="业务查询").click()
    page.locator("a[href='/unitview/list/']").first.click()
    page.wait_for_load_state()
    assert page.locator("table.table").count() >= 1
    # FAB's delete confirmation opens (and is cancelled: nothing deleted)
    page.locator("a[id^=btn-delete-]").first.click()
    page.locator("#modal-confirm").wait_for(state="visible")
    page.locator("#modal-confirm button[data-dismiss=modal]").first.click()
    page.locator("#modal-confirm").wait_for(state="hidden")
    # FAB's search: open the panel, add a filter, type, search
    page.click("a.accordion-toggle[href='#accordion1_href']")
    page.click("button:has-text('添加过滤条件')")
    page.click("a.filter[name=room]")
    page.locator("table.filters input[name^=_flt_]").fill("101")  # room starts with 101
    page.click("#filter_form button[type=submit]")
    page.wait_for_load_state()
    rooms = page.locator("table.table-bordered tbody tr td:nth-child(4)").all_inner_texts()
    assert "_flt_" in page.url and rooms and all(r.startswith("101") for r in rooms)
    # FAB's show page (tabs) and edit form (select2 and the date picker start from ab.js)
    page.goto(f"{live_server}/unitview/show/1")
    page.goto(f"{live_server}/unitview/edit/1")
    page.locator(".select2-container").first.wait_for()
    # sign out through the navbar's POST form
    page.click("a.dropdown-toggle:has(.fa-user)")
    page.click("#logout-button")
    page.wait_for_load_state()
    assert page.locator("#logout-form").count() == 0
    assert page.locator("a[href*='/login']").count() >= 1
    assert problems == []


def test_the_operators_workbench_and_office_list_work_under_the_policy(page, live_server, db):
    from app.demo import DEMO_PASSWORD
    from tests import factories
    for _ in range(2):
        factories.case(db, "bank_a_op")  # two drafts in the todo list
    problems = watch(page)
    page.goto(f"{live_server}/login/")
    page.fill("#tab-password input[name=username]", "bank_a_op")
    page.fill("#tab-password input[name=password]", DEMO_PASSWORD)
    page.click("#password-submit")
    page.wait_for_load_state()
    page.locator("#volume-chart canvas, #volume-chart svg, #volume-chart div").first.wait_for()
    page.goto(f"{live_server}/desk/office/todo")
    boxes = page.locator(".print-pick")
    assert boxes.count() >= 2
    page.check("#check-all")
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert problems == []
