"""显示: how a value reads on any page, PDF or sheet, in one place. Codes become words through
app/dictionary.py; this module turns the other values into what a person expects to read:

- no value: blank (never "None");
- a yes/no: 是 / 否 (never True/False);
- a time: to the minute (2026-12-02 09:30), a date as 2026-12-02 (never microseconds);
- an amount: thousands separators and two decimals (1,250,000.00);
- a related row: its name (陈晓东（4301...）), a list of them joined by 、 (never a repr).

views/base.py RegistryModelView applies value() to every list cell and show field that has no
formatter of its own; templates use the `display` filter (installed by init_app)."""
import datetime as dt
import json
from decimal import Decimal

from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from markupsafe import Markup

from app import dictionary

# Columns holding money: shown with two decimals and thousands separators.
MONEY = ("amount", "secured_amount", "maximum_amount", "collateral_value", "price", "fee", "total", "tax")


def is_money(column):
    return bool(column) and (column in MONEY or column.endswith(("_amount", "_fee", "_price")))


def money(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


def moment(value) -> str:
    """A time to the minute, a date as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def name_of(obj) -> str:
    """A related row by its name: the model's own __str__ when it has one, else the party or person it
    stands for (a holder, a mortgagor); never the object's repr."""
    if obj is None:
        return ""
    if isinstance(obj, Role):
        return role_name(obj)
    if type(obj).__str__ is not object.__str__:
        return str(obj)
    for attr in ("party", "user", "unit", "institution"):
        related = getattr(obj, attr, None)
        if related is not None:
            return name_of(related)
    for attr in ("display_name", "name", "first_name", "code", "number"):
        words = getattr(obj, attr, None)
        if words:
            return str(words)
    return ""


def value(v, column=None):
    """Any value as it reads on a page (a Markup passes through: a formatter already made it HTML)."""
    if type(v) is str:  # most cells: nothing to do
        return v if v and column != "geometry" else _geometry(v) if v else ""
    if v is None:
        return ""
    if isinstance(v, Markup):
        return v
    if type(v) is bool:
        return _("Yes") if v else _("No")
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return moment(v)
    if isinstance(v, (Decimal, float, int)):
        return money(v) if is_money(column) else _number(v) if not isinstance(v, int) else str(v)
    if isinstance(v, str):
        return _geometry(v) if column == "geometry" else v
    if isinstance(v, (list, tuple, set, frozenset)) or type(v).__name__ == "InstrumentedList":
        return "、".join(w for w in (str(value(x)) for x in v) if w)
    if isinstance(v, dict):
        return "；".join(f"{k}：{value(x)}" for k, x in v.items())
    return name_of(v)


def _geometry(text):
    """A parcel's or unit's stored polygon (app/services/plans.py) as words, not its GeoJSON."""
    try:
        ring = json.loads(text)["coordinates"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return text
    return _("Polygon with %(n)s corners", n=len(ring) - 1)


def _number(v):
    """A plain decimal without trailing zeros (an area 120.50 reads 120.5, a share 1.0000 reads 1)."""
    return format(Decimal(str(v)).normalize(), "f")


def role_name(role) -> str:
    """A role by its words (机构操作员), not its key (InstitutionOperator)."""
    return dictionary.label("role", role.name)


def author(name) -> str:
    """Who saved a version: an account, or the platform itself (written "system" when the files were imported)."""
    return _("System") if name == "system" else (name or "")


def version_note(note) -> str:
    """A version's note; the import's own ("imported from x.yaml", written in English) in words."""
    for prefix, words in (("imported from ", _("Imported from %(file)s")), ("seeded from ", _("Seeded from %(file)s"))):
        if note and note.startswith(prefix):
            return words.replace("%(file)s", note[len(prefix):])
    return note or ""


def init_app(app):
    """The `display` and `money` template filters, for templates that render values themselves; and
    FAB's roles read by their words wherever FAB prints one (its user forms' role choices, its lists)."""
    Role.__str__ = role_name
    app.jinja_env.filters.setdefault("display", value)
    app.jinja_env.filters.setdefault("money", money)
    app.jinja_env.filters.setdefault("moment", moment)
    app.jinja_env.filters.setdefault("code_label", lambda code, dict_type: dictionary.label(dict_type, code))
    app.jinja_env.filters.setdefault("author", author)
    app.jinja_env.filters.setdefault("business", lambda key: dictionary.business_name(key) or key or "")
    app.jinja_env.filters.setdefault("state", lambda code: dictionary.workflow_words(code) or code or "")
    app.jinja_env.filters.setdefault("version_note", version_note)
