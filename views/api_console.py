"""接口管理 (the institution administrator's console of the open API): API clients (create: the id and
secret shown once; rotate with overlap; revoke), webhook endpoints (URL and events; the signing secret
shown once; disable) and the delivery log (status, attempts, the receiver's answer; 重新推送).
The rows come through the institution scope (app/scope.py) like every other list; every change is an
audited row (app/audit.py)."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.api import clients, webhooks
from app.extensions import db
from models.api import ApiClient, WebhookDelivery, WebhookEndpoint

DELIVERY_STATUS = {"pending": _l("Retrying"), "delivered": _l("Delivered"), "failed": _l("Failed")}


def _minute(when):
    return when.strftime("%Y-%m-%d %H:%M") if when else ""


def _institution():
    iid = getattr(g.user, "institution_id", None)
    if not iid:
        abort(403)
    return iid


def _one(model, pk):
    """By query, not session.get: the scope's criteria apply only to statements."""
    return db.session.scalar(select(model).where(model.id == pk)) or abort(404)


class ApiConsoleView(BaseView):
    route_base = "/api-console"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.scalars(select(ApiClient).order_by(ApiClient.id.desc())).all()
        endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())).all()
        deliveries = db.session.scalars(select(WebhookDelivery).options(joinedload(WebhookDelivery.event))
                                        .order_by(WebhookDelivery.id.desc()).limit(50)).all()
        return self.render_template("api/console.html", clients=rows, endpoints=endpoints, deliveries=deliveries,
                                    events=webhooks.EVENTS, minute=_minute, status=DELIVERY_STATUS,
                                    shown=g.pop("api_secret_shown", None))

    def _shown(self, title, pairs):
        """The secret shown once, on this answer only (never stored readable, never in a redirect)."""
        g.api_secret_shown = {"title": title, "pairs": pairs}
        return self.index()

    @expose("/clients", methods=["POST"])
    @has_access
    def create_client(self):
        try:
            client, secret = clients.create_client(_institution(), request.form.get("name"), g.user.id)
        except clients.ClientError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".index"))
        return self._shown(_("API client created: copy the secret now, it is shown only once"),
                           [(_("Client ID"), client.client_id), (_("Secret"), secret)])

    @expose("/clients/<int:pk>/rotate", methods=["POST"])
    @has_access
    def rotate(self, pk):
        client = _one(ApiClient, pk)
        try:
            secret = clients.rotate(client)
        except clients.ClientError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".index"))
        return self._shown(_("New secret: the previous one keeps working until %(when)s",
                             when=_minute(client.previous_expires_at)),
                           [(_("Client ID"), client.client_id), (_("Secret"), secret)])

    @expose("/clients/<int:pk>/revoke", methods=["POST"])
    @has_access
    def revoke(self, pk):
        client = _one(ApiClient, pk)
        clients.revoke(client)
        flash(_("API client %(name)s revoked: its tokens and signatures are refused from now on", name=client.name),
              "success")
        return redirect(url_for(".index"))

    @expose("/endpoints", methods=["POST"])
    @has_access
    def create_endpoint(self):
        try:
            endpoint, secret = clients.create_endpoint(_institution(), request.form.get("url"),
                                                       request.form.getlist("events"), g.user.id)
        except clients.ClientError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".index"))
        return self._shown(_("Webhook endpoint registered: copy the signing secret now, it is shown only once"),
                           [(_("URL"), endpoint.url), (_("Signing secret"), secret)])

    @expose("/endpoints/<int:pk>/disable", methods=["POST"])
    @has_access
    def disable_endpoint(self, pk):
        endpoint = _one(WebhookEndpoint, pk)
        endpoint.active = False
        db.session.commit()
        flash(_("Webhook endpoint disabled"), "success")
        return redirect(url_for(".index"))

    @expose("/deliveries/<int:pk>/redeliver", methods=["POST"])
    @has_access
    def redeliver(self, pk):
        webhooks.redeliver(_one(WebhookDelivery, pk))
        flash(_("The event is being sent again"), "success")
        return redirect(url_for(".index"))


def register(appbuilder):
    appbuilder.add_view(ApiConsoleView, "ApiConsole", label=_l("Open API"), icon="fa-plug", category="System",
                        category_label=_l("System management"))
