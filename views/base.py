"""The base of every CRUD view: paging, shared labels, and forms that accept an unticked box."""
from functools import lru_cache
from types import SimpleNamespace

from flask import g, request, session
from flask_appbuilder import ModelView
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.utils.base import get_column_root_relation, is_column_dotted
from flask_appbuilder.widgets import RenderTemplateWidget, SearchWidget
from flask_babel import lazy_gettext as _l
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import ColumnProperty
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from app import display, paging
from app.extensions import db
from app.translations_memo import locale_name

from . import list_html
from .exporting import ListTools
from .labels import LABELS


def posted_ids(values):
    """The row ids among posted strings: ASCII digits within 64 bits; anything else never named a row
    (int() refuses '²', the database overflows beyond 64 bits)."""
    return [int(v) for v in values if v and v.isascii() and v.isdigit() and int(v) < 2**63]


class SearchFormWidget(SearchWidget):
    """FAB's search form, its parts worked out once per (view, language): the filter menu's labels,
    each column's empty field and its filter names depend on nothing else when no search column is a
    relation (a relation's field lists rows from the database, so such a view builds them afresh).
    Building them took FAB a sixth of a list page: a form, a field rendered per column, ~250 filter
    objects. The active filters (the request's) are read fresh every time. The page's script
    (app/static/js/lists.js) reads them from a JSON block."""
    template = "lists/search.html"
    _parts = {}

    def __call__(self, **kwargs):
        args = self.template_args
        dm = self.filters.datamodel
        cached = not any(dm.is_relation(c) for c in args["include_cols"])
        key = (args["route_base"], tuple(args["include_cols"]), locale_name())
        parts = self._parts.get(key) if cached else None
        if parts is None:
            search = self.filters.get_search_filters()
            labels = {c: str(args["form"][c].label.text) for c in args["include_cols"]}
            parts = {"labels": labels, "menu": Markup("".join(
                        f'<li><a href="#" name="{escape(c)}" class="filter">{escape(labels[c])}</a></li>'
                        for c in args["include_cols"])),
                     # the JSON without its closing brace: the request's active filters are added to it
                     "json": htmlsafe_json_dumps({
                         "labels": labels, "fields": {c: str(args["form"][c]()) for c in args["include_cols"]},
                         "filters": {c: [str(f.name) for f in search[c]] for c in args["include_cols"]}})[:-1]}
            if cached:
                self._parts[key] = parts
        active = htmlsafe_json_dumps(self.filters.get_filters_values_tojson())
        return RenderTemplateWidget.__call__(self, menu=parts["menu"],
                                             data=Markup(f'{parts["json"]}, "active": {active}}}'), **kwargs)


def _fetch(query, params):
    return db.session.scalars(query, params).unique().all()


def _fetch_counted(query, count_column, params):
    """A FAB list's rows with its capped count in the same statement (app/paging.py paginate)."""
    stmt = paging.derived(query, ("list rows", count_column), lambda q: q.add_columns(count_column))
    rows = db.session.execute(stmt, params).unique().all()
    return [row[0] for row in rows], rows[0][1] if rows else None


@lru_cache(maxsize=None)
def _whole_list(model):
    """The SELECT of a list with no filter, built once: its page statements are made once too."""
    return select(model)


class ListTable(RenderTemplateWidget):
    """The list widget of RegistryModelView: its parts are HTML from views/list_html.py."""
    template = "lists/table.html"


