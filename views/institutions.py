"""Institutions and their operators (an institution admin sees only their own)."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app import validators
from app.vocab import INSTITUTION_KIND, INSTITUTION_STATUS, OPERATOR_STATUS, formatter, select
from models import Institution, Operator

from .base import LABELS, RegistryModelView


class InstitutionView(RegistryModelView):
    datamodel = SQLAInterface(Institution)
    list_columns = ["name", "kind", "uscc", "legal_person", "contact_name", "contact_phone", "status"]
    search_columns = ["name", "kind", "uscc", "legal_person", "status"]
    show_columns = ["name", "kind", "uscc", "legal_person", "legal_person_id_number", "contact_name",
                    "contact_phone", "address", "status", "ca_required", "review_opinion", "created_at"]
    add_columns = ["name", "kind", "uscc", "legal_person", "legal_person_id_number", "contact_name",
                   "contact_phone", "address", "status", "ca_required"]
    edit_columns = add_columns
    validators_columns = {
        "uscc": [validators.wtforms("uscc")],
        "legal_person_id_number": [validators.wtforms("id_card")],
        "contact_phone": [validators.wtforms("mobile")],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": select(LABELS["kind"], INSTITUTION_KIND), "status": select(LABELS["status"], INSTITUTION_STATUS)}
    formatters_columns = {"kind": formatter(INSTITUTION_KIND), "status": formatter(INSTITUTION_STATUS)}


class OperatorView(RegistryModelView):
    """金融机构操作员管理: the institution admin's list of their operators."""

    datamodel = SQLAInterface(Operator)
    list_title = _l("Operators")
    list_columns = ["username", "first_name", "last_name", "phone", "institution", "status", "active"]
    search_columns = ["username", "first_name", "last_name", "phone", "status", "active"]
    show_columns = ["username", "first_name", "last_name", "email", "phone", "id_number", "institution", "status",
                    "active", "last_login", "login_count"]
    edit_columns = ["first_name", "last_name", "email", "phone", "id_number", "status", "active"]
    # Accounts are created through registration or the admin's look-up (issue: accounts), not typed here.
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete"]
    validators_columns = {"phone": [validators.wtforms("mobile")], "id_number": [validators.wtforms("id_card")]}
    edit_form_extra_fields = {"status": select(LABELS["status"], OPERATOR_STATUS)}
    formatters_columns = {"status": formatter(OPERATOR_STATUS)}
