"""导出 Excel and 列设置 for every list.

A list declares its export once (exportable(key, title)): a function turning the list's parameters
(its filter, order, chosen columns, ticked rows) into (headers, rows). respond() counts the list up to
REGISTRY_JOB_EXPORT_ROWS: at or below it the workbook is written in the request, above it a background
job (app/jobs, 我的任务) writes it with progress. Either way the rows are read in the signed-in user's
scope (app/scope.py; a job runs as its submitter), streamed into a write-only workbook
(app/services/excel.stream, formula-safe), and the export is audited.

Column settings: a user's chosen columns of a list are kept per user (models/list_setting.py); the list
and its export both show them (chosen_columns). ListTools gives every RegistryModelView (views/base.py)
the 导出 Excel button, the 列设置 control and their two routes, with the list's own permission.
"""
import datetime as dt
import re
import secrets

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import delete, select

from app import audit, jobs, paging
from app.extensions import db
from app.fragments import with_slots
from app.services import excel
from app.translations_memo import locale_name
from models import ListSetting

from .downloads import XLSX, file_response
from .jobs import start as start_job

LISTS = {}   # key -> (title, rows(params) -> (headers, iterable of value lists))
_UNSAFE_NAME = re.compile(r"[\[\]:*?/\\]+")   # not allowed in a sheet's title (nor wanted in a file name)
MAX_COLUMN_SETTING = 100


def exportable(key, title, job_label=None):
    """Declare a list's export under `key`; its job kind is export_<key> (我的任务 shows `job_label`,
    by default "导出：<title>")."""
    def wrap(fn):
        LISTS[key] = (title, fn)
        jobs.register(f"export_{key}"[:40], job_label or _l("Export: %(list)s", list=title))(_job(key))
        return fn
    return wrap


def max_rows():
    return int(current_app.config.get("EXPORT_MAX_ROWS", 1000000))


def build(key, params, progress=None, total=0):
    """(file name, workbook bytes, rows written) of the list `key` with `params`, in the current scope."""
    title, rows_of = LISTS[key]
    headers, rows = rows_of(params)
    written = [0]

    def counted():
        for n, row in enumerate(rows, start=1):
            if n > max_rows():
                break
            written[0] = n
            yield row
    name = _UNSAFE_NAME.sub("_", str(title))
    data = excel.stream(headers, counted(), progress=progress, total=total, sheet=name[:31])
    return f"{name}-{dt.datetime.now():%Y%m%d-%H%M}.xlsx", data, written[0]


def in_chunks(query, size=1000):
    """The rows of a select() in lists of `size`, read as a stream (for exports that look up what a
    chunk of rows names in one query per chunk)."""
    chunk = []
    for row in db.session.scalars(query.execution_options(yield_per=size)):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _audit(key, rows):
    audit.record(db.session, "export", "List", key[:40],
                 summary=_("%(list)s: %(n)d row(s) exported", list=str(LISTS[key][0]), n=rows)[:300])


def respond(key, params, count_query, back):
    """The export of a list as the response: the workbook itself up to REGISTRY_JOB_EXPORT_ROWS rows of
    `count_query` (counted only that far), else a job's page. Commits the session."""
    limit = int(current_app.config["JOB_EXPORT_ROWS"])
    if paging.capped_count(count_query, limit).capped:
        total = int(paging.capped_count(count_query, max_rows()))
        return start_job(f"export_{key}"[:40], {"list": key, "params": params}, total, back)
    name, data, rows = build(key, params)
    _audit(key, rows)
    db.session.commit()
    return file_response(data, name, XLSX)


def _job(key):
    def export_job(job, params):
        name, data, rows = build(key, params.get("params") or {}, progress=job.progress, total=job.total)
        _audit(key, rows)
        return name, data
    return export_job


# ---- column settings ------------------------------------------------------------------------------

# {(user id, list_settings_stamp): {list key: [column]}}, this process's; a save sets a new stamp.
_SETTINGS = {}
_SETTINGS_KEPT = 10_000


def chosen_columns(key, offered):
    """The columns of list `key` the signed-in user chose to see, in the list's order; none chosen (or
    none of them offered any more): all of `offered`. Read once per (user, stamp of their settings)
    per process, all of the user's lists in one statement."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return list(offered)
    stamp = (user.id, getattr(user, "list_settings_stamp", None))
    mine = _SETTINGS.get(stamp)
    if mine is None:
        if len(_SETTINGS) >= _SETTINGS_KEPT:
            _SETTINGS.clear()
        mine = _SETTINGS[stamp] = dict(db.session.execute(select(ListSetting.list_key, ListSetting.columns)
                                                          .where(ListSetting.user_id == user.id)).all())
    chosen = mine.get(key) or ()
    picked = [c for c in offered if c in chosen]
    return picked or list(offered)


def save_columns(key, offered, picked):
    """Keep the user's choice for list `key` (only columns the list offers); all or none ticked: forget
    it (the list shows all of its columns again). Audited; the user's settings get a new stamp, so
    every instance reads them afresh."""
    picked = [c for c in offered if c in set(picked[:MAX_COLUMN_SETTING])]
    db.session.execute(delete(ListSetting).where(ListSetting.user_id == g.user.id, ListSetting.list_key == key))
    if picked and len(picked) < len(offered):
        db.session.add(ListSetting(user_id=g.user.id, list_key=key, columns=picked))
    g.user.list_settings_stamp = secrets.token_hex(8)
    audit.record(db.session, "list_columns", "List", key[:40], summary=", ".join(picked)[:300] or None)
    db.session.commit()


def back_to(default):
    """Where a list's form returns: the page it was posted from (a path of this site), else `default`."""
    target = request.form.get("next", "")
    # not "//host" nor what a browser reads as it ("/\\host", a tab or newline dropped from "/\t/host")
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target \
        and not any(ord(ch) < 32 for ch in target)
    return target if local else default


