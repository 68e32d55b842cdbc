"""In the browser: the Admin finds a signed-in operator under 在线用户 and forces the logout; the
operator's next page is the login page, saying why."""
from sqlalchemy import select

from models import UserSession
from tests.accounts_helpers import PASSWORD, new_account
from tests.factories import institution

DEMO = "Demo@2026"


def sign_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("#tab-password input[name=username]", username)
    page.fill("#tab-password input[name=password]", password)
    page.click("#password-submit")
    page.wait_for_load_state()
    assert page.locator("#logout-form").count() == 1, f"{username} could not sign in"


def test_admin_forces_a_logout_and_the_users_next_page_is_the_login_page(page, browser, live_server, db):
    user = new_account(db, institution=institution(db, "bank_a"), first_name="周下线")
    operator = browser.new_context()
    try:
        their = operator.new_page()
        sign_in(their, live_server, user.username, PASSWORD)
        their.goto(f"{live_server}/caseview/list/")
        assert their.locator("#logout-form").count() == 1

        sign_in(page, live_server, "admin", DEMO)
        page.goto(f"{live_server}/onlineuserview/list/")
        row = page.locator("tr", has_text=user.username)
        assert row.count() == 1 and "周下线" in row.inner_text()
        db.session.expire_all()
        session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user.id))
        row.locator(f'a[href*="/onlineuserview/show/{session_id}"]').first.click()
        page.wait_for_load_state()
        page.click("#force-logout")
        page.wait_for_load_state()
        assert page.locator("tr", has_text=user.username).count() == 0  # no longer online

        their.goto(f"{live_server}/caseview/list/")
        assert their.locator("#login-page").count() == 1
        assert "/login/" in their.url
        assert "您已被管理员强制下线" in their.content()
        assert their.locator("#logout-form").count() == 0
    finally:
        operator.close()
