"""Cases as a searchable list; the case page and its actions belong to the desk and review views."""
from flask_appbuilder.models.sqla.interface import SQLAInterface

from models import Case

from .base import ReadOnlyModelView


class CaseView(ReadOnlyModelView):
    datamodel = SQLAInterface(Case)
    list_columns = ["number", "official_number", "business_key", "institution", "applicant", "node",
                    "submitted_at", "updated_at"]
    search_columns = ["number", "official_number", "business_key", "node", "submitted_at"]
    show_columns = ["number", "official_number", "business_key", "institution", "applicant", "executor", "node",
                    "submitted_at", "deadline", "created_at", "updated_at"]
    base_order = ("updated_at", "desc")
