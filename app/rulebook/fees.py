"""Fees as the charging standard writes them (发改价格规〔2016〕2559号, 财税〔2016〕79号).

A fee line (schema.Fee) counts 件 (`per`: each unit, one loan on the units of one parcel, or the
whole case) or the certificates of a 件 beyond the first (工本费); its base amount depends on the
units (住宅 80, 非住宅 550); a reduction (half rate for a change of name only) or an exemption
(小微企业, 保障性住房, a correction of the registry's own error, 预告, 注销) applies when its condition
holds, and is shown with its legal basis.

Conditions name attributes that exist, checked when the file loads (a misspelt `usee` would match
nothing and make the fee 0, so the fees_paid guard would pass):

    use, area, ... (or unit.use ...)  a column of the unit (models.Unit)
    case.<field>                      a field of form.case
    per_unit.<field>                  a field of form.per_unit
    flag.<name>                       a flag the registry's reviewer sets on the case (FLAGS)
    business.registration_type, business.category
    institution.kind                  the applicant institution's kind (bank, developer, other)
"""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

from models.institution import INSTITUTION_KINDS
from models.property import UNIT_USES, Unit

from .messages import Entry, join
from .source import problem

# Flags the reviewer sets on a case (stored in Case.form_data[FLAGS_KEY]), never the applicant.
FLAGS_KEY = "_review_flags"
FLAGS = {"registry_error": _l("The correction is needed because of the registry's own error")}

UNKNOWN_ATTRIBUTE = Entry(_l("unknown attribute '%(name)s' in a fee condition (known: %(known)s)"))
UNKNOWN_VALUE = Entry(_l("'%(value)s' is not a value of %(name)s (values: %(known)s)"))
BAD_COUNT_FIELD = Entry(_l("count_field '%(name)s' is not an integer field of the form (integer fields: %(known)s)"))

PER_LABELS = {"unit": _l("per unit (件)"), "parcel": _l("per loan on one parcel (件)"), "case": _l("per case (件)"),
              "extra_certificate": _l("per certificate after the first")}
_BOOL = ("true", "false")


def _unit_columns():
    return {c.name: c for c in Unit.__table__.columns if c.name not in ("id", "building_id", "created_at",
                                                                        "updated_at", "created_by_fk", "changed_by_fk")}


def _known_values(name, spec, vocabularies):
    """The values an attribute can take (None: any text), or raise KeyError for an unknown attribute."""
    kind, _dot, attr = name.rpartition(".")
    if kind in ("", "unit"):
        column = _unit_columns()[attr]
        if attr == "use":
            return list(UNIT_USES)
        return list(_BOOL) if str(column.type).upper() == "BOOLEAN" else None
    if kind in ("case", "per_unit"):
        fields = {f.field: f for f in (getattr(spec.form, kind, None) or []) if f is not None}
        field = fields[attr]
        if field.type == "choice":
            return [v.code for v in vocabularies.get(field.vocabulary, [])]
        return list(_BOOL) if field.type == "boolean" else None
    if kind == "flag":
        FLAGS[attr]  # noqa: B018  (KeyError: unknown flag)
        return list(_BOOL)
    if kind == "business":
        table = {"registration_type": "registration_types", "category": "categories"}[attr]
        return [v.code for v in vocabularies.get(table, [])]
    if name == "institution.kind":
        return list(INSTITUTION_KINDS)
    raise KeyError(name)


def _all_names(spec):
    names = sorted(_unit_columns())
    for kind in ("case", "per_unit"):
        names += [f"{kind}.{f.field}" for f in (getattr(spec.form, kind, None) or []) if f is not None and f.field]
    return names + [f"flag.{f}" for f in FLAGS] + ["business.registration_type", "business.category",
                                                    "institution.kind"]


