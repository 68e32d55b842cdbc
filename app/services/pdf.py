"""PDF documents: the application form (不动产登记申请书) and the materials list (laid out in
app/services/application_form.py), receipts and archive proofs (xhtml2pdf templates).

xhtml2pdf renders autoescaped Jinja templates from views/templates/desk/pdf/. The WenQuanYi Micro Hei
font is embedded through @font-face (a CID font such as STSong-Light would not be embedded, and a
printed form must look the same everywhere). Every render runs under a ResourceAccessPolicy that
forbids network fetches and confines file reads to our template folder and the system font folder,
because user-typed text ends up in the HTML.
"""
from io import BytesIO
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pypdf import PdfWriter
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from app.services.printing import FONT, FONT_DIR  # one font for every printed document

TEMPLATES = Path(__file__).resolve().parents[2] / "views" / "templates" / "desk" / "pdf"
POLICY = ResourceAccessPolicy(allow_remote=False, base_dir=TEMPLATES, extra_roots=(FONT_DIR,),
                              max_render_seconds=60)


class PdfError(RuntimeError):
    pass


def _env():
    from flask_babel import gettext, ngettext
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    return env


def render(template: str, **context) -> bytes:
    """Render one template to PDF bytes."""
    html = _env().get_template(template).render(font_path=FONT.as_posix(), **context)
    out = BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=POLICY)
    if result.err:
        raise PdfError(f"PDF rendering failed with {result.err} error(s)")
    return out.getvalue()


def case_documents(summaries, documents=("application", "materials")) -> bytes:
    """One PDF holding, for every case summary in order, the chosen documents (batch print).

    A summary is a plain dict built by the desk (views/desk_common.case_summary) so this module
    knows nothing about rules or the ORM.
    """
    from app.services import application_form  # laid out with fixed widths, text wrapping in its cell
    return application_form.documents(list(summaries), documents)


def case_documents_in_steps(summaries, step=10, progress=None) -> bytes:
    """case_documents for many cases, rendered `step` cases at a time and joined into one PDF, calling
    progress(cases done) after each step (a batch print job shows how far it got)."""
    summaries = list(summaries)
    writer = PdfWriter()
    for start in range(0, len(summaries), step):
        writer.append(BytesIO(case_documents(summaries[start:start + step])))
        if progress:
            progress(min(start + step, len(summaries)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
