"""Our security manager: FAB's, with operators (users bound to institutions) as the user model."""
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect

from models import Operator


class OperatorAdminView(UserDBModelView):
    """FAB's user administration for the platform Admin, with the institution columns added."""

    list_columns = ["first_name", "last_name", "username", "institution", "status", "active", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "first_name", "last_name", "email", "phone", "id_number",
                                      "institution", "status", "active", "roles", "login_count"]}),
    ]
    add_columns = ["first_name", "last_name", "username", "email", "phone", "id_number", "institution",
                   "active", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "email", "phone", "id_number", "institution",
                    "status", "active", "roles"]
    search_columns = ["username", "first_name", "last_name", "email", "institution", "status", "active", "roles"]
    label_columns = {"institution": _l("Institution"), "status": _l("Status"), "phone": _l("Mobile"),
                     "id_number": _l("ID number")}


class RegistrySecurityManager(SecurityManager):
    user_model = Operator
    userdbmodelview = OperatorAdminView

    def create_db(self):
        """FAB would create_all() the whole schema here; ours comes from migrations, so only sync roles."""
        if inspect(self.session.get_bind()).has_table("ab_role"):
            BaseSecurityManager.create_db(self)
