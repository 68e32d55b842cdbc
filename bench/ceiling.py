"""The ceiling for bench/load.py: a bare Flask + SQLAlchemy app that runs the SAME SQL as a product page
and shows the rows as a plain HTML table, nothing else (no sign-in, no permissions, no menus, no i18n).

    REGISTRY_DATABASE_URL=... BENCH_CEILING_QUERIES=/path/queries.pickle gunicorn -c gunicorn.conf.py bench.ceiling:app

bench/load.py captures each product page's data statements (the statements that read the page's rows:
the list query, its count, the units and parties loaded with them; not the sign-in, permission and
rules look-ups) verbatim, with their parameters, from one request through the product, and writes
them to BENCH_CEILING_QUERIES as {page name: [(sql, parameters)]}; GET /<page name> runs them in order.
"""
import os
import pickle

from flask import Flask, abort
from sqlalchemy import create_engine

PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{{ name }}</title></head><body>
{% for columns, rows in results %}<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endfor %}
</body></html>"""

app = Flask(__name__)
TEMPLATE = app.jinja_env.from_string(PAGE)  # compiled once, as Flask does for a template file
engine = create_engine(os.environ["REGISTRY_DATABASE_URL"])
with open(os.environ["BENCH_CEILING_QUERIES"], "rb") as f:
    QUERIES = pickle.load(f)


@app.get("/<name>")
def page(name):
    statements = QUERIES.get(name) or abort(404)
    results = []
    with engine.connect() as conn:
        for sql, parameters in statements:
            result = conn.exec_driver_sql(sql, parameters)
            results.append((list(result.keys()), result.fetchall()))
    return TEMPLATE.render(name=name, results=results)
