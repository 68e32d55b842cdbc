"""In the browser: a holder registers a real-name account (mobile, SMS code, name and ID number), sees
我的证照 with the certificate's number and verification code, downloads the PDF, and the QR code printed
on it (read back with zbarimg from the rendered page) opens the verification page, which confirms it."""
import re
import secrets
import subprocess

from sqlalchemy import select

from models import Certificate, Operator, Right
from tests.accounts_helpers import last_code
from tests.conftest import browser_logout


def test_a_holder_registers_sees_my_certificates_downloads_the_pdf_and_its_qr_verifies(page, live_server, db,
                                                                                       tmp_path):
    rights = db.session.scalars(select(Right).where(Right.status == "current").order_by(Right.id.desc())).unique().all()
    right = next(r for r in rights if len(r.holders) == 1)
    holder = right.holders[0].party
    cert = Certificate(number=right.certificate_number, kind="certificate", token=secrets.token_urlsafe(24),
                       unit_id=right.unit_id, holder_names=holder.name)
    db.session.add(cert)
    db.session.commit()
    phone = f"1588{secrets.randbelow(10**7):07d}"

    browser_logout(page, live_server)
    page.goto(f"{live_server}/accounts/register/")

    def fill_in(code):
        for name, value in (("phone", phone), ("code", code), ("name", holder.name), ("id_number", holder.id_number),
                            ("password", "Holder2026x"), ("confirm", "Holder2026x")):
            page.fill(f"#register-form [name={name}]", value)
        page.check("#register-form [name=accept_terms]")

    fill_in("000000")  # the form's required fields first: the browser checks them before any button posts
    page.click("#register-form [name=send_code]")
    page.wait_for_load_state()
    fill_in(last_code(db, phone))
    page.click("#register-form [name=submit]")
    page.wait_for_url(re.compile(r"/login/"))
    db.session.expire_all()
    assert db.session.scalar(select(Operator.id_number).where(Operator.username == phone)) == holder.id_number

    page.fill("#tab-password input[name=username]", phone)
    page.fill("#tab-password input[name=password]", "Holder2026x")
    page.click("#password-submit")
    page.wait_for_load_state()
    assert page.locator("#logout-form").count() == 1

    page.goto(f"{live_server}/mine/")
    row = page.locator("#my-certificates tr", has_text=cert.number)
    assert row.count() == 1
    assert row.locator(".cert-code").inner_text() == cert.token[:8]
    href = row.locator("a.mine-pdf").get_attribute("href")
    pdf = page.request.get(f"{live_server}{href}")  # the browser's own session downloads it
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    (tmp_path / "c.pdf").write_bytes(pdf.body())
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", tmp_path / "c.pdf",
                    tmp_path / "c"], check=True)
    link = subprocess.run(["zbarimg", "--quiet", "--raw", tmp_path / "c.png"], capture_output=True,
                          check=True).stdout.decode().strip()
    assert link.endswith(f"/public/certificate/{cert.token}")
    page.goto(link.replace(link.split("/public/")[0], live_server))
    assert "该证照真实有效" in page.content() and cert.number in page.content()
