"""The 不动产登记申请书 in the standard layout, one template for every business, and the materials list.

Blocks in the standard order: 申请登记事项 / 申请人情况 (权利人, 义务人) / 不动产情况 / 抵押情况 /
登记原因及证明 / 申请人签章. Every block is a table with the same fixed column widths; every cell
wraps its text inside itself (app/services/printing.py), so a long bank name or unit code never runs
into the next cell. The input is the plain summary dict the desk builds (views/desk_common.case_summary),
so this module knows nothing about rules or the ORM.
"""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, Spacer

from app.services import printing

# 6 fixed columns: label, name, ID type, ID number, phone, share (fractions of the printable width).
PARTY_COLUMNS = (0.13, 0.27, 0.13, 0.21, 0.14, 0.12)
PAIR = (0.2, 0.8)
QUAD = (0.2, 0.3, 0.2, 0.3)
UNIT_ROW = (0.18, 0.36, 0.08, 0.15, 0.08, 0.15)


def _block_title(text):
    return printing.grid([(text,)], (1.0,), header_rows=(0,), size=10)


def _dash(value):
    return "—" if value in (None, "") else value


def _parties(entry, side):
    rows = [p for p in entry.get("parties", []) if _side(p) == side]
    header = (_("Role"), _("Name"), _("ID type"), _("ID number"), _("Phone number"), _("Share"))
    body = [(p.get("role"), p.get("name"), p.get("id_type"), p.get("id_number"), _dash(p.get("phone")),
             _share(p.get("share"))) for p in rows] or [(_("No party on this side"), None, None, None, None, None)]
    spans = [(0, len(body), 5, len(body))] if not rows else []
    return printing.grid([header, *body], PARTY_COLUMNS, header_rows=(0,), spans=spans)


def _share(value):
    """A holder's share as a percentage (0.5 -> 50%); blank for a party that holds none."""
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return _dash(value)
    return f"{(share * 100).normalize():f}%"


def _side(party):
    """权利人 or 义务人: the summary says so; an older summary gives only the role's words."""
    if party.get("side"):
        return party["side"]
    return "obligee" if "权利人" in str(party.get("role", "")) and "义务" not in str(party.get("role", "")) \
        else "obligor"


def _money_text(row):
    value = _dash(row.get("value"))
    return f"{value}（{row['upper']}）" if row.get("upper") else value


def _unit_block(index, unit):
    rows = [
        (_("Property %(n)s", n=index) + (f"（{unit['group']}）" if unit.get("group") else ""), None, None, None, None,
         None),
        (_("Location"), unit.get("location"), None, None, None, None),
        (_("Unit code"), unit.get("unit_code"), _("Area"), f"{unit.get('area')} ㎡", _("Use"), _dash(unit.get("use"))),
        (unit.get("record_label") or _("Certificate or proof number"), _dash(unit.get("record_number")),
         None, None, None, None),
    ]
    return printing.grid(rows, UNIT_ROW, header_rows=(0,),
                         spans=[(0, 0, 5, 0), (1, 1, 5, 1), (1, 3, 5, 3)],
                         shaded_cells=[(0, 1), (0, 2), (2, 2), (4, 2), (0, 3)])


def _field_rows(rows):
    return printing.grid([(r["label"], _money_text(r)) for r in rows], PAIR,
                         shaded_cells=[(0, i) for i in range(len(rows))]) if rows else None


