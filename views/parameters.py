"""参数设置: the runtime settings of app/settings.py on one page, for the platform Admin. A save is
checked, audited and takes effect at the next request without a restart; "reset" returns a setting
to its environment default (config.py, REGISTRY_* variables)."""
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l

from app import settings


def _shown(name):
    value = settings.get(name)
    return "\n".join(value) if settings.BY_NAME[name].kind == "networks" else value


def _default_words(name):
    value, kind = settings.default(name), settings.BY_NAME[name].kind
    if kind == "bool":
        return _("Yes") if value else _("No")
    if kind == "networks":
        return "、".join(value) or _("(none)")
    return value


class ParameterConsoleView(BaseView):
    route_base = "/parameters"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        typed, problems = {}, []
        if request.method == "POST":
            values = {}
            for d in settings.DEFINITIONS:
                raw = request.form.get(d.name) if d.kind != "bool" else (request.form.get(d.name) == "y")
                typed[d.name] = raw
                try:
                    values[d.name] = settings.parse(d.name, raw)
                except settings.SettingError as exc:
                    problems.append(str(exc))
            if not problems and settings.staff_address_refused(request.remote_addr, values["staff_ip_allow"],
                                                                values["staff_ip_deny"]):
                problems.append(_("Not saved: these address lists would refuse your own address (%(ip)s) "
                                  "and shut you out", ip=request.remote_addr))
            if not problems:
                changed = settings.save(values, g.user.username)
                if changed:
                    flash(_("Saved; in effect from the next request: %(names)s",
                            names="、".join(str(settings.BY_NAME[n].label) for n in changed)), "success")
                else:
                    flash(_("Nothing changed"), "info")
                return redirect(url_for(".index"))
        groups = {}
        for d in settings.DEFINITIONS:
            groups.setdefault(str(d.group), []).append(d)
        return self.render_template("parameters/index.html", groups=groups, problems=problems,
                                    value=lambda name: typed[name] if name in typed else _shown(name),
                                    default=_default_words, saved=settings.is_saved)

    @expose("/<name>/reset", methods=["POST"])
    @has_access
    def reset(self, name):
        if name not in settings.BY_NAME:
            return redirect(url_for(".index"))
        if settings.reset(name, g.user.username):
            flash(_("%(label)s is back to the default", label=settings.BY_NAME[name].label), "success")
        return redirect(url_for(".index"))


def register(appbuilder, category):
    appbuilder.add_view(ParameterConsoleView, "Parameters", label=_l("Parameter settings"), icon="fa-sliders",
                        category=category)
