"""Signing out changes state: only a POST with the CSRF token does it, never a GET (a link or an
image on any page could fire a GET)."""
import re

import pytest

from tests.accounts_helpers import audit_actions
from tests.conftest import signed_in


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_get_logout_does_not_end_the_session(client, db):
    client.auth.login("bank_a_op")
    before = audit_actions(db, "bank_a_op").count("logout")
    r = client.get("/logout/")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout/">', page) and 'id="logout-confirm"' in page
    still = client.get("/settings/")
    assert still.status_code == 200 and signed_in(still.get_data(as_text=True))
    assert audit_actions(db, "bank_a_op").count("logout") == before


def test_a_visitor_asking_to_log_out_goes_home(client):
    r = client.get("/logout/")
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_the_navbar_signs_out_with_a_post_form_carrying_the_token(client, csrf_on):
    from app.demo import DEMO_PASSWORD
    login_page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    home = client.post("/login/", data={"username": "bank_a_op", "password": DEMO_PASSWORD,
                                        "csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert signed_in(home)
    form = re.search(r'<form method="post" action="/logout/" id="logout-form">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]+)">', home)
    assert form and 'href="/logout/"' not in home


def test_post_logout_needs_the_csrf_token_then_ends_the_session(client, db, csrf_on):
    from app.demo import DEMO_PASSWORD
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login/").get_data(as_text=True)).group(1)
    client.post("/login/", data={"username": "bank_b_op", "password": DEMO_PASSWORD, "csrf_token": token})
    home = client.get("/").get_data(as_text=True)
    before = audit_actions(db, "bank_b_op").count("logout")
    assert signed_in(home)
    refused = client.post("/logout/")  # no token: a forged cross-site POST
    assert refused.status_code == 400
    assert signed_in(client.get("/").get_data(as_text=True))
    token = re.search(r'id="logout-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)">', home).group(1)
    done = client.post("/logout/", data={"csrf_token": token})
    assert done.status_code == 302
    assert client.get("/settings/").status_code == 302  # to the login page
    assert not signed_in(client.get("/").get_data(as_text=True))
    assert audit_actions(db, "bank_b_op").count("logout") == before + 1
