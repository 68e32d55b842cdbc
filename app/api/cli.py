"""Command-line set-up of the open API for the demo and operations:

    flask --app run api-client create bank_a [--name 贷款系统]       # prints the client id and secret once
    flask --app run api-webhook create bank_a http://127.0.0.1:8765/webhooks   # prints the signing secret once
    flask --app run webhooks-retry                                   # resend due retries (cron, after a restart)
An institution is named by its demo key (bank_a, bank_b, developer) or its USCC."""
import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app.extensions import db
from models import Institution, Operator

api_client = AppGroup("api-client", help="Open API clients")
api_webhook = AppGroup("api-webhook", help="Open API webhook endpoints")


def _institution(key):
    from app.demo import INSTITUTIONS
    uscc = next((i["uscc"] for i in INSTITUTIONS if i["key"] == key), key)
    inst = db.session.scalar(select(Institution).where(Institution.uscc == uscc))
    if inst is None:
        raise click.ClickException(f"no institution {key}")
    return inst


def _admin(inst):
    from app.roles import INSTITUTION_ADMIN
    return next((u for u in db.session.scalars(select(Operator).where(Operator.institution_id == inst.id))
                 if any(r.name == INSTITUTION_ADMIN for r in u.roles)), None)


@api_client.command("create")
@click.argument("institution")
@click.option("--name", default="贷款系统")
@with_appcontext
def create_client(institution, name):
    from . import clients
    inst = _institution(institution)
    admin = _admin(inst)
    client, secret = clients.create_client(inst.id, name, admin.id if admin else None)
    click.echo(f"client_id={client.client_id}\nclient_secret={secret}")


@api_webhook.command("create")
@click.argument("institution")
@click.argument("url")
@with_appcontext
def create_webhook(institution, url):
    from . import clients, webhooks
    inst = _institution(institution)
    admin = _admin(inst)
    if admin is None:
        raise click.ClickException("the institution has no administrator to register the endpoint")
    endpoint, secret = clients.create_endpoint(inst.id, url, list(webhooks.EVENTS), admin.id)
    click.echo(f"endpoint_id={endpoint.id}\nwebhook_secret={secret}")


@click.command("webhooks-retry")
@with_appcontext
def webhooks_retry():
    from . import webhooks
    due = webhooks.due()
    if due:
        webhooks.enqueue(due)
    click.echo(f"{len(due)} delivery(ies) queued")


def register(app):
    app.cli.add_command(api_client)
    app.cli.add_command(api_webhook)
    app.cli.add_command(webhooks_retry)
