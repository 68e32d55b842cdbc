"""The request's translations looked up once, not on each of the hundreds of gettext calls of a page.

Flask-Babel answers every gettext (and every lazy string shown) by finding the request's context,
its locale, the locale's name and then the catalogue in its cache: about 10 µs, some 2 ms a list
page. Here the catalogue found is kept on the request's Babel context beside the locale it was
found for. It is looked up again whenever that locale object changes or Flask-Babel drops the
memo: `refresh()` deletes `babel_translations` and `force_locale()` clears and restores it, which
is the attribute Flask-Babel itself kept them in before version 3.
"""
from flask_babel import Domain, _get_current_context

_lookup = Domain.get_translations


def _get_translations(self):
    ctx = _get_current_context()
    if ctx is None:
        return _lookup(self)
    memo = getattr(ctx, "babel_translations", None)
    locale = getattr(ctx, "babel_locale", None)
    if memo is not None and memo[0] is self and locale is not None and memo[1] is locale:
        return memo[2]
    translations = _lookup(self)  # sets ctx.babel_locale when the request has not asked for it yet
    ctx.babel_translations = (self, ctx.babel_locale, translations)
    return translations


def install():
    Domain.get_translations = _get_translations