class ToolsHtml:
    """tools()'s answer: HTML, with the columns it offers."""

    def __init__(self, columns, html):
        self.columns, self.html = columns, html

    def __html__(self):
        return self.html


def tools(key, columns, offered, labels, export_url, columns_url):
    """A list's 导出 Excel button and 列设置 control, as HTML (a template shows it as {{ list_tools }}; its
    .columns: [(column, label, shown)] for a template's own header): the
    export takes the list's current filter, order and visible columns; the columns form keeps the user's
    choice (no script needed). Rendered once per (list, columns, language); the export link, the CSRF
    token and the page to come back to are put in per request (app/fragments.py)."""
    columns = tuple((c, str(labels.get(c, c)), c in columns) for c in offered)

    def render(export, csrf, back):
        boxes = "".join(f'<label class="checkbox-inline"><input type="checkbox" name="column" value="{escape(c)}"'
                        f'{" checked" if on else ""}> {escape(label)}</label>' for c, label, on in columns)
        return (f'<span class="list-tools" data-list="{escape(key)}">'
                f'<a class="btn btn-sm btn-default list-export" href="{export}"><i class="fa fa-file-excel-o"></i> '
                f'{escape(_("Export to Excel"))}</a><details class="list-columns">'
                f'<summary class="btn btn-sm btn-default"><i class="fa fa-columns"></i> {escape(_("Column settings"))}</summary>'
                f'<form method="post" action="{escape(columns_url)}" class="list-columns-form well well-sm">'
                f'<input type="hidden" name="csrf_token" value="{csrf}">'
                f'<input type="hidden" name="next" value="{back}">{boxes}'
                f'<button type="submit" class="btn btn-xs btn-primary">{escape(_("Save"))}</button></form></details></span>')
    return ToolsHtml(list(columns), with_slots(("list tools", key, columns, columns_url, locale_name()), render,
                                               export=export_url, csrf=generate_csrf(), back=request.full_path))


# ---- the framework's lists (RegistryModelView) ---------------------------------------------------------

class ListTools:
    """导出 Excel and 列设置 for a FAB list (mixed into views/base.py RegistryModelView): both under the
    list's own permission (can_list), the export of the list's filter, order and visible columns."""
    def __init__(self, **kwargs):
        # FAB checks method_permission_name at each request; a view's own mapping is kept.
        self.method_permission_name = {"export": "list", "columns_setting": "list",
                                       **(self.method_permission_name or {})}
        super().__init__(**kwargs)
        name = self.__class__.__name__
        if f"fab-{name}" not in LISTS:
            exportable(f"fab-{name}", self.list_title)(lambda params, name=name: _fab_rows(name, params))

    def visible_columns(self):
        return chosen_columns(self.__class__.__name__, self.list_columns)

    def list_tools(self, columns):
        name = self.__class__.__name__
        return tools(name, columns, self.list_columns, self.label_columns,
                     url_for(f"{name}.export", **request.args.to_dict(flat=False)), url_for(f"{name}.columns_setting"))

    @expose("/export.xlsx")
    @has_access
    def export(self):
        name = self.__class__.__name__
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k.startswith(("_flt_", "_oc_", "_od_"))}
        params = {"view": name, "args": args, "columns": self.visible_columns()}
        return respond(f"fab-{name}", params, self.export_query(args), url_for(f"{name}.list"))

    @expose("/columns", methods=["POST"])
    @has_access
    def columns_setting(self):
        name = self.__class__.__name__
        save_columns(name, self.list_columns, request.form.getlist("column"))
        flash(_("Column settings saved"), "success")
        return redirect(back_to(url_for(f"{name}.list")))

    def export_query(self, args):
        """The list's query for `args` (its URL's filters and order): the rows the list pages through,
        all of them, in the list's order."""
        dm = self.datamodel
        filters = dm.get_filters(self.search_columns)
        allowed = filters.get_search_filters()
        for arg, values in args.items():
            match = re.fullmatch(r"_flt_(\d)_(.*)", arg)
            if match and match.group(2) in allowed:
                filters.add_filter_index(match.group(2), int(match.group(1)), values)
        name = self.__class__.__name__
        order_column = (args.get(f"_oc_{name}") or [""])[0]
        order_direction = (args.get(f"_od_{name}") or [""])[0]
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        column = self._sort_column(order_column)
        (pk,) = dm.obj.__mapper__.primary_key
        tiebreak = getattr(dm.obj, pk.key)
        asc = not order_column or order_direction == "asc"
        query = Filters.apply_all(self._inner_filters(filters), dm.session.query(dm.obj))
        order = [column.asc(), tiebreak.asc()] if asc else [column.desc(), tiebreak.desc()]
        return query.order_by(*(order if column is not tiebreak else order[:1]))


def _fab_view(name):
    view = next((v for v in current_app.appbuilder.baseviews if v.__class__.__name__ == name), None)
    if view is None:
        raise jobs.JobFailed(_("This list is not known to this version of the platform"))
    return view


def _fab_rows(name, params):
    view = _fab_view(name)
    columns = [c for c in params.get("columns") or [] if c in view.list_columns] or list(view.list_columns)
    query = view.export_query(params.get("args") or {})
    formatters = view.formatters_columns
    dm = view.datamodel

    def rows():
        for item in dm.get_values(query.yield_per(1000), columns):
            yield [formatters[c](item[c]) if c in formatters else item[c] for c in columns]
    return [str(view.label_columns.get(c, c)) for c in columns], rows()
