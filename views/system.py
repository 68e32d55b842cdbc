"""Read-only system views: the audit log and the SMS outbox of the local SMS adapter."""
from flask_appbuilder.models.sqla.interface import SQLAInterface

from models import AuditLog, SmsMessage

from .base import ReadOnlyModelView


class AuditLogView(ReadOnlyModelView):
    datamodel = SQLAInterface(AuditLog)
    list_columns = ["at", "username", "ip", "action", "object_type", "object_id", "summary"]
    show_columns = ["at", "username", "ip", "action", "object_type", "object_id", "summary", "before", "after"]
    search_columns = ["at", "username", "ip", "action", "object_type", "object_id", "summary"]
    base_order = ("at", "desc")


class SmsOutboxView(ReadOnlyModelView):
    datamodel = SQLAInterface(SmsMessage)
    list_columns = ["sent_at", "phone", "purpose", "body", "status"]
    search_columns = ["phone", "purpose", "sent_at"]
    base_order = ("sent_at", "desc")