def _norm(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    text = "" if value is None else str(value)
    return text.lower() if text.lower() in ("true", "false") else text


def problems(spec, located, vocabularies):
    """Every fee condition names an existing attribute and a value it can take (loader, at load)."""
    out = []
    fees = spec.fees if isinstance(spec.fees, list) else []
    for i, fee in enumerate(fees):
        if fee is None:
            continue
        conditions = [(("fees", i, "when"), fee.when)]
        conditions += [(("fees", i, "amounts", j, "when"), a.when) for j, a in enumerate(fee.amounts or []) if a]
        for section in ("reductions", "exemptions"):
            conditions += [(("fees", i, section, j, "when"), x.when) for j, x in enumerate(getattr(fee, section) or [])
                           if x is not None]
        for path, when in conditions:
            for name, wanted in (when or {}).items():
                try:
                    known = _known_values(name, spec, vocabularies)
                except (KeyError, AttributeError):
                    out.append(problem(located, path + (name,), UNKNOWN_ATTRIBUTE(name=name, known=join(_all_names(spec)))))
                    continue
                for value in (wanted if isinstance(wanted, list) else [wanted]):
                    if known is not None and _norm(value) not in known:
                        out.append(problem(located, path + (name,), UNKNOWN_VALUE(value=value, name=name, known=join(known))))
        if fee.count_field is not None:
            integers = [f.field for kind in ("case", "per_unit") for f in (getattr(spec.form, kind, None) or [])
                        if f is not None and f.type == "integer"]
            if fee.count_field not in integers:
                out.append(problem(located, ("fees", i, "count_field"),
                                   BAD_COUNT_FIELD(name=fee.count_field, known=join(integers) or "-")))
    return out


# -- charging -------------------------------------------------------------------------------------

def _value(name, case, business, cu):
    kind, _dot, attr = name.rpartition(".")
    if kind in ("", "unit"):
        return getattr(cu.unit, attr, None)
    if kind == "case":
        return (case.form_data or {}).get(attr)
    if kind == "per_unit":
        return (cu.data or {}).get(attr)
    if kind == "flag":
        return bool(((case.form_data or {}).get(FLAGS_KEY) or {}).get(attr))
    if kind == "business":
        return getattr(business, attr)
    if name == "institution.kind":
        return getattr(case.institution, "kind", None)
    return None


def _holds(when, case, business, units):
    """A condition holds for a 件 when every attribute has a wanted value on every unit of it."""
    for name, wanted in (when or {}).items():
        wanted = {_norm(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
        if not all(_norm(_value(name, case, business, cu)) in wanted for cu in units):
            return False
    return True


def _pieces(fee, case):
    """The 件 of a case for one fee line: lists of case units."""
    units = list(case.units)
    if not units:
        return []
    if fee.per == "case":
        return [units]
    if fee.per == "parcel":
        groups = {}
        for cu in units:
            groups.setdefault(cu.unit.building.parcel_id, []).append(cu)
        return list(groups.values())
    return [[cu] for cu in units]


def _base(fee, case, business, units):
    """The base amount and name of a 件: the line's amount, or the highest amount any of its units takes
    (one 件 covering a shop and a flat is charged as the shop)."""
    if fee.amount is not None:
        return fee.amount, None
    found = []
    for cu in units:
        match = next((a for a in fee.amounts if _holds(a.when, case, business, [cu])), None)
        if match is not None:
            found.append(match)
    if not found:
        return None, None
    best = max(found, key=lambda a: a.amount)
    return best.amount, best


def _certificates(fee, case, cu):
    source = (cu.data or {}) if fee.count_field in (cu.data or {}) else (case.form_data or {})
    try:
        return max(1, int(str(source.get(fee.count_field) or 1)))
    except ValueError:
        return 1


def _adjust(fee, case, business, units, amount):
    """(amount after an exemption or reduction, the adjustment applied or None)."""
    exemption = next((x for x in fee.exemptions if _holds(x.when, case, business, units)), None)
    if exemption is not None:
        return Decimal("0.00"), exemption
    reduction = next((r for r in fee.reductions if _holds(r.when, case, business, units)), None)
    if reduction is not None:
        return (amount * reduction.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), reduction
    return amount, None


def breakdown(case, business, locale="zh"):
    """The fee lines of a case, each with what it counts, its base, what was taken off and on what basis,
    and the total. Lines are plain dicts (an order keeps them as JSON)."""
    lines = []
    for fee in business.fees:
        pieces = [p for p in _pieces(fee, case) if _holds(fee.when, case, business, p)]
        if fee.per == "extra_certificate":
            extra = sum(_certificates(fee, case, cu) - 1 for piece in pieces for cu in piece)
            if extra <= 0:
                continue
            units = [cu for piece in pieces for cu in piece]
            base, named = _base(fee, case, business, units)
            if base is None:
                continue
            amount, adjustment = _adjust(fee, case, business, units, base * extra)
            lines.append(_line(fee, named, units, extra, base, amount, adjustment, locale))
            continue
        for piece in pieces:
            base, named = _base(fee, case, business, piece)
            if base is None:
                continue
            amount, adjustment = _adjust(fee, case, business, piece, base)
            lines.append(_line(fee, named, piece, 1, base, amount, adjustment, locale))
    return lines, sum((line["amount"] for line in lines), Decimal("0.00"))


def _text(text, locale):
    return text.get(locale) if text is not None else ""


def _line(fee, named, units, count, base, amount, adjustment, locale):
    where = "、".join(cu.unit.location for cu in units[:2]) + (f" 等 {len(units)} 个单元" if len(units) > 2 else "")
    basis = [_text(fee.basis, locale)]
    if adjustment is not None:
        basis.append(_text(adjustment.basis, locale))
    return {"item": fee.item, "name": _text(getattr(named, "name", None) or fee.name, locale),
            "per": str(PER_LABELS[fee.per]), "count": count, "base": str(base), "amount": amount,
            "units": where, "unit_id": units[0].unit_id,
            "adjustment": _text(adjustment.name, locale) if adjustment is not None else "",
            "exempt": adjustment is not None and amount == 0,
            "basis": "；".join(b for b in basis if b)}


def flag(case, name, value, user=None):
    """Set or clear a reviewer's flag on the case (the caller commits; the Audited case records it)."""
    FLAGS[name]  # noqa: B018  (KeyError: unknown flag)
    flags = dict((case.form_data or {}).get(FLAGS_KEY) or {})
    if value:
        flags[name] = True
    else:
        flags.pop(name, None)
    case.form_data = {**(case.form_data or {}), FLAGS_KEY: flags}


def flags_used(business) -> list:
    """The reviewer flags this business's fee conditions read (the review page offers these)."""
    names = []
    for fee in business.fees:
        for cond in [fee.when] + [a.when for a in fee.amounts] + [x.when for x in fee.reductions + fee.exemptions]:
            names += [n.split(".", 1)[1] for n in (cond or {}) if n.startswith("flag.")]
    return list(dict.fromkeys(names))


def flags(case) -> dict:
    return dict((case.form_data or {}).get(FLAGS_KEY) or {})


def table(business, locale="zh"):
    """The fee lines as the guide and the console show them: one row per base amount, with what it counts
    and the reductions and exemptions with their basis."""
    rows = []
    for fee in business.fees:
        amounts = [(fee.amount, fee.when, None)] if fee.amount is not None else \
            [(a.amount, {**(fee.when or {}), **(a.when or {})}, a.name) for a in fee.amounts]
        for amount, when, name in amounts:
            rows.append({"name": _text(name or fee.name, locale), "per": str(PER_LABELS[fee.per]),
                         "when": [_norm(v) for w in (when or {}).values() for v in (w if isinstance(w, list) else [w])],
                         "amount": amount,
                         "basis": _text(fee.basis, locale),
                         "adjustments": [{"name": _text(x.name, locale), "basis": _text(x.basis, locale),
                                          "rate": getattr(x, "rate", None)} for x in fee.reductions + fee.exemptions]})
    return rows
