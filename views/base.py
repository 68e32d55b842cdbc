"""The base of every CRUD view: paging, labels, and turning domain errors into form messages."""
from flask_appbuilder import ModelView

from .labels import LABELS


class RegistryModelView(ModelView):
    page_size = 20
    label_columns = LABELS


class ReadOnlyModelView(RegistryModelView):
    base_permissions = ["can_list", "can_show"]
