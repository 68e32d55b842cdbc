"""The request's translations looked up once, not on each of the hundreds of gettext calls of a page.

Flask-Babel answers every gettext (and every lazy string shown) by finding the request's context,
its locale, the locale's name and then the catalogue in its cache: about 10 µs, some 2 ms a list
page. Here the catalogue found is kept on the request's Babel context beside the locale it was
found for. It is looked up again whenever that locale object changes or Flask-Babel drops the
memo: `refresh()` deletes `babel_translations` and `force_locale()` clears and restores it, which
is the attribute Flask-Babel itself kept them in before version 3.
"""
from babel import Locale
from flask.globals import _cv_app
import flask_babel
from flask_babel import Domain, _get_current_context, get_translations

_domain_lookup = flask_babel.get_domain

_lookup = Domain.get_translations


def _get_translations(self):
    ctx = _babel_context()
    if ctx is None:
        return _lookup(self)
    memo = getattr(ctx, "babel_translations", None)
    locale = getattr(ctx, "babel_locale", None)
    if memo is not None and memo[0] is self and locale is not None and memo[1] is locale:
        return memo[2]
    translations = _lookup(self)  # sets ctx.babel_locale when the request has not asked for it yet
    ctx.babel_translations = (self, ctx.babel_locale, translations)
    return translations


def _babel_context():
    """Flask-Babel's per-context namespace (g._flask_babel), read without going through the g proxy."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    return app_ctx.g.__dict__.get("_flask_babel") or _get_current_context()


def _page_translations():
    """The catalogue for a template's _(): the request's memo above when it holds (a Jinja _() went
    through Flask-Babel's domain look-up first, some 15 calls of each of a page's ~40 _())."""
    ctx = _babel_context()
    memo = getattr(ctx, "babel_translations", None)
    if memo is not None and memo[1] is getattr(ctx, "babel_locale", None):
        return memo[2]
    return get_translations()


def _parsed_locales(select):
    """FAB's locale selector answers a string, which Flask-Babel parses into a Locale on every request
    (reading the disk to check the locale exists); the Locale of each string is kept instead."""
    parsed = {}

    def selector():
        chosen = select()
        if chosen is None or isinstance(chosen, Locale):
            return chosen
        locale = parsed.get(chosen)
        if locale is None:
            locale = parsed[chosen] = Locale.parse(chosen)
        return locale
    return selector


def locale_name():
    """str(get_locale()) for the request, read from Flask-Babel's context memo without its look-ups (the
    keys of every kept fragment and heading carry the language: some ten per page)."""
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    return str(locale if locale is not None else flask_babel.get_locale())


def _get_domain():
    """Flask-Babel's get_domain (what every Python-side _() asks first) without its two trips through
    the g proxy: the request's domain, once Flask-Babel has set it."""
    domain = getattr(_babel_context(), "babel_domain", None)
    return domain if domain is not None else _domain_lookup()


def install(app):
    Domain.get_translations = _get_translations
    flask_babel.get_domain = _get_domain  # gettext() and its kin look the name up at each call
    babel = app.extensions["babel"]
    babel.locale_selector = _parsed_locales(babel.locale_selector)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _page_translations().ugettext(s),
        ngettext=lambda s, p, n: _page_translations().ungettext(s, p, n), newstyle=True,
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n))
