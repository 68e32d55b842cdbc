"""Constraints live in the database, not only in forms: bad rows are refused by the engine itself."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Case, Institution, Mortgage, Party, Unit
from tests import factories


def _mortgage(unit, **overrides):
    values = dict(unit_id=unit.id, mortgagee_name="测试银行", kind="1", secured_amount=Decimal("100.00"),
                  term_start=dt.date(2025, 1, 1), term_end=dt.date(2030, 1, 1), rank=5,
                  proof_number=f"湘(2025)长沙市不动产证明第{abs(hash(str(overrides))) % 10**7:07d}号")
    values.update(overrides)
    return Mortgage(**values)


def _refused(db, row):
    db.session.add(row)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.fixture
def unit(db):
    return db.session.scalar(select(Unit).where(Unit.mortgaged.is_(False), Unit.pre_noticed.is_(False)).limit(1))


def test_mortgage_term_must_end_after_it_starts(db, unit):
    _refused(db, _mortgage(unit, term_end=dt.date(2024, 1, 1)))


def test_mortgage_amounts_cannot_be_negative(db, unit):
    _refused(db, _mortgage(unit, secured_amount=Decimal("-1.00")))


def test_two_current_mortgages_on_a_unit_cannot_share_a_rank(db, unit):
    db.session.add(_mortgage(unit, rank=3, proof_number="湘(2025)长沙市不动产证明第8800001号"))
    db.session.flush()
    _refused(db, _mortgage(unit, rank=3, proof_number="湘(2025)长沙市不动产证明第8800002号"))


def test_a_cancelled_mortgage_frees_its_rank(db, unit):
    db.session.add(_mortgage(unit, rank=4, status="cancelled", proof_number="湘(2025)长沙市不动产证明第8800003号"))
    db.session.add(_mortgage(unit, rank=4, proof_number="湘(2025)长沙市不动产证明第8800004号"))
    db.session.flush()
    assert db.session.scalar(select(Mortgage).where(Mortgage.proof_number.like("%8800004%"))).rank == 4
    db.session.rollback()


def test_proof_numbers_are_unique(db, unit):
    existing = db.session.scalar(select(Mortgage).limit(1))
    _refused(db, _mortgage(unit, proof_number=existing.proof_number))


def test_unit_codes_are_unique_and_28_characters(db, unit):
    _refused(db, Unit(building_id=unit.building_id, unit_code=unit.unit_code, location="x", room="X1", floor=1,
                      area=Decimal("1"), use="residential"))
    _refused(db, Unit(building_id=unit.building_id, unit_code="430104", location="x", room="X2", floor=1,
                      area=Decimal("1"), use="residential"))


def test_unit_area_cannot_be_negative(db, unit):
    _refused(db, Unit(building_id=unit.building_id, unit_code="430104001001GB00009F00090001", location="x",
                      room="X3", floor=1, area=Decimal("-5"), use="residential"))


def test_institution_credit_code_is_unique(db):
    bank = factories.institution(db, "bank_a")
    _refused(db, Institution(name="另一家银行", kind="bank", uscc=bank.uscc, legal_person="某人"))


def test_party_identity_is_unique(db):
    party = db.session.scalar(select(Party).limit(1))
    _refused(db, Party(kind="person", name="重复", id_type=party.id_type, id_number=party.id_number))


def test_case_rows_need_an_existing_institution(db):
    op = factories.user(db, "bank_a_op")
    _refused(db, Case(number="NOFK0001", business_key="x", institution_id=987654, applicant_id=op.id, node="draft",
                      form_data={}))


def test_stale_case_edit_fails_instead_of_overwriting(app, db):
    """Optimistic locking: two sessions load version 1; the second writer gets StaleDataError."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError
    case = factories.case(db, "bank_a_op")
    with Session(db.engine) as first, Session(db.engine) as second:
        a, b = first.get(Case, case.id), second.get(Case, case.id)
        a.form_data = {"by": "first"}
        first.commit()
        b.form_data = {"by": "second"}
        with pytest.raises(StaleDataError):
            second.commit()
    db.session.expire_all()
    assert db.session.get(Case, case.id).form_data == {"by": "first"}
