"""A person's name is one field, shown as written (陈晓东): no reversed join (晓东陈), no space (陈 晓东).

The demo operator bank_a_op is 陈晓东 and the reviewer 审核员; their names are checked where people
read them: the case history, the rejection details, the public progress query, the printed
application (经办人), the navbar, and FAB's own user administration, which asks for one 姓名 field.
"""
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from app import rulebook
from app.extensions import db as _db
from models import Case, CaseParty, Operator

from .test_desk import apply_through_views, submit

ROOT = Path(__file__).resolve().parent.parent
WRONG = ("晓东陈", "陈 晓东", "员审核", "审核 员")


def _no_wrong_names(page):
    found = [w for w in WRONG if w in page]
    assert not found, found


def _navbar(page):
    match = re.search(r'<nav class="navbar.*?</nav>|<div class="navbar.*?</ul>\s*</div>\s*</div>', page, re.S)
    assert match, "no navbar in the page"
    return match.group(0)


def test_the_demo_people_hold_their_whole_name_in_one_field(db):
    chen = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    assert (chen.first_name, chen.last_name, chen.get_full_name()) == ("陈晓东", "", "陈晓东")
    assert str(chen) == "陈晓东"
    reviewer = db.session.scalar(select(Operator).where(Operator.username == "reviewer"))
    assert reviewer.get_full_name() == "审核员"


@pytest.fixture(scope="module")
def rejected_case(app):
    """bank_a_op (陈晓东) applies and submits; the reviewer (审核员) rejects with an opinion."""
    from .conftest import IsolatedClient, Auth
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.auth = Auth(client)
    with app.app_context():
        business = rulebook.get("mortgage_first")
        username, case = apply_through_views(client, business)
        assert username == "bank_a_op"
        r = submit(client, case)
        assert r.status_code == 200
        _db.session.expire_all()
        case = _db.session.get(Case, case.id)
        assert case.submitted_at is not None
        reject = next(t for t in business.workflow.transitions if t.requires_reject_type and case.node in t.from_)
        assert "审核员" in client.auth.login("reviewer").get_data(as_text=True)
        r = client.post(f"/review/case/{case.id}/fire", data={
            "event": reject.event, "version": case.version, "opinion": "权属材料不清晰",
            "reject_type": rulebook.vocabulary("reject_types")[0].code})
        assert r.status_code == 302
        _db.session.expire_all()
        case = _db.session.get(Case, case.id)
        assert case.node in reject.to
        return case.id, case.number, case.parties[0].id_number


def test_the_case_history_names_the_operator_and_the_reviewer_as_written(client, rejected_case):
    case_id, _number, _party = rejected_case
    assert "陈晓东" in client.auth.login("bank_a_op").get_data(as_text=True)
    page = client.get(f"/desk/case/{case_id}/").get_data(as_text=True)
    history = page[page.index('id="history"'):]
    history = history[:history.index("</table>")]
    assert "陈晓东" in history and "审核员" in history
    _no_wrong_names(page)


def test_the_rejection_details_name_the_reviewer(client, rejected_case):
    assert "陈晓东" in client.auth.login("bank_a_op").get_data(as_text=True)
    page = client.get("/desk/office/rejected").get_data(as_text=True)
    assert "权属材料不清晰" in page and "审核员" in page
    _no_wrong_names(page)


def test_the_review_page_history_names_both(client, rejected_case):
    case_id, _number, _party = rejected_case
    assert "审核员" in client.auth.login("reviewer").get_data(as_text=True)
    page = client.get(f"/review/case/{case_id}/").get_data(as_text=True)
    assert "陈晓东" in page and "审核员" in page
    _no_wrong_names(page)


def test_the_public_progress_query_names_the_people_and_actions_in_words(app, client, rejected_case):
    case_id, number, _party = rejected_case
    client.auth.logout()
    with app.app_context():
        party = _db.session.scalars(select(CaseParty).where(CaseParty.case_id == case_id)).first()
    fact = party.id_number[-4:] if party.kind == "person" else party.name  # the manual's two ways
    page = client.post("/public/progress", data={"number": number, "party": fact}).get_data(as_text=True)
    result = page[page.index("progress-result"):]
    assert "陈晓东" in result and "审核员" in result
    assert ">start<" not in result and ">submit<" not in result  # actions in words, never the keys
    _no_wrong_names(page)


def test_the_printed_application_names_the_operator_not_the_login(client, rejected_case):
    case_id, _number, _party = rejected_case
    assert "陈晓东" in client.auth.login("bank_a_op").get_data(as_text=True)
    r = client.get(f"/desk/case/{case_id}/print")
    assert r.headers["Content-Type"] == "application/pdf"
    # -layout keeps each table row on its line: the 经办人 cell and the name beside it read together.
    words = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=r.data, capture_output=True,
                           check=True).stdout.decode()
    flat = re.sub(r"\s+", "", words)
    assert "经办人陈晓东" in flat, flat[:800]
    assert "bank_a_op" not in words
    _no_wrong_names(words)


