"""Fixtures: one migrated, seeded app per session (SQLite by default, PostgreSQL when
REGISTRY_TEST_DATABASE_URL is set), a test client with a login helper, and a live server for the browser."""
import contextvars
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient

TMP = Path(tempfile.mkdtemp(prefix="registry-test-"))
DATABASE_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL", f"sqlite:///{TMP / 'test.db'}")
os.environ["REGISTRY_DATABASE_URL"] = DATABASE_URL
os.environ["REGISTRY_DATA_DIR"] = str(TMP / "files")
os.environ.setdefault("REGISTRY_SANDBOX", "1")  # the local stand-ins of outside services (SMS outbox ...)
os.environ.setdefault("REGISTRY_DEMO", "1")  # apps the tests start in subprocesses may run on the shipped secrets


def _reset_postgres(url):
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app():
    """The application on a database migrated from empty and seeded with the demo data."""
    if DATABASE_URL.startswith("postgresql"):
        _reset_postgres(DATABASE_URL)
    from app import i18n
    i18n.compile_all()  # the pages are asserted in Chinese: the .mo files must match the .po files
    from flask_migrate import upgrade

    from app import create_app, demo, sync_security
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
                              "DATA_DIR": str(TMP / "files"), "WTF_CSRF_ENABLED": False,
                              "SANDBOX": True,  # the sandboxes' absence is tested on its own (test_adapters_sandbox_off.py)
                              # Every test signs in from 127.0.0.1: request limits are off here and turned
                              # on by the tests of the limits themselves (tests/test_limits.py).
                              "REGISTRY_RATELIMIT_ENABLED": False,
                              # Tests sign in after failures on purpose; the image code after failed sign-ins
                              # is turned on by its own tests (tests/test_settings.py), through 参数设置.
                              "REGISTRY_LOGIN_CAPTCHA_AFTER": 0,
                              "SETTINGS_CACHE_SECONDS": 0})  # tests write settings rows directly
    with application.app_context():
        upgrade()
    sync_security(application)
    with application.app_context():
        demo.seed()
        from app import rulebook
        rulebook.all_businesses()  # the rules files imported as version 1 belong in the snapshot
        from app import dictionary
        dictionary.sync()  # 字典管理 seeded once, in the snapshot, not at each module's first request
    _snapshot(application)
    yield application


def _engine(application):
    from app.extensions import db
    with application.app_context():
        return db.engine


def _maintenance(sql):
    from sqlalchemy import create_engine, text
    engine = create_engine(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in sql:
            conn.execute(text(statement))
    engine.dispose()


def _snapshot(application):
    """Keep the migrated, seeded database so every test module can start from it."""
    _engine(application).dispose()
    if DATABASE_URL.startswith("sqlite"):
        shutil.copyfile(TMP / "test.db", TMP / "snapshot.db")
    else:
        name = DATABASE_URL.rsplit("/", 1)[1]
        _maintenance([f"DROP DATABASE IF EXISTS {name}_snapshot", f"CREATE DATABASE {name}_snapshot TEMPLATE {name}"])


@pytest.fixture(scope="module", autouse=True)
def fresh_database(app):
    """Each test module starts from the seeded snapshot: modules cannot use up or alter each other's data."""
    _engine(app).dispose()
    if DATABASE_URL.startswith("sqlite"):
        shutil.copyfile(TMP / "snapshot.db", TMP / "test.db")
    else:
        name = DATABASE_URL.rsplit("/", 1)[1]
        _maintenance([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE {name}_snapshot"])
    from app import rulebook
    rulebook._cache.clear()  # version ids restart with the snapshot; cached rules would be stale
    yield


@pytest.fixture
def db(app):
    from app.extensions import db as database
    with app.app_context():
        yield database
        database.session.rollback()


def signed_in(page_text):
    """A page shows the sign-out form of the navbar only to a signed-in user; the login page never does."""
    return 'id="logout-form"' in page_text and 'id="login-page"' not in page_text


class Auth:
    def __init__(self, client):
        self.client = client

    def logout(self):
        """Signing out is a POST (test clients post without a CSRF token: WTF_CSRF_ENABLED is off for them)."""
        return self.client.post("/logout/")

    def attempt_login(self, username, password=None):
        """A sign-in that may be refused: the caller checks the outcome."""
        from app.demo import DEMO_PASSWORD
        self.logout()
        return self.client.post("/login/", data={"username": username, "password": password or DEMO_PASSWORD},
                                follow_redirects=True)

    def login(self, username, password=None):
        """A sign-in that must work: fails the test at once when it does not."""
        landed = self.attempt_login(username, password)
        assert landed.status_code == 200 and signed_in(landed.get_data(as_text=True)), f"{username} could not sign in"
        return landed


def browser_logout(page, base):
    """Sign out in the browser the way a user does: the navbar's POST form (via the confirmation page)."""
    page.goto(f"{base}/logout/")
    if page.locator("#logout-confirm").count():
        page.click("#logout-confirm")
        page.wait_for_load_state()


class IsolatedClient(FlaskClient):
    """Each request runs in an empty context, so it gets its own app context and database session,
    as in production, and never sees the test's own session (whose identity map would answer a
    session.get() without the institution scope)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    c = app.test_client()
    c.auth = Auth(c)
    yield c


@pytest.fixture(scope="session")
def live_server(app):
    """The app served from a thread on a free port, for the browser tests."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(autouse=True)
def csrf_in_the_browser(request, app):
    """Browser tests run with CSRF protection on, as in production; test-client tests post without tokens."""
    if "page" not in request.fixturenames:
        yield
        return
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False
