"""PDF pages to one JPEG (the JPG download of certificates and proofs), with poppler's pdftoppm.

pdftoppm runs on a temporary copy with a time limit; the pages are stacked top to bottom with a thin
grey gap into one image, so a holder gets one file to show or send.
"""
import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

from flask import current_app
from PIL import Image

TIMEOUT_SECONDS = 60
GAP = 12


class RasterizeError(RuntimeError):
    pass


def pdf_to_jpg(data: bytes, dpi: int | None = None) -> bytes:
    dpi = dpi or current_app.config["CERTIFICATE_JPG_DPI"]
    with tempfile.TemporaryDirectory(prefix="jpg-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        try:
            subprocess.run(["pdftoppm", "-jpeg", "-jpegopt", "quality=88", "-r", str(int(dpi)), str(src),
                            str(Path(tmp) / "page")], check=True, capture_output=True, timeout=TIMEOUT_SECONDS)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RasterizeError(f"pdftoppm failed: {exc}") from exc
        pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("page*.jpg"))]
        if not pages:
            raise RasterizeError("pdftoppm produced no page")
        width = max(p.width for p in pages)
        sheet = Image.new("RGB", (width, sum(p.height for p in pages) + GAP * (len(pages) - 1)), (200, 200, 200))
        y = 0
        for page in pages:
            sheet.paste(page, (0, y))
            y += page.height + GAP
        out = BytesIO()
        sheet.save(out, format="JPEG", quality=88)
        return out.getvalue()
