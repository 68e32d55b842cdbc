"""Parts of the page frame that depend only on the language (and the deployment's script root), each
rendered once per process: the confirmation and alert dialogs, the language menu. Every page rendered
them afresh, each an include with its own copy of the page's context and a few translations: a tenth
of a list page's template time. The navbar's menu has its own cache (app/menu_cache.py).

with_slots() keeps a part that differs per request in a few values only (the CSRF token, the user's
name): rendered once per key with a marker in each value's place, the markers then replaced by the
request's values, escaped."""
import re

from flask import current_app, request, session
from markupsafe import Markup, escape

from app.translations_memo import locale_name

_rendered = {}
_slotted = {}


_MARKERS = re.compile("\ue000(\\w+)\ue001")


def _marker(name):
    return f"\ue000{name}\ue001"  # private-use characters: no escaping touches them, no text holds them


def with_slots(key, render, **values):
    """render(**markers) once per key (keys must come from a small set: roles, language, list), then
    this request's values put in the markers' places, each escaped."""
    html = _slotted.get(key)
    if html is None:
        html = _slotted[key] = str(render(**{name: _marker(name) for name in values}))
    escaped = {name: str(escape(value)) for name, value in values.items()}
    # one pass: a value put in is never searched for markers (a name typed with these characters stays text)
    return Markup(_MARKERS.sub(lambda m: escaped[m.group(1)], html))


def fragment(name):
    """views/templates/<name> rendered with only the language to go on (no user, no request data)."""
    key = (name, locale_name(), session.get("locale"), request.script_root)
    html = _rendered.get(key)
    if html is None:
        html = _rendered[key] = Markup(current_app.jinja_env.get_template(name).render(
            languages=current_app.appbuilder.languages, appbuilder=current_app.appbuilder))
    return html


class _Baselib:
    """FAB's macro library (appbuilder/baselib.html: get_nonce, menu macros) as the `baselib` every page
    can use, FAB's own templates included (they call baselib.get_nonce() in blocks of our layout). An
    {% import %} in the layout made the module afresh at every page; its macros need nothing of the
    page's context (csp_nonce and _ are globals), so it is made once."""
    def __init__(self, env):
        self.env, self.module = env, None

    def __getattr__(self, name):
        if self.module is None:
            self.module = self.env.get_template("appbuilder/baselib.html").module
        return getattr(self.module, name)


def install(app):
    app.jinja_env.globals["registry_fragment"] = fragment
    app.jinja_env.globals["baselib"] = _Baselib(app.jinja_env)
