"""The configurator console (业务规则配置) and the public service guide (办事指南).

Configurators read each business rendered from its rules, edit the YAML in the browser (checked
before it is saved, errors shown against the lines), save it as a new version and restore any
earlier one. The guide shows the same rules to anyone, without logging in.
"""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from app import rulebook, validators
from app.extensions import db
from app.rulebook import registry
from app.rulebook.fees import table as fee_table
from app.rulebook.registry import CASE_CHECKS, UNIT_CHECKS
from app.services import flowchart, workdays
from app.services.money import format_money, to_chinese_upper
from models import Case, RuleVersion

from . import calendar_console

def _doc(text):
    words = " ".join(text.split())  # a docstring's lines joined, as its msgid in translations/display
    return _(words) if words else ""


def _loc():
    return rulebook.current_locale()


def tx(text):
    return text.get(_loc()) if text is not None else ""


def _business_or_404(key):
    try:
        return rulebook.get(key)
    except KeyError:
        abort(404)


def _field_rules(field):
    """What a configurator needs to know about one field's validation, in words; the names typed in the
    rules file (fields, vocabularies, validators) as code."""
    def code(name):
        return Markup("<code>{}</code>").format(name)
    out = []
    if field.required:
        out.append(escape(_("required")))
    if field.required_when:
        out.append(Markup(_("required when %(cond)s", cond=Markup(", ").join(
            Markup("{} = {}").format(code(k), v) for k, v in field.required_when.items()))))
    if field.vocabulary:
        out.append(Markup(_("choice from %(vocab)s", vocab=code(field.vocabulary))))
    if field.validator:
        out.append(Markup(_("validator: %(name)s", name=code(field.validator))))
    if field.after:
        out.append(Markup(_("after %(field)s", field=code(field.after))))
    if field.prefill:
        out.append(Markup(_("prefilled from the record's %(attr)s", attr=code(field.prefill))))
    return Markup("; ").join(out)


def page_context(business, case=None):
    """Everything the rendered business and the guide show, from the rules alone."""
    categories = {v.code: tx(v.name) for v in rulebook.vocabulary("categories")}
    fees = [{**row, "amount": format_money(row["amount"]), "words": to_chinese_upper(row["amount"]),
             "when": "、".join(rulebook.label("unit_uses", v) for v in row["when"])}
            for row in fee_table(business, _loc())]
    return {
        "b": business, "tx": tx, "field_rules": _field_rules, "fees": fees,
        "category": categories.get(business.category, business.category),
        "registration_type": rulebook.label("registration_types", business.registration_type),
        "svg": Markup(flowchart.render(business, case, _loc())),
        # a check's docstring, translated at run time (translations/display holds the zh of each)
        "check_doc": lambda name: _doc(((UNIT_CHECKS.get(name) or CASE_CHECKS.get(name)).__doc__ or "").strip()),
    }


def available_names():
    """The names a rules file may use, so configurators need not read code."""
    return [(_("Validators"), sorted(validators.REGISTRY)), (_("Unit checks"), sorted(registry.UNIT_CHECKS)),
            (_("Case checks"), sorted(registry.CASE_CHECKS)), (_("Guards"), sorted(registry.GUARDS)),
            (_("Effects"), sorted(registry.EFFECTS)),
            (_("Effect options"), sorted({k for spec in registry.EFFECT_SPECS.values() for k in spec.options})),
            (_("Lookup records"), sorted(registry.RECORDS)),
            (_("Vocabularies"), sorted(rulebook._context().vocabularies)),
            (_("Workflows"), sorted(rulebook._context().workflows))]


def problems_by_line(problems):
    """Problems grouped by the line they point at (0: not tied to a line), to show next to the text."""
    out = {}
    for p in problems:
        out.setdefault(getattr(p, "line", 0) or 0, []).append(p)
    return out


