"""字典管理 in the browser (Debian chromium, CSRF on): the configurator finds 字典管理 in the menu, changes
the words of a code, and the new words show on the dictionary's list and on a register list a reviewer
reads; the history shows the change."""
from .conftest import browser_logout
from .test_browser_desk import login


def signed_in(page):
    return page.locator("#logout-form").count() > 0


def test_configurator_edits_a_label_and_sees_it_on_the_lists(page, live_server):
    login(page, live_server, "configurator")
    assert signed_in(page)
    page.click("a.dropdown-toggle:has-text('系统管理')")
    page.click("a:has-text('字典管理')")
    page.wait_for_load_state()
    row = page.locator("#dictionary-types tr[data-type='institution_kind']")
    assert "机构类型" in row.inner_text() and "银行" in row.inner_text()
    row.locator("a:has-text('编辑')").click()
    page.wait_for_load_state()
    bank = page.locator("#dictionary-form tr[data-code='bank']")
    bank.locator("input[name^='label_zh-']").fill("商业银行（字典）")
    bank.locator("select[name^='color-']").select_option("primary")
    page.fill("#dictionary-note", "统一称谓")
    page.click("#dictionary-save")
    page.wait_for_load_state()
    assert "已保存为版本 2" in page.inner_text("body")

    page.click("a:has-text('返回字典列表')")
    page.wait_for_load_state()
    row = page.locator("#dictionary-types tr[data-type='institution_kind']")
    assert "商业银行（字典）" in row.inner_text()
    assert row.locator("span.label-primary:has-text('商业银行（字典）')").count() == 1
    row.locator("a:has-text('历史版本')").click()
    page.wait_for_load_state()
    assert "统一称谓" in page.inner_text("#dictionary-versions")

    login(page, live_server, "reviewer")
    assert signed_in(page)
    page.goto(f"{live_server}/institutionview/list/")
    cells = page.locator("table.table-hover tbody, table.table tbody").last.inner_text()
    assert "商业银行（字典）" in cells
    browser_logout(page, live_server)


def test_admin_turns_on_the_image_code_and_the_login_page_shows_it(page, live_server, app):
    from sqlalchemy import delete

    from app.extensions import db
    from models import Setting
    login(page, live_server, "admin")
    assert signed_in(page)
    page.click("a.dropdown-toggle:has-text('系统管理')")
    page.click("a:has-text('参数设置')")
    page.wait_for_load_state()
    try:
        page.fill("#setting-login_captcha_after", "1")
        page.click("#parameters-save")
        page.wait_for_load_state()
        assert "已保存" in page.inner_text("body") and page.input_value("#setting-login_captcha_after") == "1"
        browser_logout(page, live_server)
        page.goto(f"{live_server}/login/")
        assert page.locator("#login-captcha-image").count() == 0
        page.fill("#tab-password input[name=username]", "reviewer")
        page.fill("#tab-password input[name=password]", "not-the-password-1")
        page.click("#password-submit")
        page.wait_for_load_state()
        image = page.locator("#login-captcha-image")
        assert image.count() == 1 and page.locator("#password-captcha").is_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn and allowed by the page's policy
    finally:
        with app.app_context():
            db.session.execute(delete(Setting))
            db.session.commit()
