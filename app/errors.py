"""What people see when a request fails: one Chinese page per HTTP error, ids beyond 64 bits treated
as absent, and FAB's save/delete failures put into words instead of "Database Error" or SQL text.

install(app) must run before any view is registered: the "int" URL converter is looked up when a
rule is added.
"""
import functools
import logging
import re

from flask import g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter

from app import validators
from app.paging import BAD_ORDER, BadListLink
from views.labels import LABELS

log = logging.getLogger(__name__)
MAX_ID = 2**31 - 1  # every id column is an INTEGER: 32 bits on PostgreSQL (a larger value is a DataError there)

# Title and explanation of each error page; the codes people actually meet.
PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, check what you entered and try again.")),
    403: (_l("No permission"), _l("Your account may not open this page. Sign in with another account, or ask your administrator.")),
    404: (_l("Page not found"), _l("The page or record does not exist, or is not within your reach.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way. Go back and use the buttons on the page.")),
    413: (_l("File too large"), _l("What you sent is larger than the platform accepts. Make the files smaller and try again.")),
    429: (_l("Too many requests"), _l("Too many requests in a short time. Wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("The platform could not complete the request. Try again later; if it keeps happening, tell the registry.")),
}
CSRF_EXPIRED = _l("The page has expired. Reload it and submit again.")
SAVE_DUPLICATE = _l("Not saved: the record duplicates an existing one or is still referred to by other records")
SAVE_FAILED = _l("Not saved: the database could not complete the change; nothing was changed")
SAVE_OUT_OF_SCOPE = _l("Not saved: the record belongs to another institution")


# The database's constraints in words (the forms check the same first; this is what a save that still
# breaks one is told). CHECK constraints by name; unique and not-null ones by the column's label.
CHECK_MESSAGES = {
    "ck_unit_area": validators.UNIT_AREA_MESSAGE, "ck_unit_area_range": validators.UNIT_AREA_MESSAGE,
    "ck_parcel_area": validators.PARCEL_AREA_MESSAGE, "ck_parcel_area_range": validators.PARCEL_AREA_MESSAGE,
    "ck_unit_floor_range": validators.FLOOR_MESSAGE,
    "ck_building_floors": validators.FLOORS_MESSAGE, "ck_building_floors_range": validators.FLOORS_MESSAGE,
    "ck_unit_code_len": _l("Unit code must be exactly 28 characters"),
    "ck_parcel_code_len": _l("Parcel code must be exactly 19 characters"),
    "ck_institution_uscc_len": _l("Unified social credit code must be 18 characters from digits and letters except I, O, S, V, Z"),
}
CHECK_FAILED = _l("Not saved: a value is outside what the register allows")
_CHECK = re.compile(r'CHECK constraint failed: (\w+)|violates check constraint "(\w+)"')
_UNIQUE = re.compile(r"UNIQUE constraint failed: \w+\.(\w+)|Key \((\w+)")
_NOT_NULL = re.compile(r'NOT NULL constraint failed: \w+\.(\w+)|null value in column "(\w+)"')


def constraint_message(exc):
    """The refusal of a database constraint as a sentence naming the field; None for other errors
    (SQLite and PostgreSQL word them differently; both are read)."""
    if not isinstance(exc, IntegrityError):
        return None
    text = str(exc.orig)

    def found(pattern):
        m = pattern.search(text)
        return next((x for x in m.groups() if x), None) if m else None

    if name := found(_CHECK):
        return CHECK_MESSAGES.get(name, CHECK_FAILED)
    if column := found(_UNIQUE):
        return _l("Not saved: %(field)s is already registered on another record", field=LABELS.get(column, column))
    if column := found(_NOT_NULL):
        return _l("Not saved: %(field)s is required", field=LABELS.get(column, column))
    return None


class IdConverter(IntegerConverter):
    """The "int" converter, refusing numbers no row can have: the route then does not match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class SaveRefused(Exception):
    """A failed CRUD save or delete; str() is what FAB flashes."""

    def __str__(self):
        return str(self.args[0])


def install(app):
    app.url_map.converters["int"] = IdConverter
    app.register_error_handler(HTTPException, error_page)  # every HTTP error, not only those in PAGES
    # A number beyond 64 bits that reached the database (a query argument, a form value) names no row.
    app.register_error_handler(OverflowError, lambda exc: error_page(NotFound()))
    app.before_request(_list_arguments)
    _crud_messages()


BAD_FILTER = _l("This list cannot be filtered that way. Use the search form of the list.")
_FILTER_ARG = re.compile(r"_flt_(\d)_(.+)")


def _list_arguments():
    """FAB list views sort by any _oc_<View> column and direction they are given and fail (a 500) on
    one they do not have, and silently drop a filter (_flt_<n>_<column>) they do not know, showing an
    unfiltered list as if it were the filtered one: anything but a column the view sorts by, ascending
    or descending, or a filter of its search form, is a bad request that says so."""
    from flask import current_app
    view = None
    for arg, value in request.args.items():
        if not arg.startswith(("_od_", "_oc_", "_flt_")):
            continue
        view = view or getattr(current_app.view_functions.get(request.endpoint or ""), "__self__", None)
        if arg.startswith("_od_") and value not in ("asc", "desc"):
            raise BadListLink(BAD_ORDER)
        if arg.startswith("_oc_") and (view is None or value not in (getattr(view, "order_columns", None) or ())):
            raise BadListLink(BAD_ORDER)
        if arg.startswith("_flt_") and not _known_filter(view, arg):
            raise BadListLink(BAD_FILTER)


def _known_filter(view, arg):
    """_flt_<n>_<column>: a column of the view's search form and the index of one of its filters."""
    match = _FILTER_ARG.fullmatch(arg)
    filters = getattr(view, "_filters", None)
    if match is None or filters is None:
        return False
    index, column = int(match.group(1)), match.group(2)
    return index < len(filters.get_search_filters().get(column, ()))


def error_page(exc):
    code = exc.code if isinstance(exc, HTTPException) else 500
    title, text = PAGES.get(code) or PAGES[400 if code < 500 else 500]
    if code == 400 and "CSRF" in (getattr(exc, "description", "") or ""):
        text = CSRF_EXPIRED
    text = getattr(exc, "page_text", None) or text  # a 400 that says what was wrong (app/paging.py)
    if request.path.startswith("/api/"):
        response = jsonify(message=str(text))
    else:
        try:  # the full layout, with the menu; it reads the user, so a broken database falls back
            response = render_template("errors/page.html", code=code, title=title, text=text, plain=False,
                                       **_fab_context())
        except Exception:
            log.exception("error page with layout failed; plain page instead")
            response = render_template("errors/page.html", code=code, title=title, text=text, plain=True)
    response = make_response(response, code)
    if isinstance(exc, HTTPException):  # e.g. Allow on a 405, Retry-After on a 429
        for key, value in exc.get_headers():
            if key.lower() != "content-type":
                response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _fab_context():
    from app.extensions import appbuilder
    return {"appbuilder": appbuilder, "base_template": appbuilder.base_template}


def _crud_messages():
    """FAB's CRUD views flash str(exception) when a save or delete fails: SQL text on add, "DatabaseException:
    IntegrityError" on delete, "Database Error" on edit. The interface raises our SaveRefused instead,
    after rolling back, so the flash is a sentence (edit's fixed message is translated in the catalogue)."""
    from flask_appbuilder.exceptions import DatabaseException
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.scope import ScopeViolation
    if getattr(SQLAInterface, "_registry_messages", False):
        return
    SQLAInterface._registry_messages = True

    def guard(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (SQLAlchemyError, DatabaseException, ScopeViolation) as exc:
                self.session.rollback()
                cause = exc.__cause__ if isinstance(exc, DatabaseException) else exc
                log.warning("CRUD %s refused: %r", method.__name__, cause)
                # A delete breaks a constraint only when other rows still name the row (an ORM delete
                # first blanks their reference, hence a NOT NULL error): not a field's fault.
                named = constraint_message(cause) if method.__name__ in ("add", "edit") else None
                message = SAVE_OUT_OF_SCOPE if isinstance(cause, ScopeViolation) else \
                    named or (SAVE_DUPLICATE if isinstance(cause, IntegrityError) else SAVE_FAILED)
                g.save_refused = message   # FAB's edit flashes a fixed text: views/base.py shows this instead
                raise SaveRefused(message) from exc
        return guarded

    for name in ("add", "edit", "delete", "delete_all"):
        setattr(SQLAInterface, name, guard(getattr(SQLAInterface, name)))
