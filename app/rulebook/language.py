"""The language rules text is shown in: the request's locale, Chinese outside a request."""
from flask import has_request_context
from flask_babel import get_locale


def current_locale():
    if not has_request_context():
        return "zh"
    try:
        loc = get_locale()
    except Exception:   # no Babel on this app (scripts): fall back to the default language
        return "zh"
    return loc.language if loc else "zh"
