"""Helpers of the API tests: a client of a demo institution, tokens, headers, a free owned unit."""
import itertools
import uuid

from sqlalchemy import select

from models import CaseUnit, Right, Unit
from tests import factories

_keys = itertools.count(1)


def new_client(app, institution_key, name="贷款系统"):
    """(client_id, secret) of a new API client of the institution, created as the console does."""
    from app.api import clients
    from app.extensions import db
    with app.app_context():
        inst = factories.institution(db, institution_key)
        admin = factories.user(db, f"{institution_key}_admin")
        client, secret = clients.create_client(inst.id, name, admin.id)
        return client.client_id, secret


def token(http, client_id, secret):
    r = http.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                              "client_secret": secret})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["access_token"]


def bearer(tok, **more):
    return {"Authorization": f"Bearer {tok}", **more}


def posting(tok, key=None, **more):
    return bearer(tok, **{"Idempotency-Key": key or f"k-{uuid.uuid4()}", **more})


def free_owned_unit(app):
    """An owned unit without mortgage, seal, objection or case, held by one person: (unit id, keys)."""
    from app.extensions import db
    with app.app_context():
        for right in db.session.scalars(select(Right).join(Unit).where(
                Right.status == "current", Unit.mortgaged.is_(False), Unit.sealed.is_(False),
                Unit.objected.is_(False), Unit.id.not_in(select(CaseUnit.unit_id))).order_by(Right.id.desc())):
            if len(right.holders) == 1:
                return right.unit.id, {"certificate_number": right.certificate_number,
                                       "holder_id_number": right.holders[0].party.id_number}
    raise AssertionError("no free unit left in the demo data")