def test_the_navbar_shows_the_name_without_a_space_or_reversal(client):
    page = client.auth.login("bank_a_op").get_data(as_text=True)
    navbar = _navbar(page)
    assert "陈晓东" in navbar
    _no_wrong_names(page)


def test_the_user_admin_asks_for_one_name_field_and_stores_it_whole(client, db):
    assert "系统管理员" in client.auth.login("admin").get_data(as_text=True)
    form = client.get("/users/add").get_data(as_text=True)
    assert 'name="first_name"' in form and "姓名" in form
    assert 'name="last_name"' not in form
    role = db.session.execute(text("SELECT id FROM ab_role WHERE name = 'RegistryReviewer'")).scalar()
    r = client.post("/users/add", data={"first_name": "欧阳娜娜", "username": "ouyang", "email": "oy@example.com",
                                        "roles": str(role), "active": "y", "password": "Strong@Pass2026",
                                        "conf_password": "Strong@Pass2026"})
    assert r.status_code == 302, re.findall(r'class="help-block[^"]*">([^<]+)', r.get_data(as_text=True))
    user = db.session.scalar(select(Operator).where(Operator.username == "ouyang"))
    assert (user.first_name, user.last_name) == ("欧阳娜娜", "")
    listing = client.get("/users/list/").get_data(as_text=True)
    assert "欧阳娜娜" in listing and "姓名" in listing
    edit = client.get(f"/users/edit/{user.id}").get_data(as_text=True)
    assert 'name="first_name"' in edit and 'name="last_name"' not in edit


def test_my_settings_and_the_operator_list_use_the_one_name(client, db):
    assert "钱敏" in client.auth.login("bank_a_admin").get_data(as_text=True)
    page = client.get("/operatorview/list/").get_data(as_text=True)
    assert "陈晓东" in page and "姓名" in page
    settings = client.get("/settings/").get_data(as_text=True)
    assert 'name="first_name"' in settings and 'name="last_name"' not in settings
    r = client.post("/settings/", data={"first_name": "钱敏华", "email": "bank_a_admin@demo.registry.cn",
                                        "save_info": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    me = db.session.scalar(select(Operator).where(Operator.username == "bank_a_admin"))
    assert (me.first_name, me.last_name) == ("钱敏华", "")


def test_the_audit_log_names_the_person_beside_the_account(client, rejected_case):
    for viewer, own in (("admin", "系统管理员"), ("bank_a_admin", "钱敏")):
        assert own in client.auth.login(viewer).get_data(as_text=True)
        page = client.get("/auditlogview/list/?_flt_0_username=bank_a_op").get_data(as_text=True)
        cells = re.findall(r'<td data-label="姓名">([^<]*)</td>', page)
        assert cells and set(cells) == {"陈晓东"}, cells
        _no_wrong_names(page)


def test_the_migration_joins_surname_and_given_name_in_chinese_order(tmp_path):
    """Rows from before (surname in first_name, given name in last_name, the history holding the reversed
    join) come out as one name as written, in the users and in the case history."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "run", "db"]
    subprocess.run(flask + ["upgrade", "b673cc9251eb"], cwd=ROOT, env=env, check=True, capture_output=True)
    # Plain sqlite3 (foreign keys off): a history row without its case is enough for the migration.
    with sqlite3.connect(tmp_path / "old.db") as conn:
        for uid, username, first, last in ((1, "chen", "陈", "晓东"), (2, "ldap", "李审", "-"), (3, "one", "王五", "")):
            conn.execute("INSERT INTO ab_user (id, first_name, last_name, username, email, active, status) "
                         "VALUES (?, ?, ?, ?, ?, 1, 'active')", (uid, first, last, username, f"{username}@example.com"))
        conn.execute("INSERT INTO case_history (case_id, node_to, action, actor_id, actor_name, at) VALUES "
                     "(1, 'draft', 'start', 1, '晓东陈', '2026-01-01'), "
                     "(1, 'pre_review', 'submit', 3, '王五', '2026-01-02')")
    subprocess.run(flask + ["upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    engine = create_engine(url)
    with engine.connect() as conn:
        users = conn.execute(text("SELECT username, first_name, last_name FROM ab_user ORDER BY id")).all()
        names = conn.execute(text("SELECT actor_name FROM case_history ORDER BY id")).scalars().all()
    assert [tuple(u) for u in users] == [("chen", "陈晓东", ""), ("ldap", "李审", ""), ("one", "王五", "")]
    assert names == ["陈晓东", "王五"]
    engine.dispose()
