"""The base of every CRUD view: paging, shared labels, and forms that accept an unticked box."""
from flask import g
from flask_appbuilder import ModelView
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from .labels import LABELS


def posted_ids(values):
    """The row ids among posted strings: ASCII digits within 64 bits; anything else never named a row
    (int() refuses '²', the database overflows beyond 64 bits)."""
    return [int(v) for v in values if v and v.isascii() and v.isdigit() and int(v) < 2**63]


class RegistryModelView(ModelView):
    page_size = 20
    label_columns = LABELS

    @property
    def database_error_message(self):
        """FAB's edit flashes this fixed text when the save fails; the reason in words (app/errors.py) instead."""
        return g.get("save_refused") or ModelView.database_error_message

    def _init_forms(self):
        """FAB marks NOT NULL booleans as required, which refuses 'False'; the column default covers None."""
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            for name in dir(form):
                field = getattr(form, name, None)
                if isinstance(field, UnboundField) and issubclass(field.field_class, BooleanField):
                    field.kwargs["validators"] = [v for v in field.kwargs.get("validators", [])
                                                  if not isinstance(v, (DataRequired, InputRequired))]


class ReadOnlyModelView(RegistryModelView):
    base_permissions = ["can_list", "can_show"]
