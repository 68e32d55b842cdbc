"""URLs built once, not on every page: each page's layout asks url_for for some 20 static assets (FAB's
CSS and scripts), and a list asks it once per row for the same link with another id.

static(): the URL of an asset depends only on the endpoint, the file and the deployment's script root,
so it is kept per process. row_link(): a function id -> URL, built with one url_for per page."""
from flask import request, url_for

_MARKER = 918273645  # an id no row has while the link is built; replaced by each row's own


def install(app):
    build = app.jinja_env.globals["url_for"]
    memo = {}

    def url_for_memo(endpoint, **values):
        if endpoint.endswith("static") and values.keys() == {"filename"}:
            key = (endpoint, values["filename"], request.script_root)
            url = memo.get(key)
            if url is None:
                url = memo[key] = build(endpoint, **values)
            return url
        return build(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for_memo


def row_link(endpoint, id_arg, **values):
    """A function row id -> url_for(endpoint, <id_arg>=id, **values), for the rows of one page."""
    head, tail = url_for(endpoint, **{id_arg: _MARKER}, **values).split(str(_MARKER))
    return lambda row_id: f"{head}{int(row_id)}{tail}"
