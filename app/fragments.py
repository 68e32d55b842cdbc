"""Parts of the page frame that depend only on the language (and the deployment's script root), each
rendered once per process: the confirmation and alert dialogs, the language menu. Every page rendered
them afresh, each an include with its own copy of the page's context and a few translations: a tenth
of a list page's template time. The navbar's menu has its own cache (app/menu_cache.py)."""
from flask import current_app, request, session
from flask_babel import get_locale
from markupsafe import Markup

_rendered = {}


def fragment(name):
    """views/templates/<name> rendered with only the language to go on (no user, no request data)."""
    key = (name, str(get_locale()), session.get("locale"), request.script_root)
    html = _rendered.get(key)
    if html is None:
        html = _rendered[key] = Markup(current_app.jinja_env.get_template(name).render(
            languages=current_app.appbuilder.languages, appbuilder=current_app.appbuilder))
    return html


def install(app):
    app.jinja_env.globals["registry_fragment"] = fragment
