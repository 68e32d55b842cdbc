"""A RegistryModelView list's widget, worked out in Python (views/base.py): its header with the sort links,
each row with its tick box, buttons and cells, and the buttons above the table.

FAB's widget built these in Jinja, through two template levels, three macro libraries and a url_for per
column: two fifths of a list page's time under load (bench/load.py). The markup is FAB's, so its styles
and scripts (ab_actions.js) work as before; FAB's own macros (app/templates: lib.html) still render the
buttons, once per page, their id put into each row.
"""
from flask import current_app, request
from markupsafe import Markup, escape
from werkzeug.urls import urlencode

_ROW_PK = "__row_pk__"


def _lib():
    """FAB's macro library, as a module Jinja keeps (imported without a context)."""
    return current_app.jinja_env.get_template("appbuilder/general/lib.html").module


def _filter(name):
    return current_app.jinja_env.filters[name]


def sort_links(view_name, columns):
    """{column: link}: FAB's link_order, this page's URL and arguments with the list ordered by the
    column, ascending, or the other way round from the current direction when the list is ordered
    (the arguments in FAB's order). Each argument is encoded once, not once per column."""
    args = request.args.to_dict()
    oc, od = f"_oc_{view_name}", f"_od_{view_name}"
    if oc in args:
        args[od] = "desc" if args.get(od) == "asc" else "asc"
    else:
        args[oc], args[od] = None, "asc"
    encoded = [None if k == oc else urlencode({k: v}) for k, v in args.items()]
    base = f"{request.script_root}{request.path}?"
    return {c: base + "&".join(urlencode({oc: c}) if e is None else e for e in encoded) for c in columns}


def header(view_name, columns, labels, order_columns, ticks, crud):
    """The <th> cells: a tick-all box, the buttons' column, then each column's label, a sort link when
    the list can be ordered by it, its arrow showing the current order."""
    cells = []
    if ticks:
        cells.append('<th class="action_checkboxes"><input id="check_all" class="action_check_all" '
                     'name="check_all" type="checkbox"></th>')
    if crud:
        cells.append('<th class="col-md-1 col-lg-1 col-sm-1"></th>')
    ordered, direction = request.args.get(f"_oc_{view_name}"), request.args.get(f"_od_{view_name}")
    links = sort_links(view_name, [c for c in columns if c in order_columns])
    for c in columns:
        label = escape(labels.get(c, c))
        if c in links:
            arrow = ("fa-chevron-up" if direction == "asc" else "fa-chevron-down") if c == ordered else "fa-arrows-v"
            cells.append(f'<th><a href="{escape(links[c])}">{label}'
                         f'<i class="fa {arrow} pull-right"></i></a></th>')
        else:
            cells.append(f"<th>{label}</th>")
    return Markup("".join(cells))


def permissions(view_name, actions):
    """(can_add, can_show, can_edit, can_delete, the actions the user may run), as FAB's widget asks."""
    visible = _filter("is_item_visible")
    return (*(visible(p, view_name) for p in ("can_add", "can_show", "can_edit", "can_delete")),
            _filter("get_actions_on_list")(actions, view_name))


def crud_buttons(view_name, filters, can, delete_words):
    """row pk -> the row's 查看/编辑/删除 buttons: FAB's macro rendered once, each row's id put in (an integer
    id needs no quoting in a URL; any other key is rendered per row). delete_words: (button, question)
    of a view whose delete is something else (移出本机构), else None."""
    can_show, can_edit, can_delete = can
    lib = _lib()

    def render(pk):
        html = str(lib.btn_crud(can_show, can_edit, can_delete, pk, view_name, filters))
        if can_delete and delete_words:
            from flask_babel import gettext as _
            html = html.replace(_("Are you sure you want to delete this item?"), str(escape(delete_words[1]))) \
                .replace(_("Delete record"), str(escape(delete_words[0]))).replace(_("Delete"), str(escape(delete_words[0])))
        return html

    once = render(_ROW_PK)
    return lambda pk: once.replace(_ROW_PK, str(pk)) if type(pk) is int else render(pk)


def rows(pks, cells, ticks, buttons):
    """The <tr> of each row: its tick box (when the list has actions), its buttons, its cells (HTML)."""
    out = []
    for pk, row in zip(pks, cells):
        tick = f'<td data-label=""><input id="{escape(pk)}" class="action_check" name="rowid" value="{escape(pk)}" ' \
               f'type="checkbox"></td>' if ticks else ""
        crud = f'<td data-label=""><center>{buttons(pk)}</center></td>' if buttons else ""
        out.append(f"<tr>{tick}{crud}{row}</tr>")
    return Markup("\n".join(out))


def toolbar(view_name, filters, can_add, actions):
    """The buttons above the table: 新增 (with the list's filters), the actions menu, 返回."""
    lib = _lib()
    parts = []
    if can_add:
        path = _filter("safe_url_for")(f"{view_name}.add")
        if path:
            parts.append(str(lib.lnk_add(_filter("set_link_filters")(path, filters))))
    if actions:
        parts.append(str(lib.render_actions(actions, view_name)))
    return Markup("".join(parts)), lib.lnk_back(), lib.action_form(actions, view_name)
