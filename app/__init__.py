"""The application factory: wires the extensions, security, scope, audit and views."""
import logging
import os
import re
from pathlib import Path

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
_INTEGER = re.compile(r"-?[0-9]{1,20}")


def translation_dirs():
    """translations/ and each area catalog under it (translations/<area>/{zh,en}), all in the messages domain."""
    top = ROOT / "translations"
    return [top] + sorted(d for d in top.iterdir() if d.is_dir() and (d / "zh").is_dir() and d.name not in ("zh", "en"))


def create_app(test_config=None):
    # FAB warns at start-up for every TIME column it cannot filter on; our views declare their own.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)
    app = Flask(__name__, template_folder=str(ROOT / "views" / "templates"),
                static_folder=str(ROOT / "app" / "static"), instance_path=str(ROOT / "instance"))
    app.config.from_object("config")
    if test_config:
        app.config.update(test_config)
    from app.services import outside
    outside.check(app.config)  # a sandbox adapter without REGISTRY_SANDBOX=1 stops start-up
    for missing in outside.unconfigured(app.config):
        app.logger.warning("%s is not set: that outside service fails until it is", missing)
    from app import secrets_check
    secrets_check.check(app.config)  # no start-up on a shipped or short signing secret (unless demo/testing)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in translation_dirs())
    os.makedirs(app.config["DATA_DIR"], exist_ok=True)
    from app import display
    display.init_app(app)  # the `display` template filter: blanks, 是/否, minutes, money, names (app/display.py)
    from app import errors
    errors.install(app)  # before any view: the "int" converter refuses ids beyond 64 bits; Chinese error pages

    from app.extensions import appbuilder, csrf, db, migrate
    import models  # noqa: F401  (every table on the metadata before anything queries)

    db.init_app(app)
    csrf.init_app(app)
    from app import headers
    headers.init_app(app)  # security headers, HTTPS-only mode, no-store on files and sign-in pages
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    with app.app_context():
        from app import audit, scope
        scope.install(app)
        audit.install(app)
        from app import departments, sessions
        sessions.install(app)  # a session ended by an administrator goes to the login page
        departments.install(app)  # a new case keeps its filer's department (data scope)
        # The schema comes from migrations only; roles and permissions are synced once it exists.
        try:
            migrated = inspect(db.engine).has_table("ab_permission_view_role")
        except OperationalError as exc:  # the database is down: start anyway, /healthz answers 503 until it is back
            logging.getLogger(__name__).error("database unreachable at start-up: %s", exc.orig)
            migrated = False
        app.config["FAB_UPDATE_PERMS"] = migrated and app.config.get("FAB_UPDATE_PERMS", True)
        appbuilder.update_perms = app.config["FAB_UPDATE_PERMS"]
        appbuilder.init_app(app, db.session)
        import views
        views.register(appbuilder)
        from app import api
        api.init_app(app)  # the open API /api/v1 (issue 15): its own blueprint, events and webhooks
        from app import limits
        limits.init_app(app)  # request limits on the routes views.register() mounted
        from app import rulebook
        try:
            rulebook.init_app(app)  # invalid rules stop start-up: one message per problem (file, line, key path)
        except OperationalError:  # rules files checked; importing them as versions waits for the database
            pass
        from app.services import workdays
        workdays.warn_missing_years(app)  # the holiday calendar must cover this year and the next

    @app.url_value_preprocessor
    def _primary_keys_in_range(endpoint, values):
        """Every primary key is an INTEGER: a key that is not one, or is beyond its range (app/errors.MAX_ID),
        cannot exist; answer 404 rather than let int() or the driver fail (a 500)."""
        from app.errors import MAX_ID
        pk = (values or {}).get("pk")
        if isinstance(pk, str) and not (_INTEGER.fullmatch(pk) and abs(int(pk)) <= MAX_ID):
            abort(404)

    @app.before_request
    def _fab_actions():
        """FAB's action routes look the action up by name and fail (a 500) on a name the view lacks,
        and refuse a role without the action's permission by redirecting to '.', a page that does not
        exist. An unknown action is not found; a refused one is answered as has_access answers (403,
        or the login page for a visitor)."""
        endpoint = request.endpoint or ""
        if endpoint.endswith((".action", ".action_post")):
            view = getattr(app.view_functions[endpoint], "__self__", None)
            name = (request.view_args or {}).get("name") if endpoint.endswith(".action") else request.form.get("action")
            if name is None or view is None:
                return None
            if name not in getattr(view, "actions", {}):
                abort(404)
            if not appbuilder.sm.has_access(view.get_action_permission_name(name), view.class_permission_name):
                if current_user.is_authenticated:
                    abort(403)
                return redirect(url_for(appbuilder.sm.auth_view.__class__.__name__ + ".login", next=request.url))
        return None

    @app.before_request
    def _no_file_columns():
        """FAB's /<view>/download/<filename> sends a file of UPLOAD_FOLDER for file columns; no model
        has one (and there is no UPLOAD_FOLDER: a 500). Whoever may download finds nothing; the
        others are refused by the view as usual."""
        endpoint = request.endpoint or ""
        if endpoint.endswith(".download"):
            view = getattr(app.view_functions[endpoint], "__self__", None)
            if view is not None and "can_download" in (view.base_permissions or ()) \
                    and appbuilder.sm.has_access("can_download", view.class_permission_name):
                abort(404)

    @app.before_request
    def _list_pages_are_numbers():
        """Page numbers and sizes end up in OFFSET/LIMIT: FAB reads page_<View> and psize_<View> with
        int() (a 500 on 'x'), PostgreSQL refuses negatives, SQLite overflows beyond 64 bits (our own
        lists' ?page=). Anything but a page from 0 and a size from 1, below 2**31, is a bad request."""
        for arg, value in request.args.items():
            if arg == "page" or arg.startswith(("page_", "psize_")):
                smallest = 1 if arg.startswith("psize_") else 0
                if not (_INTEGER.fullmatch(value) and smallest <= int(value) < 2**31):
                    abort(400)

    from app import menu_cache, translations_memo
    menu_cache.install(app)  # the navbar's menu rendered once per roles and language
    translations_memo.install(app)  # the request's catalogue looked up once per request
    from app import csrf_tokens, fragments, url_memo
    csrf_tokens.install(app)  # the session's CSRF token signed once, not at every request
    url_memo.install(app)  # static assets' URLs built once
    fragments.install(app)  # the page frame's dialogs and language menu rendered once per language
    from app import health
    app.register_blueprint(health.bp)
    from app import captcha
    app.register_blueprint(captcha.bp)
    _dictionary_and_settings(app)
    from app import cli  # noqa: E402
    cli.register(app, sync_security)
    return app


def _dictionary_and_settings(app):
    """参数设置 read per request (session timeout, platform name, staff addresses); 字典管理 seeded with
    what the rules files and enumerations hold that the database lacks (once migrated)."""
    from app import dictionary, settings
    settings.install(app)
    with app.app_context():
        if dictionary.seedable():
            dictionary.sync()


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite enforces foreign keys only when asked, per connection."""
    if dbapi_connection.__class__.__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def sync_security(app):
    """Create the declared roles and every view's permissions (after a migration on a new database)."""
    from app.extensions import appbuilder
    with app.app_context():
        appbuilder.update_perms = True
        appbuilder.sm.create_db()
        appbuilder.add_permissions(update_perms=True)
