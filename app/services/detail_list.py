"""明细表: a case's units, each with its parties, as one list: paged on the page, whole in the PDF and the
Excel file (Beihai manual 3.1.4.1: 制作明细表, 预约打印明细表)."""
from io import BytesIO

from flask_babel import gettext as _

from app import rulebook
from app.services import excel, pdf


def _tx(text):
    from views.desk_common import tx
    return tx(text)


def headers():
    return [_("No."), _("Unit code"), _("Location"), _("Area (m²)"), _("Use"), _("Parties")]


def rows(case) -> list:
    """One row per unit: number, code, location, area, use in words, and its parties by role."""
    business = rulebook.for_case(case)
    labels = {role: _tx(spec.label) for role, spec in business.form.parties.items()}
    shared = [p for p in case.parties if p.case_unit_id is None]
    out = []
    for i, cu in enumerate(case.units, start=1):
        people = shared + [p for p in case.parties if p.case_unit_id == cu.id]
        by_role = {}
        for p in people:
            by_role.setdefault(labels.get(p.role, p.role), []).append(p.name)
        parties = "；".join(f"{role}：{'、'.join(names)}" for role, names in by_role.items())
        out.append([i, cu.unit.unit_code, cu.unit.location, f"{cu.unit.area:.2f}",
                    rulebook.label("unit_uses", cu.unit.use) or cu.unit.use, parties])
    return out


def page(case, number: int, size: int):
    """(rows of page `number` (1-based, clamped), the page number, the number of pages)."""
    everything = rows(case)
    pages = max(1, -(-len(everything) // size))
    number = min(max(1, number), pages)
    return everything[(number - 1) * size:number * size], number, pages


def workbook(case) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = _("Detail list")
    excel.append_safe(ws, headers())
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows(case):
        excel.append_safe(ws, row)
    for letter, width in zip("ABCDEF", (6, 32, 40, 12, 10, 50)):
        ws.column_dimensions[letter].width = width
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf_bytes(case) -> bytes:
    business = rulebook.for_case(case)
    return pdf.render("detail_list.html", case=case, business_name=_tx(business.name), headers=headers(),
                      rows=rows(case))
