"""Read-only system views: the audit log (searchable, with before/after) and the SMS outbox."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from models import AuditLog, SmsMessage

from .base import ReadOnlyModelView


def _changes_table(item):
    """Before and after of a row change side by side, one line per column that changed."""
    before, after = item.before or {}, item.after or {}
    if not before and not after:
        return ""
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(before.get(k, ''))}</td><td>{escape(after.get(k, ''))}</td></tr>"
        for k in sorted(set(before) | set(after)))
    return Markup(f'<table class="table table-condensed audit-changes"><tr><th></th><th>{escape(_l("Before"))}</th>'
                  f"<th>{escape(_l('After'))}</th></tr>{rows}</table>")


class AuditLogView(ReadOnlyModelView):
    """Who did what, when, from where, with before/after. Search: user, action, object, IP, time range
    (two filters on the time: greater than / smaller than). Institution admins see their own only (scope)."""

    datamodel = SQLAInterface(AuditLog)
    list_title = _l("Audit log")
    list_columns = ["at", "person", "username", "ip", "action", "object_type", "object_id", "summary"]
    show_columns = ["at", "person", "username", "ip", "action", "object_type", "object_id", "summary", "changes"]
    search_columns = ["at", "username", "ip", "action", "object_type", "object_id", "summary"]
    label_columns = {**ReadOnlyModelView.label_columns, "changes": _l("Before / after"), "person": _l("Full name")}
    base_order = ("at", "desc")
    page_size = 50

    def _get_show_widget(self, pk, item, **kwargs):
        # "changes" is computed, not a column: FAB reads show values as attributes of the row.
        item.changes = _changes_table(item)
        return super()._get_show_widget(pk, item, **kwargs)


class SmsOutboxView(ReadOnlyModelView):
    datamodel = SQLAInterface(SmsMessage)
    list_columns = ["sent_at", "phone", "purpose", "body", "status"]
    search_columns = ["phone", "purpose", "sent_at"]
    base_order = ("sent_at", "desc")
