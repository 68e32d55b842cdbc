"""A bank operator applies for 房屋抵押权首次登记 in a real browser (Debian chromium), end to end, the
long way (every step by hand; tests/test_browser_actions.py counts the short way): lookup (one unit:
the case starts at once), the form, a debtor other than the mortgagor, the mortgagor's SMS
confirmation typed by the clerk, each material in its own row, print (the PDF names the obligee in
Chinese), submit; then the case is in the registry's pre-review queue and in the operator's done list."""
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from app import rulebook
from app.rulebook import legal
from app.demo import DEMO_PASSWORD
from app.extensions import db
from models import Case, SmsMessage
from tests.conftest import browser_logout

from .test_desk import SAMPLES, find_applicable, tiny_pdf

KEY = "mortgage_first"


def login(page, base, username):
    browser_logout(page, base)
    page.goto(f"{base}/login/")
    # The login page has tabs (CA / account); use the visible account form.
    page.locator("input[name=username]:visible").first.fill(username)
    password = page.locator("input[name=password]:visible").first
    password.fill(DEMO_PASSWORD)
    password.press("Enter")
    page.wait_for_load_state()
    assert page.locator("#logout-form").count() == 1, f"{username} could not sign in"


def fill_field(page, name, f):
    if f.type == "choice":
        page.select_option(f"[name='{name}']", rulebook.vocabulary(f.vocabulary)[0].code)
    elif f.type == "boolean":
        page.select_option(f"[name='{name}']", "false")
    elif f.type == "date":
        page.fill(f"[name='{name}']", "2046-01-01" if f.after else "2026-01-01")
    elif f.validator in SAMPLES:
        page.fill(f"[name='{name}']", SAMPLES[f.validator])
    elif f.type == "money":
        page.fill(f"[name='{name}']", "100000.00")
    else:
        page.fill(f"[name='{name}']", "主债权及利息")


def test_operator_applies_for_a_first_mortgage_in_the_browser(page, live_server, app):
    with app.app_context():
        business = rulebook.get(KEY)
        username, keys, unit = find_applicable(business)
        obligee = next(h.party.name for h in unit.rights[0].holders) if unit.rights else None
    login(page, live_server, username)

    page.goto(f"{live_server}/desk/apply/")
    page.click(f"a[data-key={KEY}]")
    for field, value in keys.items():
        page.fill(f"#lookup-form input[name={field}]", value)
    page.click("#lookup-btn")
    page.wait_for_url(re.compile(r"/desk/case/\d+/"))
    case_id = int(re.search(r"/desk/case/(\d+)/", page.url).group(1))
    with app.app_context():
        case = db.session.get(Case, case_id)
        unit_row = case.units[0].id

    for f in business.form.case:
        fill_field(page, f"case__{f.field}", f)
    chosen = {f.field: rulebook.vocabulary(f.vocabulary)[0].code for f in business.form.per_unit if f.type == "choice"}
    for f in business.form.per_unit:
        if legal.applies(f, chosen):
            fill_field(page, f"unit__{unit_row}__{f.field}", f)
        else:   # the amount of the other mortgage kind is not on the form (desk/only_when.js)
            assert page.locator(f"[name='unit__{unit_row}__{f.field}']").is_hidden()
    assert "壹拾万元整" in page.locator(".money-upper").first.inner_text()
    page.click("#save-btn")
    page.wait_for_load_state()
    assert page.locator(".field-error").count() == 0

    debtor_role = next(r for r, s in business.form.parties.items() if s.source == "manual")
    if business.form.parties[debtor_role].same_as:
        with page.expect_navigation():   # the tick saves the page and shows it again
            page.uncheck(f"#same-{debtor_role}")   # the debtor is not the mortgagor this time
        assert page.locator(f"tr.party-row[data-role={debtor_role}]").count() == 0
    page.select_option("#party-role", debtor_role)
    page.fill("#party-name", "王债务")
    page.fill("#party-id_number", SAMPLES["id_card"])
    page.fill("#party-phone", "13900002222")
    page.click("#party-save")
    page.wait_for_load_state()
    assert page.locator("#party-table input[value='王债务']").count() == 1

    # Each party the rules ask to confirm gets an SMS code (local outbox) and confirms.
    for role, spec in business.form.parties.items():
        if not spec.confirm:
            continue
        while page.locator(f"tr.party-row[data-role={role}] .party-unconfirmed").count():
            row = page.locator(f"tr.party-row[data-role={role}]:has(.party-unconfirmed)").first
            row.locator("button.send-code").click()
            page.wait_for_load_state()
            with app.app_context():  # the code went to the party's phone on record; only the sandbox unseals it
                from app.services import verification
                code = verification.reveal(db.session.scalar(
                    select(SmsMessage).where(SmsMessage.purpose == "case_confirm").order_by(SmsMessage.id.desc())))
            row = page.locator(f"tr.party-row[data-role={role}]:has(.party-unconfirmed)").first
            row.locator("input.code-input").fill(code)
            row.locator("button.btn-success").click()
            page.wait_for_load_state()
    assert page.locator(".party-unconfirmed").count() == 0
    assert page.locator(".party-confirmed").count() >= 1

    for spec in business.materials:
        if spec.required:
            # Choosing the files uploads them (no separate click): the page comes back with the file listed.
            with page.expect_navigation():
                page.set_input_files(f"#file-{spec.key}", files=[{
                    "name": f"{spec.key}.pdf", "mimeType": "application/pdf",
                    "buffer": tiny_pdf(f"b{case_id}{spec.key}")}])
            assert page.locator(f"tr[data-material={spec.key}] .material-file").count() == 1

    response = page.request.get(f"{live_server}/desk/case/{case_id}/print")
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace("\n", "")
    assert obligee and obligee in text

    page.click("#event-submit")
    page.wait_for_load_state()
    submitted = business.workflow.transition("submit", business.workflow.initial).to[0]
    assert page.locator("#case-node").inner_text().strip() == business.workflow.states[submitted].label.zh

    with app.app_context():
        number = db.session.get(Case, case_id).number
    page.goto(f"{live_server}/desk/office/done")
    assert page.locator("#done-list", has_text=number).count() == 1
    page.goto(f"{live_server}/desk/office/todo")
    assert page.locator("#todo-list", has_text=number).count() == 0

    login(page, live_server, "reviewer")
    page.goto(f"{live_server}/review/?node={submitted}")
    assert page.locator("#review-queue", has_text=number).count() == 1
    page.click(f"#review-queue a:has-text('{number}')")
    page.wait_for_url(re.compile(r"/review/case/\d+/"))
    assert page.locator(".review-event").count() >= 1
