"""Read-only system views: the audit log (searchable, with before/after) and the SMS outbox (sandbox only)."""
from flask import abort, current_app
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

import datetime as dt
import re

from app import display
from app.dictionary import business_name, label, workflow_words
from models import AuditLog, SmsMessage

from .base import ReadOnlyModelView
from .labels import LABELS

# A column's codes in the audit log's before/after, by the dictionary type that turns them into words.
CHANGE_CODES = {"status": {"Institution": "institution_status", "Operator": "operator_status", "Right": "right_status",
                           "Mortgage": "mortgage_status", "PreNotice": "pre_notice_status"},
                "kind": {"Institution": "institution_kind", "Party": "party_kind"}, "use": {"Unit": "unit_use"}}
# Words an audit summary holds by themselves: how a user signed in (login), who registered (register).
SUMMARY_WORDS = {"password": _l("with a password"), "ca": _l("with a CA certificate"), "ldap": _l("through LDAP"),
                 "public": _l("Public user")}
_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]{4,}\b")


def summary_words(text):
    """An audit summary written with the codes of its moment (a case's "pre_review -> accepted", a
    business key) read in words; other text as written."""
    if not text:
        return ""
    if text in SUMMARY_WORDS:
        return str(SUMMARY_WORDS[text])
    words = _IDENTIFIER.sub(lambda m: business_name(m.group(0)) or workflow_words(m.group(0)) or m.group(0), text)
    return words.replace(" -> ", " → ")


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2})?")


def column_words(column):
    """A changed column by its label: a foreign key by the row it points to (building_id: 幢)."""
    if column == "id":
        return _l("Record ID")
    words = LABELS.get(column[:-3] if column.endswith("_id") else column)
    return words if words is not None else column


def _change_value(object_type, column, value):
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):  # a time, as the snapshot wrote it
        return display.moment(dt.datetime.fromisoformat(value))
    dict_type = CHANGE_CODES.get(column, {}).get(object_type)
    if dict_type:
        return label(dict_type, value)
    if column == "node":
        return workflow_words(value) or display.value(value, column)
    if column == "business_key":
        return business_name(value) or value
    return display.value(value, column)


def _changes_table(item):
    """Before and after of a row change side by side, one line per column that changed."""
    before, after = item.before or {}, item.after or {}
    if not before and not after:
        return ""
    t = item.object_type
    rows = "".join(
        f"<tr><th>{escape(column_words(k))}</th><td>{escape(_change_value(t, k, before.get(k)))}</td>"
        f"<td>{escape(_change_value(t, k, after.get(k)))}</td></tr>"
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
    formatters_columns = {"action": lambda code: label("audit_action", code),
                          "object_type": lambda code: label("audit_object", code),
                          "summary": summary_words, "at": display.moment,
                          "username": display.author, "person": display.author}

    def _get_show_widget(self, pk, item, **kwargs):
        # "changes" is computed, not a column: FAB reads show values as attributes of the row.
        item.changes = _changes_table(item)
        return super()._get_show_widget(pk, item, **kwargs)


SMS_PURPOSES = {"register": _l("Registration"), "reset_password": _l("Password reset"),
                "case_confirm": _l("Party confirmation")}
SMS_STATUS = {"sent": _l("Sent"), "failed": _l("Failed"), "queued": _l("Queued")}


class SmsOutboxView(ReadOnlyModelView):
    """The sandbox SMS gateway's outbox. It exists only in sandbox mode (REGISTRY_SANDBOX=1): registered
    then only, and refused (404) whenever the setting is off. Codes in it are masked for everyone but the
    Admin (SmsMessage.text; the table itself holds no readable code)."""

    datamodel = SQLAInterface(SmsMessage)
    list_columns = show_columns = ["sent_at", "phone", "purpose", "text", "status"]
    search_columns = ["phone", "purpose", "sent_at"]
    label_columns = {**ReadOnlyModelView.label_columns, "text": _l("Message")}
    formatters_columns = {"purpose": lambda key: SMS_PURPOSES.get(key, key),
                          "status": lambda key: SMS_STATUS.get(key, key)}
    base_order = ("sent_at", "desc")

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(_sandbox_only)
        return blueprint


def _sandbox_only():
    if not current_app.config.get("SANDBOX"):
        abort(404)


def register_outbox(appbuilder, category):
    """The outbox page, in sandbox mode only."""
    if current_app.config.get("SANDBOX"):
        appbuilder.add_view(SmsOutboxView, "SmsOutbox", label=_l("SMS outbox"), icon="fa-envelope", category=category)
