"""The page frame around a page that has nothing of its own but its content (业务办公's lists): the
frame (views/templates/layout.html through frame/page.html) rendered once per language, platform name
and font size; the navbar (app/menu_cache.py), the messages and the body put in per request
(app/fragments.py with_slots)."""
from flask import current_app, render_template, request, session
from flask_login import current_user
from markupsafe import Markup

from app.fragments import with_slots
from app.menu_cache import navbar_html
from app.translations_memo import locale_name


def page(body):
    """A whole page of the frame (layout.html) around `body`, for a page with nothing of its own but its
    content: the frame is rendered once per (language, platform name, font size, script root), the
    navbar (app/menu_cache.py), the messages and the body are put in per request. Rendering the frame
    through Jinja was a twentieth of a list page's time."""
    ab = current_app.appbuilder
    user = current_user._get_current_object()
    font = user.font_size if user.is_authenticated else None
    key = ("page", locale_name(), session.get("locale"), ab.app_name, font, request.script_root)
    messages = render_template("appbuilder/flash.html") if session.get("_flashes") else ""
    return with_slots(key, lambda **slots: render_template("frame/page.html", appbuilder=ab,
                                                           base_template=ab.base_template, **slots),
                      navbar=navbar_html(), messages=Markup(messages), body=body)
