"""Bare singletons; create_app() wires them."""
from flask import current_app
from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

db = SQLA()


class RegistryAppBuilder(AppBuilder):
    @property
    def app_name(self):
        # 参数设置 renames the platform at run time: app/settings.py install() registers the reader.
        reader = current_app.extensions.get("registry_app_name")
        return reader() if reader else super().app_name


appbuilder = RegistryAppBuilder(update_perms=True)
migrate = Migrate()

# Every POST, including hand-written views, must carry the session's CSRF token (FAB only checks
# its own WTForms); provider callbacks are exempted one by one (views/payment.py).
from flask_wtf.csrf import CSRFProtect  # noqa: E402

csrf = CSRFProtect()

# Request limits: the rules and the storage are set up by app/limits.py (init_app).
from flask_limiter import Limiter  # noqa: E402
from flask_limiter.util import get_remote_address  # noqa: E402

limiter = Limiter(key_func=get_remote_address)
