"""字典管理: the data dictionary's types and items (app/dictionary.py), edited by Admin and Configurator.

Each save of a type's items (words in Chinese and English, order, colour tag, enabled) is checked,
audited and stored as a new version of that type; the history shows what each version changed and
restores any earlier one. What a save changes shows on every page and form at the next request."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l

from app import dictionary, rulebook


def _entry_or_404(type_code):
    entry = dictionary.table().get(type_code)
    if entry is None:
        abort(404)
    return entry


def _submitted(items):
    """The form's rows by item code, as typed (kept on the page when the save is refused)."""
    rows = {}
    for n, item in enumerate(items):
        field = lambda name: (request.form.get(f"{name}-{n}") or "").strip()  # noqa: E731
        if request.form.get(f"code-{n}") != item["code"]:
            abort(400)  # the page was built for other items: reload it
        order = field("order")
        rows[item["code"]] = {"code": item["code"], "label_zh": field("label_zh"), "label_en": field("label_en"),
                              "sort_order": int(order) if order.isdigit() and len(order) < 7 else order,
                              "color": field("color") or "default", "enabled": request.form.get(f"enabled-{n}") == "y"}
    return rows


class DictionaryConsoleView(BaseView):
    route_base = "/dictionary"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        table = dictionary.table()
        types = sorted(table.items(), key=lambda kv: (kv[0] in dictionary.ENUMERATIONS, kv[0]))
        return self.render_template("dictionary/index.html", types=types, type_name=dictionary.type_name,
                                    locale=rulebook.current_locale())

    @expose("/<type_code>/", methods=["GET", "POST"])
    @has_access
    def edit(self, type_code):
        entry = _entry_or_404(type_code)
        items, problems, note = entry["items"], [], ""
        if request.method == "POST":
            rows = _submitted(items)
            note = (request.form.get("note") or "").strip()[:300]
            try:
                saved = dictionary.save(type_code, rows, g.user, note or None,
                                        base_version=request.form.get("base_version") or None)
            except dictionary.DictionaryError as exc:
                problems, items = exc.problems, list(rows.values())
            else:
                flash(_("Saved as version %(v)s; pages and forms show it from now on", v=saved.version), "success")
                return redirect(url_for(".edit", type_code=type_code))
        return self.render_template("dictionary/edit.html", type_code=type_code, name=dictionary.type_name(type_code),
                                    items=items, problems=problems, note=note, version=entry["version"],
                                    colors=dictionary.COLORS, color_names=COLOR_NAMES)

    @expose("/<type_code>/versions")
    @has_access
    def versions(self, type_code):
        _entry_or_404(type_code)
        rows = dictionary.versions(type_code)
        diffs = {newer.id: rulebook.diff(dictionary.as_text(older.content), dictionary.as_text(newer.content),
                                         f"v{older.version}", f"v{newer.version}")
                 for newer, older in zip(rows, rows[1:])}
        return self.render_template("dictionary/versions.html", type_code=type_code,
                                    name=dictionary.type_name(type_code), rows=rows, diffs=diffs,
                                    current=rows[0].version if rows else None)

    @expose("/<type_code>/versions/<int:version>/restore", methods=["POST"])
    @has_access
    def restore(self, type_code, version):
        _entry_or_404(type_code)
        try:
            saved = dictionary.restore(type_code, version, g.user)
        except KeyError:
            abort(404)
        except dictionary.DictionaryError as exc:
            for problem in exc.problems:
                flash(str(problem), "danger")
            return redirect(url_for(".versions", type_code=type_code))
        flash(_("Version %(old)s restored as version %(new)s", old=version, new=saved.version), "success")
        return redirect(url_for(".versions", type_code=type_code))


COLOR_NAMES = {"default": _l("Grey"), "primary": _l("Blue"), "success": _l("Green"), "info": _l("Light blue"),
               "warning": _l("Orange"), "danger": _l("Red")}


def register(appbuilder, category):
    appbuilder.add_view(DictionaryConsoleView, "Dictionary", label=_l("Data dictionary"), icon="fa-book",
                        category=category)
