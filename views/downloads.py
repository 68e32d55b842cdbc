"""One way to hand a generated file to the browser (PDFs inline, workbooks as attachments)."""
from urllib.parse import quote

from flask import Response

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(data: bytes, filename: str, mimetype: str = PDF) -> Response:
    """Chinese file names travel as RFC 5987 filename*; PDFs open in the browser, the rest download."""
    disposition = "inline" if mimetype == PDF else "attachment"
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}"})
