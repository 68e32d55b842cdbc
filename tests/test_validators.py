"""Named validators with real good and bad vectors (GB 11643, GB 32100, GB/T 37346, number formats)."""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from app import validators as v
from app.validators import ValidationFailed


@pytest.mark.parametrize("good", ["11010519491231002X", "11010519491231002x", " 11010519491231002X "])
def test_id_card_accepts_checksummed_numbers(good):
    assert v.id_card(good) == "11010519491231002X"


@pytest.mark.parametrize("bad, message", [
    ("110105194912310021", "check digit"),          # one digit off: the checksum catches it
    ("11010519491331002X", "birth date"),           # month 13
    ("1101051949123100", "17 digits"),              # too short
    ("11010519491231002Y", "17 digits"),            # Y is not a check character
])
def test_id_card_refuses(app, bad, message):
    with app.app_context(), pytest.raises(ValidationFailed) as exc:
        v.id_card(bad)
    assert message in str(exc.value)


@pytest.mark.parametrize("good", ["91350100M000100Y43", "91110000600037341L", "91350100m000100y43"])
def test_uscc_accepts_real_codes(good):
    assert v.uscc(good) == good.upper()


@pytest.mark.parametrize("bad", ["91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43", "91AB0100M000100Y43"])
def test_uscc_refuses(app, bad):
    with app.app_context(), pytest.raises(ValidationFailed):
        v.uscc(bad)


def test_id_or_uscc_takes_either(app):
    assert v.id_or_uscc("11010519491231002X") and v.id_or_uscc("91350100M000100Y43")
    with app.app_context(), pytest.raises(ValidationFailed):
        v.id_or_uscc("123")


@pytest.mark.parametrize("good", ["340104483027GB00011F00110000", "320684100302JA00001W00000000"])
def test_unit_code_accepts_the_standard_examples(good):
    assert v.unit_code(good) == good


@pytest.mark.parametrize("bad", [
    "340104483027GB00011F0011000",     # 27 characters
    "340104483027GB00011W00110000",    # no fixture (W) but a fixture number
    "340104483027IB00011F00110000",    # ownership must be G, J or Z
    "340104483027GB00011F0011A000",    # house numbers are digits
])
def test_unit_code_refuses(app, bad):
    with app.app_context(), pytest.raises(ValidationFailed):
        v.unit_code(bad)


def test_certificate_numbers_are_normalised_to_one_form():
    assert v.certificate_number("湘(2024)长沙市不动产权第0012345号") == "湘(2024)长沙市不动产权第0012345号"
    assert v.certificate_number("粤（2019）东莞不动产权第0000906号") == "粤(2019)东莞不动产权第0000906号"
    assert v.proof_number("苏(2019)宁秦不动产证明第 0007430 号") == "苏(2019)宁秦不动产证明第0007430号"
    assert v.proof_number("桂(2020)北海市不动产证明第0001234号") == "桂(2020)北海市不动产证明第0001234号"


@pytest.mark.parametrize("func, bad", [
    (v.certificate_number, "桂(2020)北海市不动产证明第0001234号"),   # a proof is not a certificate
    (v.proof_number, "湘(2024)长沙市不动产权第0012345号"),
    (v.certificate_number, "湘2024长沙市不动产权第0012345号"),         # no year brackets
    (v.certificate_number, "湘(1889)长沙市不动产权第0012345号"),       # year out of range
])
def test_certificate_and_proof_numbers_refuse(app, func, bad):
    with app.app_context(), pytest.raises(ValidationFailed):
        func(bad)


def test_survey_numbers_have_12_or_14_digits(app):
    assert v.survey_number("201701010001") == "201701010001"
    assert v.survey_number("26201701010001") == "26201701010001"
    for bad in ("2017010100011", "20170101000A"):
        with app.app_context(), pytest.raises(ValidationFailed):
            v.survey_number(bad)


def test_mobile_numbers(app):
    assert v.mobile("+86 138-1234-5678") == "13812345678"
    for bad in ("12812345678", "1381234567", "abc"):
        with app.app_context(), pytest.raises(ValidationFailed):
            v.mobile(bad)


def test_money_is_positive_with_two_decimals(app):
    assert v.money("12345.67") == Decimal("12345.67")
    assert v.money("1,234.5") == Decimal("1234.50")
    for bad, message in (("0", "greater than zero"), ("-5", "greater than zero"), ("1.234", "two decimals"),
                         ("abc", "number"), ("NaN", "greater than zero")):
        with app.app_context(), pytest.raises(ValidationFailed) as exc:
            v.money(bad)
        assert message in str(exc.value)


def test_date_range_needs_the_end_after_the_start(app):
    assert v.date_range(dt.date(2026, 1, 1), dt.date(2046, 1, 1))
    with app.app_context(), pytest.raises(ValidationFailed):
        v.date_range(dt.date(2026, 1, 1), dt.date(2026, 1, 1))


def test_register_state_checks(app):
    free = NS(sealed=False, objected=False, mortgaged=False, mortgages=[], pre_notices=[])
    v.unit_not_sealed(free), v.unit_not_objected(free), v.unit_not_mortgaged(free)
    with app.app_context():
        with pytest.raises(ValidationFailed):
            v.unit_not_sealed(NS(sealed=True))
        with pytest.raises(ValidationFailed):
            v.unit_not_objected(NS(objected=True))
        with pytest.raises(ValidationFailed):
            v.unit_not_mortgaged(NS(mortgaged=False, mortgages=[NS(status="current")]))
        presale = NS(pre_notices=[NS(status="current", kind="1"), NS(status="cancelled", kind="3")])
        v.unit_has_pre_notice(presale, ("1", "2"))
        with pytest.raises(ValidationFailed):
            v.unit_has_pre_notice(presale, ("3", "4"))
        with pytest.raises(ValidationFailed):
            v.unit_has_no_pre_notice(presale, ("1", "2"))
        v.obligee_on_record("11010519491231002x", [NS(id_number="11010519491231002X")])
        with pytest.raises(ValidationFailed):
            v.obligee_on_record("91350100M000100Y43", [NS(id_number="11010519491231002X")])


def test_every_named_validator_in_the_registry_is_callable_on_text():
    for name, func in v.REGISTRY.items():
        with pytest.raises((ValidationFailed, ValueError)):
            func("")