class RegistryModelView(ListTools, ModelView):
    page_size = 20
    list_template = "lists/page.html"
    search_widget = SearchFormWidget
    label_columns = LABELS

    @property
    def database_error_message(self):
        """FAB's edit flashes this fixed text when the save fails; the reason in words (app/errors.py) instead."""
        return g.get("save_refused") or ModelView.database_error_message

    def update_redirect(self):
        """FAB's back history (the 返回 button), left alone when this page is already its last entry:
        writing it again would sign and send the session cookie with every list page."""
        history = session.get("page_history") or []
        if not history or history[-1] != request.url:
            super().update_redirect()

    def _init_forms(self):
        """FAB marks NOT NULL booleans as required, which refuses 'False'; the column default covers None."""
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            for name in dir(form):
                field = getattr(form, name, None)
                if isinstance(field, UnboundField) and issubclass(field.field_class, BooleanField):
                    field.kwargs["validators"] = [v for v in field.kwargs.get("validators", [])
                                                  if not isinstance(v, (DataRequired, InputRequired))]

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **kwargs):
        """FAB's list, paged by keyset instead of COUNT(*) + OFFSET (app/paging.py): the same filters
        (the view's base filters and the search's), ordered by the chosen column then the id, the
        count capped. Page numbers (page_<View>) give way to 首页 / 上一页 / 下一页."""
        widgets = widgets or {}
        actions = actions or self.actions
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        column = self._sort_column(order_column)
        dm = self.datamodel
        inner = self._inner_filters(filters)
        query, params = (Filters.apply_all(inner, select(dm.obj)), None) if inner.filters else (_whole_list(dm.obj), {})
        size = paging.page_size(page_size, self.page_size)
        direction = "asc" if not order_column or order_direction == "asc" else "desc"  # FAB's default: desc
        page = paging.paginate(query, column, direction, _fetch, key=self.__class__.__name__, size=size,
                               fetch_counted=_fetch_counted, params=params)
        pks = [self._serialize_pk_if_composite(pk) for pk in dm.get_keys(page.rows)]
        columns = self.visible_columns()   # 列设置 (views/exporting.py)
        name = self.__class__.__name__
        can_add, can_show, can_edit, can_delete, actions = list_html.permissions(name, actions)
        crud = can_show or can_edit or can_delete
        toolbar, back, action_form = list_html.toolbar(name, filters, can_add, actions)
        buttons = list_html.crud_buttons(name, filters, (can_show, can_edit, can_delete),
                                         getattr(self, "delete_words", None)) if crud else None
        widgets["list"] = ListTable(
            pager=page, count=page.total, list_tools=self.list_tools(columns), toolbar=toolbar, back=back,
            action_form=action_form,
            header=list_html.header(name, columns, self.label_columns, self.order_columns, bool(actions), crud),
            rows=list_html.rows(pks, self._cells(page.rows, columns), bool(actions), buttons), **kwargs)
        return widgets

    def _inner_filters(self, filters):
        """The search's and the view's base filters that apply to the list's own query: FAB's
        get_inner_filters(get_joined_filters(base filters)) (columns of the model, or through a
        many-to-one or one-to-one relation) without building two Filters objects per request (each
        converts every column's filters afresh, some 250 objects)."""
        dm, base = self.datamodel, self._base_filters
        inner = SimpleNamespace(filters=[], values=[])
        for flt, value in zip(filters.filters + base.filters, filters.values + base.values):
            root = get_column_root_relation(flt.column_name)
            if not is_column_dotted(flt.column_name) or dm.is_relation_many_to_one(root) \
                    or dm.is_relation_one_to_one(root):
                inner.filters.append(flt)
                inner.values.append(value)
        return inner

    def _cells(self, items, columns):
        """Each row's cells, as HTML: the column's formatter, else nothing for an empty value and a
        yes/no in words, never None/True/False; every value escaped, each cell carrying its column's
        name (data-label, for the phone layout). Read from the rows' objects in one pass (FAB's
        get_values made a dict per row first)."""
        formatters, get = self.formatters_columns, self.datamodel._get_attr_value
        columns = [(c, formatters.get(c), f'<td data-label="{escape(str(self.label_columns.get(c, c)))}">',
                    "." not in c) for c in columns]
        rows = []
        for item in items:
            cells = []
            for c, formatter, td, plain in columns:
                v = getattr(item, c, "") if plain else get(item, c)
                if plain and callable(v):
                    v = v()
                v = formatter(v) if formatter else display.value(v, c)
                cells.append(f"{td}{escape(v)}</td>")
            rows.append(Markup("".join(cells)))
        return rows

    # --- display: every title in words (values: app/display.py, via _cells and the show template) ---

    def _gen_labels_columns(self, list_columns):
        """FAB fills in a label for every column it was not given, in place: on a copy, so the shared
        LABELS (views/labels.py) keep only words, never FAB's English guesses ("Building Id")."""
        self.label_columns = dict(self.label_columns)
        super()._gen_labels_columns(list_columns)

    def _init_titles(self):
        """FAB titles its pages "List Case", "Show Mortgage" from the class name, untranslated: the
        view's menu label instead (views/__init__.py), looked up when the page renders, so every view,
        new ones included, is titled in the user's language. A title the view sets itself is kept."""
        own = {k: getattr(self, k, None) for k in ("list_title", "show_title", "add_title", "edit_title")}
        super()._init_titles()
        for key, form in (("list_title", "%(name)s"), ("show_title", _l("%(name)s: details")),
                          ("add_title", _l("%(name)s: add")), ("edit_title", _l("%(name)s: edit"))):
            setattr(self, key, own[key] or MenuTitle(self, form))
        self.title = self.list_title

    def _sort_column(self, name):
        """The model attribute a list sorts by: one of the view's order columns that is a table column
        (a property or relation cannot drive an index order); none given: the primary key."""
        model = self.datamodel.obj
        if not name:
            (pk,) = model.__mapper__.primary_key
            return getattr(model, pk.key)
        attr = getattr(model, name, None) if name in self.order_columns else None
        if attr is None or not isinstance(getattr(attr, "property", None), ColumnProperty):
            raise paging.BadListLink(paging.BAD_ORDER)
        return attr


class MenuTitle:
    """A page title worked out at render time from the menu item that opens the view."""

    def __init__(self, view, form):
        self.view, self.form = view, form

    def __str__(self):
        from app.extensions import appbuilder
        name = next((item.label for item in _menu_items(appbuilder.menu.get_list())
                     if getattr(item, "baseview", None) is self.view), None) or self.view.__class__.__name__
        return str(self.form) % {"name": str(name)}

    def __html__(self):
        return escape(str(self))


def _menu_items(items):
    for item in items:
        yield item
        yield from _menu_items(item.childs or [])


class ReadOnlyModelView(RegistryModelView):
    base_permissions = ["can_list", "can_show"]
