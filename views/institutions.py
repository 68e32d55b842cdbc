"""Institutions and their operators (an institution admin sees only their own)."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app import validators
from app.vocab import INSTITUTION_KIND, INSTITUTION_STATUS, formatter, select
from models import Institution

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

    def pre_update(self, item):
        """An institution completes its own information (金融机构信息) but cannot approve itself."""
        from sqlalchemy import inspect

        from app.scope import current_scope
        if current_scope() is None:
            return
        state = inspect(item)
        locked = [c for c in self.REGISTRY_ONLY if state.attrs[c].history.has_changes()]
        if locked:
            raise ValueError(_("Only the registry may change: %(fields)s",
                               fields=", ".join(str(LABELS.get(c, c)) for c in locked)))

    REGISTRY_ONLY = ("name", "uscc", "status", "ca_required", "review_opinion")


from .operators import OperatorView  # noqa: E402,F401  (金融机构操作员管理 lives with the accounts code)
