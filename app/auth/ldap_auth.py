"""LDAP sign-in for registry staff on ldap3 (FAB's AUTH_LDAP needs the C python-ldap).

Search the user (as the service account, or anonymously), bind as the user to check the password,
then read the groups whose `member` is the user and map them to roles through
REGISTRY_LDAP_ROLE_MAPPING ("reviewers=RegistryReviewer;admins=Admin", keyed by group cn or DN).
Every piece of user input is escaped (escape_filter_chars / escape_rdn) before it reaches LDAP.
"""
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from ldap3 import Connection, Server, SUBTREE
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from . import LoginRefused


@dataclass
class LdapIdentity:
    dn: str
    username: str
    name: str = ""  # 姓名 as written: the directory's cn (common name), e.g. 李审
    email: str = ""
    groups: list = field(default_factory=list)  # [(dn, cn)]


def role_mapping() -> dict:
    raw = current_app.config.get("REGISTRY_LDAP_ROLE_MAPPING", "")
    pairs = (item.split("=", 1) for item in raw.split(";") if "=" in item)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def roles_for(identity: LdapIdentity) -> list:
    """Role names for the identity's groups (by cn or full DN), in mapping order, without duplicates."""
    mapping = role_mapping()
    names = []
    for dn, cn in identity.groups:
        for key in (dn.lower(), (cn or "").lower()):
            if key in mapping and mapping[key] not in names:
                names.append(mapping[key])
    return names


def _first(entry, attr):
    values = entry.get("attributes", {}).get(attr) or []
    if isinstance(values, (list, tuple)):
        return str(values[0]) if values else ""
    return str(values)


def authenticate(username: str, password: str) -> LdapIdentity:
    cfg = current_app.config
    url = cfg.get("REGISTRY_LDAP_URL")
    if not url:
        raise LoginRefused(_("Directory (LDAP) sign-in is not configured"))
    username = (username or "").strip()
    # An empty password would be an anonymous bind that "succeeds"; NUL truncates in C libraries.
    if not username or len(username) > 64 or not password or "\x00" in password or "\x00" in username:
        raise LoginRefused(_("Invalid login. Please try again."))
    try:
        server = Server(url.rstrip("/"), connect_timeout=5)  # ldap3 reads "host:389/" as a bad port
        service = Connection(server, user=cfg.get("REGISTRY_LDAP_BIND_DN") or None,
                             password=cfg.get("REGISTRY_LDAP_BIND_PASSWORD") or None,
                             auto_bind=True, receive_timeout=10)
        template = cfg.get("REGISTRY_LDAP_USER_DN_TEMPLATE")
        if template:
            search_base, search_filter, scope = template.format(username=escape_rdn(username)), "(objectClass=*)", "BASE"
        else:
            search_base = cfg["REGISTRY_LDAP_BASE_DN"]
            search_filter = cfg["REGISTRY_LDAP_USER_FILTER"].format(username=escape_filter_chars(username))
            scope = SUBTREE
        service.search(search_base, search_filter, search_scope=scope,
                       attributes=["uid", "cn", "mail"])
        entries = [e for e in service.response if e.get("type") == "searchResEntry"]
        # A name the directory does not hold still costs a bind (to a DN that cannot exist), so the
        # answer's timing does not tell which names it holds; the words are the same either way.
        nowhere = f"uid={escape_rdn(username)},ou=unknown,{cfg['REGISTRY_LDAP_BASE_DN']}"
        dn = entries[0]["dn"] if len(entries) == 1 else nowhere
        user_conn = Connection(server, user=dn, password=password, receive_timeout=10)
        if not user_conn.bind() or len(entries) != 1:
            raise LoginRefused(_("Invalid login. Please try again."))
        entry = entries[0]
        user_conn.unbind()
        service.search(cfg.get("REGISTRY_LDAP_GROUP_BASE") or cfg["REGISTRY_LDAP_BASE_DN"],
                       cfg["REGISTRY_LDAP_GROUP_FILTER"].format(dn=escape_filter_chars(entry["dn"])),
                       search_scope=SUBTREE, attributes=["cn"])
        groups = [(g["dn"], _first(g, "cn")) for g in service.response if g.get("type") == "searchResEntry"]
        service.unbind()
    except LDAPException as exc:
        current_app.logger.warning("LDAP sign-in failed: %s", exc)
        raise LoginRefused(_("The directory server cannot be reached; please try again later")) from None
    return LdapIdentity(dn=entry["dn"], username=username, name=_first(entry, "cn"), email=_first(entry, "mail"),
                        groups=groups)
