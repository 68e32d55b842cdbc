"""URLs built once, not on every page: each page's layout asks url_for for some 20 static assets (FAB's
CSS and scripts), and a list asks it once per row for the same link with another id.

url_for in templates: the URL of an asset, or of a page named without ids (a menu tab, a form's
action), depends only on the endpoint, its words and the deployment's script root, so it is kept per
process. row_link(): a function id -> URL, built with one url_for per page. assets():
FAB's stylesheet and script tags for the page frame (views/templates/layout.html)."""
from flask import current_app, request, url_for
from markupsafe import Markup, escape

_MARKER = 918273645  # an id no row has while the link is built; replaced by each row's own
MEMO_SIZE = 5000


_memo = {}


def url_for_memo(endpoint, **values):
    """url_for, kept: a named endpoint's URL with no values or a few words (a tab's which="todo") is the
    same on every page of the deployment; ids and searches are built afresh (they would only fill the
    memo)."""
    if endpoint[0] == "." or len(_memo) >= MEMO_SIZE or \
            any(type(v) is not str or len(v) > 40 or k[0] == "_" for k, v in values.items()):
        return url_for(endpoint, **values)
    key = (endpoint, request.script_root, *sorted(values.items()))
    url = _memo.get(key)
    if url is None:
        url = _memo[key] = url_for(endpoint, **values)
    return url


def install(app):
    app.jinja_env.globals["url_for"] = url_for_memo
    app.jinja_env.globals["registry_assets"] = assets


_row_links = {}


def row_link(endpoint, id_arg, **values):
    """A function row id -> url_for(endpoint, <id_arg>=id, **values), for the rows of a page; the URL's
    parts around the id are built once per (endpoint, values, script root)."""
    key = (endpoint, id_arg, request.script_root, *sorted(values.items()))
    parts = _row_links.get(key)
    if parts is None:
        parts = url_for(endpoint, **{id_arg: _MARKER}, **values).split(str(_MARKER))
        if len(_row_links) < MEMO_SIZE:
            _row_links[key] = parts
    head, tail = parts
    return lambda row_id: f"{head}{int(row_id)}{tail}"


# FAB's stylesheets and scripts, in the order its appbuilder/init.html links them (the theme, when set,
# after Font Awesome). Scripts from our own origin need no nonce under the policy (app/headers.py).
FAB_ASSETS = {
    "css": ["css/bootstrap.min.css", "css/fontawesome/fontawesome.min.css", "css/fontawesome/regular.min.css",
            "css/fontawesome/solid.min.css", "css/fontawesome/brands.min.css", "css/fontawesome/v4-shims.min.css",
            "{theme}", "css/bootstrap-datepicker/bootstrap-datepicker3.min.css", "css/select2/select2.min.css",
            "css/select2/select2-bootstrap.min.css", "css/flags/flags16.css", "css/ab.css"],
    "head_js": ["js/jquery-latest.js", "js/ab_filters.js", "js/ab_actions.js"],
    "tail_js": ["js/bootstrap.min.js", "js/bootstrap-datepicker/bootstrap-datepicker.min.js",
                "js/select2/select2.min.js", "js/ab.js"],
}
_assets = {}


def assets(kind):
    """The <link>/<script> tags of FAB's assets of one kind, built once per script root."""
    key = (kind, request.script_root)
    html = _assets.get(key)
    if html is None:
        theme = current_app.appbuilder.app_theme
        files = [f"css/themes/{theme}" if f == "{theme}" else f for f in FAB_ASSETS[kind] if f != "{theme}" or theme]
        urls = [url_for("appbuilder.static", filename=f) for f in files]
        html = _assets[key] = Markup("\n".join(
            f'<link href="{escape(u)}" rel="stylesheet">' if kind == "css" else f'<script src="{escape(u)}"></script>'
            for u in urls))
    return html
