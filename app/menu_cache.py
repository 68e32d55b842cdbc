"""The navbar's menu, rendered once per (roles, language) and kept for the life of the process.

FAB renders the menu on every page: for each of some 40 entries a permission check ("menu_access")
and a translated label, about a fifth of a list page's time. What the menu shows depends only on the
user's roles, the language and the deployment's script root; our roles are configuration
(app/roles.py, FAB's builtin roles), fixed while the process runs, so the rendered menu is too.

A user holding a role kept in the database (FAB's Admin: its permissions can be edited at run time,
by another instance too) gets the menu rendered afresh each time, as before. So does a request
carrying an API token (FAB's JWT user): only cookie sessions and visitors are cached.

The whole navbar around the menu is kept the same way (navbar_html): the signed-in user's name and the
page's CSRF token (the sign-out form's) are put in per request (app/fragments.py with_slots).
"""
from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.fragments import with_slots
from app.translations_memo import locale_name


def menu_html(menu):
    sm = current_app.appbuilder.sm
    cache = current_app.extensions["registry_menu"]
    key = _key(sm)
    html = cache.get(key) if key else None
    if html is None:
        html = Markup(_template().render(menu=menu))
        if key:
            cache[key] = html
    return html


def navbar_html():
    ab = current_app.appbuilder
    user = current_user._get_current_object()
    signed_in = user.is_authenticated
    values = {"user_name": user.get_full_name(), "csrf": generate_csrf()} if signed_in else {}
    app_name = ab.app_name  # 参数设置 may rename the platform at any time

    def render(**slots):
        return current_app.jinja_env.get_template("frame/navbar.html").render(
            appbuilder=ab, app_name=app_name, signed_in=signed_in, **slots)
    key = _key(ab.sm, user)
    if key is None:
        return Markup(render(**values))
    return with_slots(("navbar", key, app_name, signed_in, session.get("locale")), render, **values)


def _key(sm, user=None):
    user = current_user._get_current_object() if user is None else user
    if user.is_authenticated:
        names = tuple(sorted({r.name for r in sm.get_user_roles(user)}))
    elif request.headers.get("Authorization"):
        return None
    else:
        names = (sm.auth_role_public,)  # by its configured name: FAB's get_public_role() is a query
    if not names or any(name not in sm.builtin_roles for name in names):
        return None
    return names, locale_name(), request.script_root


def _template():
    """FAB's own menu template (ours of the same name only calls menu_html), read from FAB's blueprint."""
    env = current_app.jinja_env
    template = getattr(current_app, "_registry_menu_template", None)
    if template is None:
        source, _path, _uptodate = current_app.blueprints["appbuilder"].jinja_loader.get_source(
            env, "appbuilder/navbar_menu.html")
        template = current_app._registry_menu_template = env.from_string(source)
    return template


def install(app):
    app.extensions["registry_menu"] = {}
    app.jinja_env.globals["registry_menu_html"] = menu_html
    app.jinja_env.globals["registry_navbar"] = navbar_html
