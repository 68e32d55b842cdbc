"""The demo data is valid by the standards it claims and seeding twice duplicates nothing."""
from sqlalchemy import func, select

from app import demo, validators
from models import Institution, Mortgage, Operator, Party, PreNotice, Right, Unit


def _counts(db):
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Institution, Operator, Unit, Right, Mortgage, PreNotice, Party)}


def test_seeding_twice_changes_nothing(db):
    before = _counts(db)
    demo.seed()
    assert _counts(db) == before


def test_demo_register_is_large_enough_and_every_identifier_is_valid(db):
    units = db.session.scalars(select(Unit)).all()
    assert len(units) >= 300
    for unit in units:
        assert validators.unit_code(unit.unit_code) == unit.unit_code
    for inst in db.session.scalars(select(Institution)):
        if inst.name in {i["name"] for i in demo.INSTITUTIONS}:
            assert validators.uscc(inst.uscc) == inst.uscc
    for party in db.session.scalars(select(Party).where(Party.id_type == "1")):
        assert validators.id_card(party.id_number) == party.id_number
    for right in db.session.scalars(select(Right)):
        assert validators.certificate_number(right.certificate_number) == right.certificate_number
    for mortgage in db.session.scalars(select(Mortgage)):
        assert validators.proof_number(mortgage.proof_number) == mortgage.proof_number


def test_demo_has_three_institutions_and_an_account_for_every_role(db):
    from app import roles
    names = {r.name for u in db.session.scalars(select(Operator)) for r in u.roles}
    assert {roles.ADMIN, roles.REVIEWER, roles.INSTITUTION_ADMIN, roles.OPERATOR, roles.CONFIGURATOR,
            roles.PUBLIC} <= names
    kinds = sorted(i.kind for i in db.session.scalars(select(Institution).where(
        Institution.name.in_([i["name"] for i in demo.INSTITUTIONS]))))
    assert kinds == ["bank", "bank", "developer"]


def test_demo_passwords_are_stored_hashed(db):
    user = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    assert user.password != demo.DEMO_PASSWORD and len(user.password) > 40
