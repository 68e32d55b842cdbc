"""API clients and webhook endpoints as the console creates them (views/api_console.py), also used by
the demo seed and the tests. Each change is an Audited row; secrets are returned once, never stored."""
import secrets

from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from app.extensions import appbuilder, db
from app.roles import OPERATOR
from models import Operator
from models.api import ApiClient, WebhookEndpoint
from models.base import utcnow

from . import auth, webhooks


class ClientError(ValueError):
    """A refused console action; str() is the message."""


def create_client(institution_id, name, created_by=None) -> tuple[ApiClient, str]:
    """A client and its service account (an InstitutionOperator of the institution that cannot sign in:
    inactive, with an unusable password); returns (client, secret) — the secret is shown once."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ClientError(_("Name the client (at most 100 characters)"))
    client_id, secret = auth.new_client_id(), auth.new_secret()
    account = Operator(username=f"api-{client_id}", first_name=f"{name}（接口）", email=f"{client_id}@api.invalid",
                       active=False, institution_id=institution_id,
                       password=generate_password_hash(secrets.token_urlsafe(32)),
                       roles=[appbuilder.sm.find_role(OPERATOR)])
    db.session.add(account)
    db.session.flush()
    client = ApiClient(client_id=client_id, name=name, operator_id=account.id, institution_id=institution_id,
                       created_by=created_by)
    auth.set_secret(client, secret)
    db.session.add(client)
    db.session.commit()
    return client, secret


def rotate(client) -> str:
    if client.revoked_at is not None:
        raise ClientError(_("A revoked client cannot be rotated"))
    secret = auth.rotate(client)
    db.session.commit()
    return secret


def revoke(client):
    client.revoked_at = client.revoked_at or utcnow()
    client.previous_expires_at = None
    db.session.commit()


def create_endpoint(institution_id, url, events, created_by) -> tuple[WebhookEndpoint, str]:
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise ClientError(_("The endpoint URL must start with https:// (or http:// on a private network)"))
    try:
        webhooks.check_url(url)
    except webhooks.Unreachable as exc:
        raise ClientError(str(exc)) from None
    chosen = [e for e in events if e in webhooks.EVENTS]
    if not chosen:
        raise ClientError(_("Choose at least one event"))
    secret = webhooks.new_secret()
    endpoint = WebhookEndpoint(url=url, events=chosen, secret_sealed=auth.seal(secret), active=True,
                               created_by=created_by, institution_id=institution_id)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret
