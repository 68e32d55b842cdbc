"""Errors of the open API as RFC 9457 problem details (application/problem+json), one shape for all:
{type, title, status, detail, instance, errors: [{field, message}]}. Titles and messages are in the
language the client asked for (Accept-Language: zh by default, en on request)."""
from flask import Response, json, request
from flask_babel import gettext as _

PROBLEM_TYPE = "https://djpt.example.gov.cn/api/problems/"   # + slug; documented in /api/docs


def _titles():
    return {
        400: ("bad-request", _("The request is not valid")),
        401: ("unauthorized", _("Authentication is required or has failed")),
        403: ("forbidden", _("This client may not do that")),
        404: ("not-found", _("Not found")),
        405: ("method-not-allowed", _("Method not allowed")),
        409: ("conflict", _("The case is not in a state that allows this")),
        412: ("precondition-failed", _("The case was changed since you read it (ETag mismatch)")),
        413: ("too-large", _("The request is too large")),
        415: ("unsupported-media-type", _("Unsupported media type")),
        422: ("unprocessable", _("The request could not be processed")),
        428: ("precondition-required", _("This request needs an If-Match header")),
        429: ("too-many-requests", _("Too many requests")),
        500: ("server-error", _("Internal error")),
    }


class Problem(Exception):
    """Raise anywhere inside an API route; answered as problem+json."""

    def __init__(self, status, detail=None, errors=None, slug=None, headers=None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.slug, self.headers = status, detail, errors or [], slug, headers or {}


def response(status, detail=None, errors=None, slug=None, headers=None) -> Response:
    default_slug, title = _titles().get(status, ("error", _("The request could not be processed")))
    body = {"type": PROBLEM_TYPE + (slug or default_slug), "title": title, "status": status,
            "detail": str(detail) if detail else title, "instance": request.path}
    if errors:
        body["errors"] = [{"field": str(e.get("field") or ""), "message": str(e.get("message") or "")} for e in errors]
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def of(exc: Problem) -> Response:
    return response(exc.status, exc.detail, exc.errors, exc.slug, exc.headers)


def field_errors(bad: dict, prefix="") -> list:
    """{field: message} as the problem's errors list."""
    return [{"field": f"{prefix}{k}", "message": str(v)} for k, v in bad.items()]
