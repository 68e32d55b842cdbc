"""数据权限 by department: an institution's tree 总行 › 分行 › 支行, operators in departments with a data
scope, enforced in app/scope.py for every case query: lists, pages, the JSON autosave and downloads."""
import pytest
from sqlalchemy import select

from models import Case, Department, Material, Operator
from tests import factories
from tests.accounts_helpers import PASSWORD, forget_request_globals, new_account
from tests.factories import institution


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    disconnect = forget_request_globals(app)
    yield
    disconnect()


@pytest.fixture(scope="module")
def tree(app):
    """Bank A: 总行 › 湘江分行 › 岳麓支行, 天心支行; operators and one case filed in each place."""
    from app import departments
    from app.extensions import db
    with app.app_context():
        bank = institution(db, "bank_a")
        hq = Department(name="总行", institution_id=bank.id)
        db.session.add(hq)
        db.session.flush()
        branch = Department(name="湘江分行", institution_id=bank.id, parent_id=hq.id)
        db.session.add(branch)
        db.session.flush()
        yuelu = Department(name="岳麓支行", institution_id=bank.id, parent_id=branch.id)
        tianxin = Department(name="天心支行", institution_id=bank.id, parent_id=branch.id)
        db.session.add_all([yuelu, tianxin])
        db.session.flush()
        departments.rebuild_paths(bank.id)
        db.session.commit()

        def operator(dept, scope):
            return new_account(db, institution=bank, department_id=dept.id, data_scope=scope).username

        people = {"yuelu": operator(yuelu, "department"), "tianxin": operator(tianxin, "department"),
                  "branch_below": operator(branch, "subtree"), "branch_only": operator(branch, "department"),
                  "yuelu_mine": operator(yuelu, "own"), "hq_all": operator(hq, "institution")}
        cases = {"yuelu": factories.case(db, people["yuelu"]), "tianxin": factories.case(db, people["tianxin"]),
                 "branch": factories.case(db, people["branch_below"]),
                 "mine": factories.case(db, people["yuelu_mine"]),
                 "legacy": factories.case(db, "bank_a_op")}
        material = Material(case_id=cases["tianxin"].id, material_key="id_card", filename="天心.pdf",
                            content_type="application/pdf", size=10, sha256="0" * 64,
                            storage_path="nowhere.pdf")
        db.session.add(material)
        db.session.commit()
        return {"depts": {"hq": hq.id, "branch": branch.id, "yuelu": yuelu.id, "tianxin": tianxin.id},
                "people": people, "cases": {k: (c.id, c.number, c.department_id) for k, c in cases.items()},
                "material": material.id}


def sign_in(app, username, password=PASSWORD):
    c = app.test_client()
    page = c.post("/login/", data={"username": username, "password": password}, follow_redirects=True)
    assert 'id="logout-form"' in page.get_data(as_text=True), f"{username} could not sign in"
    return c


def listed(c, tree):
    page = c.get("/caseview/list/?psize_CaseView=100").get_data(as_text=True)
    return {k for k, (_id, number, _d) in tree["cases"].items() if number in page}


def test_a_case_keeps_its_filers_department(tree):
    d, cases = tree["depts"], tree["cases"]
    assert cases["yuelu"][2] == d["yuelu"] and cases["tianxin"][2] == d["tianxin"]
    assert cases["branch"][2] == d["branch"]
    assert cases["legacy"][2] is None  # the filer has no department: institution-wide


@pytest.mark.parametrize("who,sees", [
    ("yuelu", {"yuelu", "mine"}),  # 支行, my department (a colleague's case too), not the sibling 支行's
    ("tianxin", {"tianxin"}),
    ("branch_below", {"branch", "yuelu", "tianxin", "mine"}),  # 分行, my department and below: its 支行s
    ("branch_only", {"branch"}),  # 分行, my department only
    ("yuelu_mine", {"mine"}),  # only mine: not a colleague's in the same 支行
    ("hq_all", {"yuelu", "tianxin", "branch", "mine", "legacy"}),  # the whole institution
])
def test_each_scope_lists_exactly_its_cases(app, client, tree, who, sees):
    c = sign_in(app, tree["people"][who])
    assert listed(c, tree) == sees


def test_the_institution_administrator_sees_the_whole_institution(app, client, tree):
    client.auth.login("bank_a_admin")
    assert listed(client, tree) == {"yuelu", "tianxin", "branch", "mine", "legacy"}


