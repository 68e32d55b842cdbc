"""A real browser (Debian chromium) logs in as an institution operator and lands on the Chinese workbench."""
from app.demo import DEMO_PASSWORD


def test_operator_logs_in_and_sees_the_chinese_workbench(page, live_server):
    page.goto(f"{live_server}/login/")
    page.fill("#tab-password input[name=username]", "bank_a_op")
    page.fill("#tab-password input[name=password]", DEMO_PASSWORD)
    page.click("#tab-password [type=submit]")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="工作台").count() >= 1
    assert page.get_by_text("业务办公").first.is_visible()
    assert "中国建设银行长沙岳麓支行" in page.content()