def application(entry) -> list:
    """The flowables of one case's 申请书."""
    story = [Paragraph(_("Real Estate Registration Application"), printing.style(18, align="center", leading=26)),
             Spacer(1, 2 * mm)]
    story.append(printing.grid([
        (_("Application number"), entry.get("number"), _("Acceptance number"), _dash(entry.get("official_number"))),
        (_("Date"), entry.get("date"), _("Registration authority"), _dash(entry.get("authority"))),
    ], QUAD, shaded_cells=[(0, 0), (2, 0), (0, 1), (2, 1)]))
    story += [Spacer(1, 2 * mm), _block_title(_("Registration applied for")),
              printing.grid([(_("Registration matter"), entry.get("business_name")),
                             (_("Registration type"), _dash(entry.get("registration_type")))], PAIR,
                            shaded_cells=[(0, 0), (0, 1)])]
    story += [Spacer(1, 2 * mm), _block_title(_("Applicants' particulars")),
              printing.grid([(_("Right holder side"),)], (1.0,), shaded_cells=[(0, 0)]), _parties(entry, "obligee"),
              printing.grid([(_("Obligor side"),)], (1.0,), shaded_cells=[(0, 0)]), _parties(entry, "obligor")]
    story += [Spacer(1, 2 * mm), _block_title(_("Property particulars"))]
    units = entry.get("units", [])
    for i, unit in enumerate(units, start=1):
        story.append(_unit_block(i, unit))
    mortgage = entry.get("category") == "mortgage"
    story += [Spacer(1, 2 * mm), _block_title(_("Mortgage particulars"))]
    unit_fields = [(u, u.get("fields", [])) for u in units]
    if mortgage and any(f for _u, f in unit_fields):
        for i, (unit, fields) in enumerate(unit_fields, start=1):
            if len(units) > 1:
                story.append(printing.grid([(_("Property %(n)s", n=i),)], (1.0,), shaded_cells=[(0, 0)]))
            story.append(_field_rows(fields) or printing.grid([("—",)], (1.0,)))
    else:
        story.append(printing.grid([(_("This application involves no mortgage"),)], (1.0,)))
    story += [Spacer(1, 2 * mm), _block_title(_("Reason for registration and supporting documents"))]
    reason_rows = list(entry.get("case_fields", []))
    if not mortgage:  # the per-unit facts of a business without a mortgage belong with its reason
        for unit, fields in unit_fields:
            reason_rows += fields
    materials = "、".join(m["name"] for m in entry.get("materials", [])) or "—"
    story.append(printing.grid([*[(r["label"], _money_text(r)) for r in reason_rows],
                                (_("Supporting documents"), materials)], PAIR,
                               shaded_cells=[(0, i) for i in range(len(reason_rows) + 1)]))
    story += [Spacer(1, 2 * mm), _block_title(_("Signatures of the applicants")),
              printing.grid([
                  (_("Right holder (signature or seal)"), Spacer(1, 14 * mm), _("Obligor (signature or seal)"), ""),
                  (_("Agent / clerk"), entry.get("applicant"), _("Institution"), entry.get("institution")),
                  (_("Date"), "", _("Date"), ""),
              ], QUAD, shaded_cells=[(0, 0), (2, 0), (0, 1), (2, 1), (0, 2), (2, 2)])]
    return story


def materials(entry) -> list:
    story = [Paragraph(_("Materials list"), printing.style(18, align="center", leading=26)),
             printing.para(f"{_('Case number')}：{entry.get('number')}　{entry.get('business_name')}", 9.5, "center"),
             Spacer(1, 3 * mm)]
    rows = [("#", _("Material"), _("Required"), _("Files"))]
    for i, m in enumerate(entry.get("materials", []), start=1):
        files = "\n".join(_("%(name)s (%(pages)s pages)", name=f["filename"], pages=f["pages"])
                          for f in m.get("files", [])) or "—"
        rows.append((str(i), m["name"], _("Yes") if m.get("required") else _("No"), files))
    story.append(printing.grid(rows, (0.06, 0.36, 0.1, 0.48), header_rows=(0,)))
    return story


def documents(entries, documents=("application", "materials")) -> bytes:
    """One PDF: for every entry in order, the chosen documents, each starting on a new page."""
    story = []
    for entry in entries:
        for kind in documents:
            if story:
                story.append(PageBreak())
            story += application(entry) if kind == "application" else materials(entry)
    return printing.build(story, title=_("Real Estate Registration Application"))
