"""Printed forms laid out with reportlab's platypus: fixed column widths and text that wraps inside its cell.

xhtml2pdf (app/services/pdf.py) never breaks a run without spaces, so a 28-character unit code or a
long bank name ran over the next cell of the 申请书. Here every cell is a Paragraph with CJK wrapping
(a break may fall between any two characters), in a table whose column widths are fixed, so text
stays inside its box whatever its length. The WenQuanYi Micro Hei font is embedded (a subset), as in
the xhtml2pdf documents.
"""
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from markupsafe import escape
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle


FONT_DIR = Path("/usr/share/fonts")
FONT = FONT_DIR / "truetype" / "wqy" / "wqy-microhei.ttc"
FONT_NAME = "WenQuanYiMicroHei"
PAGE = A4
MARGIN = 16 * mm
WIDTH = PAGE[0] - 2 * MARGIN  # the printable width every table shares


def font() -> str:
    """The embedded CJK font's name (registered once per process)."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT), subfontIndex=0))
    return FONT_NAME


def style(size=9.5, bold=False, align=None, leading=None) -> ParagraphStyle:
    s = ParagraphStyle(f"s{size}{bold}{align}", fontName=font(), fontSize=size, leading=leading or size * 1.35,
                       wordWrap="CJK")
    if align == "center":
        s.alignment = TA_CENTER
    return s


def para(text, size=9.5, align=None, bold=False) -> Paragraph:
    """A paragraph of user text: escaped (it is markup to reportlab), line breaks kept."""
    value = "" if text is None else str(text)
    return Paragraph(str(escape(value)).replace("\n", "<br/>"), style(size, bold, align))


def grid(rows, fractions, header_rows=(), shaded_cells=(), spans=(), size=9.5) -> Table:
    """A ruled table: rows of cell texts (None = part of a span), column widths as fractions of WIDTH."""
    widths = [WIDTH * f for f in fractions]
    data = [[_cell(c, size) for c in row] for row in rows]
    commands = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]
    for r in header_rows:
        commands.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#dddddd")))
    for (c, r) in shaded_cells:
        commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor("#f0f0f0")))
    for (c0, r0, c1, r1) in spans:
        commands.append(("SPAN", (c0, r0), (c1, r1)))
    return Table(data, colWidths=widths, style=TableStyle(commands), repeatRows=0)


def _cell(value, size):
    if value is None:
        return ""  # covered by a span
    if isinstance(value, (str, int, float, Decimal)):
        return para(value, size)
    return value  # a flowable already (a nested table, a drawing)


def build(flowables, title="", on_page=None) -> bytes:
    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=title, author="", creator="")
    doc.build(list(flowables), onFirstPage=on_page or _nothing, onLaterPages=on_page or _nothing)
    return out.getvalue()


def _nothing(canvas, doc):
    pass