def test_a_zhihang_operator_cannot_open_a_sibling_zhihangs_case_by_any_url(app, client, tree):
    c = sign_in(app, tree["people"]["yuelu"])
    own, _n, _d = tree["cases"]["yuelu"]
    other, number, _d = tree["cases"]["tianxin"]
    assert c.get(f"/desk/case/{own}/").status_code == 200  # the control: the own case opens
    for url in (f"/caseview/show/{other}", f"/desk/case/{other}/", f"/desk/case/{other}/print",
                f"/desk/case/{other}/materials/{tree['material']}",
                f"/desk/case/{other}/materials/{tree['material']}?download=1"):
        answer = c.get(url)
        assert answer.status_code in (302, 403, 404), url
        assert number not in answer.get_data(as_text=True) and "天心.pdf" not in answer.get_data(as_text=True)
    saved = c.post(f"/desk/case/{other}/form", data={"x": "1"}, headers={"X-Autosave": "1"})
    assert saved.status_code in (403, 404) and number not in saved.get_data(as_text=True)


def test_the_rows_of_a_case_follow_its_scope(app, tree):
    """Materials (and every row hanging off a case) are confined with the case, in the one scope layer."""
    from flask import g

    from app.extensions import db
    from app.scope import data_scope_of
    with app.test_request_context():
        user = db.session.scalar(select(Operator).where(Operator.username == tree["people"]["yuelu"]))
        g.institution_scope, g.data_scope = user.institution_id, data_scope_of(user)
        assert db.session.scalar(select(Material).where(Material.id == tree["material"])) is None
        assert db.session.scalar(select(Case).where(Case.id == tree["cases"]["tianxin"][0])) is None
        assert db.session.scalar(select(Case).where(Case.id == tree["cases"]["yuelu"][0])) is not None
        g.data_scope = None  # the same institution, whole-institution scope: visible
        assert db.session.scalar(select(Material).where(Material.id == tree["material"])) is not None


def test_the_institution_administrator_keeps_the_tree(app, client, db, tree):
    client.auth.login("bank_a_admin")
    added = client.post("/departmentview/add", data={"name": "麓谷支行", "parent": str(tree["depts"]["branch"])},
                        follow_redirects=True)
    assert added.status_code == 200
    db.session.expire_all()
    new = db.session.scalar(select(Department).where(Department.name == "麓谷支行"))
    hq, branch = tree["depts"]["hq"], tree["depts"]["branch"]
    assert new is not None and new.path == f"/{hq}/{branch}/{new.id}/"
    listed_page = client.get("/departmentview/list/").get_data(as_text=True)
    assert "总行 › 湘江分行 › 麓谷支行" in listed_page
    # The 分行 cannot be moved under its own 支行.
    moved = client.post(f"/departmentview/edit/{branch}", data={"name": "湘江分行", "parent": str(new.id)},
                        follow_redirects=True).get_data(as_text=True)
    assert "部门不能挂在自身或其下级部门之下" in moved
    db.session.expire_all()
    assert db.session.get(Department, branch).parent_id == hq
    # A department with operators or cases stays.
    kept = client.post(f"/departmentview/delete/{tree['depts']['yuelu']}", follow_redirects=True)
    assert "该部门下仍有下级部门、操作员或案卷，不能删除" in kept.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Department, tree["depts"]["yuelu"]) is not None
    # Another institution's administrator does not see this tree.
    client.auth.login("bank_b_admin")
    assert "湘江分行" not in client.get("/departmentview/list/").get_data(as_text=True)
    assert client.get(f"/departmentview/show/{branch}").status_code in (302, 403, 404)


def test_the_institution_administrator_assigns_department_and_scope(app, client, db, tree):
    user = new_account(db, institution=institution(db, "bank_a"))
    client.auth.login("bank_a_admin")
    form = client.get(f"/operatorview/edit/{user.id}").get_data(as_text=True)
    assert "本部门及以下" in form and "天心支行" in form
    client.post(f"/operatorview/edit/{user.id}", data={"first_name": "黄分配", "email": user.email,
                                                       "phone": user.phone, "department": str(tree["depts"]["tianxin"]),
                                                       "data_scope": "department"})
    db.session.expire_all()
    fresh = db.session.get(Operator, user.id)
    assert (fresh.department_id, fresh.data_scope) == (tree["depts"]["tianxin"], "department")
    assert listed(sign_in(app, user.username), tree) == {"tianxin"}  # 天心支行 now, its cases only