class RuleConsoleView(BaseView):
    """业务规则配置: list, rendered view, edit with validation, versions with diffs, restore."""
    route_base = "/rules"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = []
        for b in rulebook.all_businesses():
            active = db.session.scalar(select(RuleVersion).where(RuleVersion.id == b.version_id)) if b.version_id else None
            rows.append((b, active))
        pending = {b.key for b in rulebook.all_businesses() if rulebook.file_change(b.key)}
        return self.render_template("rules/index.html", rows=rows, tx=tx, pending=pending,
                                    precedence=rulebook.PRECEDENCE(), broken=rulebook.pinned_problems(),
                                    missing=workdays.missing_years(),
                                    categories={v.code: tx(v.name) for v in rulebook.vocabulary("categories")})

    @expose("/<key>/")
    @has_access
    def show(self, key):
        business = _business_or_404(key)
        return self.render_template("rules/business.html", **page_context(business))

    @expose("/<key>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, key):
        business = _business_or_404(key)
        current = db.session.get(RuleVersion, business.version_id) if business.version_id else None
        text = current.content if current else ""
        problems, note = [], ""
        if request.method == "POST":
            text = (request.form.get("content") or "").replace("\r\n", "\n")
            note = (request.form.get("note") or "").strip()
            if request.form.get("base_version") and current and request.form["base_version"] != str(current.version):
                problems = [_("Someone saved version %(v)s while you were editing; compare and try again", v=current.version)]
            elif current and text == current.content:
                problems = [_("Nothing changed")]
            else:
                try:
                    row = rulebook.save_version(key, text, g.user, note or None)
                except rulebook.RulesError as exc:
                    problems = exc.problems   # Problem objects: shown in the user's language by the template
                else:
                    flash(_("Saved as version %(v)s; new cases use it from now on", v=row.version), "success")
                    return redirect(url_for(".versions", key=key))
        return self.render_template("rules/edit.html", b=business, tx=tx, text=text, note=note, problems=problems,
                                    file_change=rulebook.file_change(key),
                                    names=available_names(),
                                    by_line=problems_by_line(problems), lines=text.split("\n"),
                                    base_version=current.version if current else "")

    @expose("/<key>/merge", methods=["GET", "POST"])
    @has_access
    def merge(self, key):
        """The business file is newer than the console's version: file, console and a merge of both
        side by side; saving the merge takes the file in (rulebook: precedence)."""
        business = _business_or_404(key)
        change = rulebook.file_change(key)
        if change is None:
            flash(_("The business file has no change to merge"), "info")
            return redirect(url_for(".edit", key=key))
        text, problems = change["merged"], []
        if request.method == "POST":
            text = (request.form.get("content") or "").replace("\r\n", "\n")
            if request.form.get("base_version") != str(change["version"]):
                problems = [_("Someone saved version %(v)s while you were editing; compare and try again", v=change["version"])]
            else:
                try:
                    row = rulebook.save_version(key, text, g.user, _("merged the business file %(file)s",
                                                                    file=change["filename"]), merges_file=True)
                except rulebook.RulesError as exc:
                    problems = exc.problems
                else:
                    flash(_("Saved as version %(v)s; new cases use it from now on", v=row.version), "success")
                    return redirect(url_for(".versions", key=key))
        return self.render_template("rules/merge.html", b=business, tx=tx, change=change, text=text, problems=problems,
                                    by_line=problems_by_line(problems), lines=text.split("\n"))

    @expose("/<key>/versions")
    @has_access
    def versions(self, key):
        business = _business_or_404(key)
        rows = rulebook.versions(key)
        diffs = {}
        for newer, older in zip(rows, rows[1:]):
            diffs[newer.id] = rulebook.diff(older.content, newer.content, f"v{older.version}", f"v{newer.version}")
        in_flight = dict(db.session.execute(select(Case.rules_version_id, db.func.count(Case.id)).where(
            Case.business_key == key).group_by(Case.rules_version_id)).all())
        return self.render_template("rules/versions.html", b=business, tx=tx, rows=rows, diffs=diffs, in_flight=in_flight)

    @expose("/<key>/versions/<int:version>/restore", methods=["POST"])
    @has_access
    def restore(self, key, version):
        _business_or_404(key)
        try:
            row = rulebook.restore_version(key, version, g.user)
        except KeyError:
            abort(404)
        except rulebook.RulesError as exc:  # an old version may refer to names since removed
            for p in exc.problems:
                flash(str(p), "danger")   # in the user's language
            return redirect(url_for(".versions", key=key))
        flash(_("Version %(old)s restored as version %(new)s", old=version, new=row.version), "success")
        return redirect(url_for(".versions", key=key))


class PublicServiceGuideView(BaseView):
    """办事指南: every business's scenario, materials, flowchart, fees and time limit, for anyone."""
    route_base = "/guide"
    default_view = "index"

    @expose("/")
    def index(self):
        groups = {}
        for b in rulebook.all_businesses():
            groups.setdefault(b.category, []).append(b)
        labels = {v.code: tx(v.name) for v in rulebook.vocabulary("categories")}
        return self.render_template("rules/guide_index.html", groups=[(labels.get(c, c), items) for c, items in groups.items()], tx=tx)

    @expose("/<key>/")
    def show(self, key):
        return self.render_template("rules/guide.html", **page_context(_business_or_404(key)))


def register(appbuilder):
    # Menu names start with "Rules" so that the Configurator's menu_access pattern (app/roles.py) covers them.
    appbuilder.add_view(RuleConsoleView, "Rules console", label=_l("Business types"), icon="fa-cogs",
                        category="Rules", category_label=_l("Business rules"))
    appbuilder.add_view_no_menu(PublicServiceGuideView)
    appbuilder.add_link("Rules guide", label=_l("Service guide"), href="/guide/", icon="fa-book", category="Rules")
    calendar_console.register(appbuilder)
