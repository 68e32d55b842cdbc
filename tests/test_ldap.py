"""LDAP sign-in for registry staff against a real slapd started on 127.0.0.1 with a throwaway directory."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Operator
from tests.accounts_helpers import audit_actions, forget_request_globals

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=registry,dc=local"
ROOT_DN, ROOT_PW = f"cn=admin,{SUFFIX}", "rootsecret"

pytestmark = pytest.mark.skipif(not os.path.exists(SLAPD), reason="slapd is not installed (apt-get install slapd ldap-utils)")

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
database mdb
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {dir}/data
overlay memberof
"""

LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Registry
dc: registry

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=lishen,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: lishen
cn: 李审
sn: 李
givenName: 审
mail: lishen@example.com
userPassword: Ldap2026pw

dn: uid=wangwu,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: wangwu
cn: 王五
sn: 王
userPassword: Ldap2026pw

dn: cn=reviewers,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: reviewers
member: uid=lishen,ou=people,{SUFFIX}

dn: cn=clerks,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: clerks
member: uid=wangwu,ou=people,{SUFFIX}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def slapd():
    """A real slapd on a free port with a throwaway mdb directory, the users and groups loaded; stopped after."""
    work = Path(tempfile.mkdtemp(prefix="slapd-"))
    (work / "data").mkdir()
    conf = work / "slapd.conf"
    conf.write_text(CONF.format(dir=work, suffix=SUFFIX, rootdn=ROOT_DN, rootpw=ROOT_PW))
    subprocess.run(["/usr/sbin/slaptest", "-f", str(conf), "-u"], check=True, capture_output=True)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}/"
    subprocess.run([SLAPD, "-h", url, "-f", str(conf)], check=True, capture_output=True)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        subprocess.run(["ldapadd", "-x", "-H", url, "-D", ROOT_DN, "-w", ROOT_PW], input=LDIF.encode(),
                       check=True, capture_output=True)
        yield url
    finally:
        pid_file = work / "slapd.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            time.sleep(0.2)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def ldap_app(app, slapd):
    saved = {k: app.config[k] for k in ("REGISTRY_LDAP_URL", "REGISTRY_LDAP_BASE_DN", "REGISTRY_LDAP_ROLE_MAPPING")}
    app.config.update(REGISTRY_LDAP_URL=slapd, REGISTRY_LDAP_BASE_DN=SUFFIX,
                      REGISTRY_LDAP_ROLE_MAPPING=f"reviewers=RegistryReviewer;cn=admins,ou=groups,{SUFFIX}=Admin")
    disconnect = forget_request_globals(app)
    yield app
    disconnect()
    app.config.update(saved)


def ldap_login(client, username, password):
    client.post("/logout/")
    return client.post("/login/ldap/", data={"username": username, "password": password},
                       follow_redirects=True).get_data(as_text=True)


def test_reviewer_signs_in_through_slapd_and_gets_the_role_of_the_ldap_group(ldap_app, client, db):
    assert "统一认证" in client.get("/login/").get_data(as_text=True)
    page = ldap_login(client, "lishen", "Ldap2026pw")
    assert "/logout" in page
    account = db.session.scalar(select(Operator).where(Operator.username == "lishen"))
    assert [r.name for r in account.roles] == ["RegistryReviewer"] and account.institution_id is None
    assert account.email == "lishen@example.com"
    assert "login" in audit_actions(db, "lishen")


def test_wrong_ldap_password_is_refused(ldap_app, client, db):
    assert "/logout" not in ldap_login(client, "lishen", "wrong-one")
    assert "login_failed" in audit_actions(db, "lishen")


@pytest.mark.parametrize("username,password", [("*", "Ldap2026pw"), ("lishen)(uid=*", "Ldap2026pw"),
                                               ("lishen", ""), ("lishen", "\x00")])
def test_filter_injection_and_empty_passwords_are_refused(ldap_app, client, username, password):
    assert "/logout" not in ldap_login(client, username, password)


def test_a_directory_user_in_no_mapped_group_gets_no_account(ldap_app, client, db):
    page = ldap_login(client, "wangwu", "Ldap2026pw")
    assert "/logout" not in page and "用户组" in page
    assert db.session.scalar(select(Operator).where(Operator.username == "wangwu")) is None


def test_directory_cannot_take_over_an_institution_account(ldap_app, client, db, slapd):
    subprocess.run(["ldapadd", "-x", "-H", slapd, "-D", ROOT_DN, "-w", ROOT_PW], check=True, capture_output=True,
                   input=f"""dn: uid=bank_a_op,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: bank_a_op
cn: x
sn: x
userPassword: Ldap2026pw

dn: cn=admins,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: admins
member: uid=bank_a_op,ou=people,{SUFFIX}
""".encode())
    assert "/logout" not in ldap_login(client, "bank_a_op", "Ldap2026pw")
    account = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    assert [r.name for r in account.roles] == ["InstitutionOperator"]
