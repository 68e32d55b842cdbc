"""Domain validators (checksums and number formats from domain.md).

Each validator takes a string and returns the normalised value or raises ValidationFailed with a
translatable message. Rules files refer to them by name through REGISTRY.
"""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l


class ValidationFailed(ValueError):
    """A value broke a domain rule; str() is the user-facing message."""


# GB 11643 居民身份证号
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_card(value: str) -> str:
    v = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        raise ValidationFailed(_l("ID card number must be 17 digits followed by a digit or X"))
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise ValidationFailed(_l("ID card number contains an invalid birth date")) from None
    if id_card_check_char(v[:17]) != v[17]:
        raise ValidationFailed(_l("ID card number check digit is wrong"))
    return v


# GB 32100 统一社会信用代码
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc(value: str) -> str:
    v = (value or "").strip().upper()
    if len(v) != 18 or any(c not in USCC_ALPHABET for c in v):
        raise ValidationFailed(
            _l("Unified social credit code must be 18 characters from digits and letters except I, O, S, V, Z")
        )
    if not v[2:8].isdigit():
        raise ValidationFailed(_l("Unified social credit code characters 3-8 must be a division code"))
    if uscc_check_char(v[:17]) != v[17]:
        raise ValidationFailed(_l("Unified social credit code check character is wrong"))
    return v


def id_or_uscc(value: str) -> str:
    for check in (id_card, uscc):
        try:
            return check(value)
        except ValidationFailed:
            pass
    raise ValidationFailed(_l("Not a valid ID card number or unified social credit code"))


# GB/T 37346 不动产单元代码
_UNIT_CODE = re.compile(r"(\d{6})(\d{3})(\d{3})([GJZ])([ABSXCDEFHGWY])(\d{5})([FLQW])([0-9A-Z]{8})")


def unit_code(value: str) -> str:
    v = (value or "").strip().upper()
    if len(v) != 28:
        raise ValidationFailed(_l("Unit code must be exactly 28 characters"))
    m = _UNIT_CODE.fullmatch(v)
    if not m:
        raise ValidationFailed(
            _l("Unit code structure is invalid: division(6) district(3) sub-district(3) ownership(G/J/Z) parcel kind, parcel number(5), fixture kind(F/L/Q/W), fixture number(8)")
        )
    if m.group(7) == "W" and m.group(8) != "00000000":
        raise ValidationFailed(_l("Unit code without fixture must end in W00000000"))
    if m.group(7) == "F" and not m.group(8).isdigit():
        raise ValidationFailed(_l("Unit code building and room numbers must be digits"))
    return v


# 不动产权证号 / 不动产证明号, e.g. 湘(2024)长沙市不动产权第0012345号
_CERT = re.compile(r"([\u4e00-\u9fa5])\((\d{4})\)([\u4e00-\u9fa5]{1,12}?)(不动产权|不动产证明)第(\d{1,12})号")


def _normalise_cert(value: str) -> str:
    v = (value or "").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", v)


def parse_certificate_number(value: str, kinds=("不动产权", "不动产证明"), width: int = 7) -> str:
    m = _CERT.fullmatch(_normalise_cert(value))
    if not m or m.group(4) not in kinds:
        raise ValidationFailed(_l("Number must look like 湘(2024)长沙市不动产权第0012345号"))
    province, year, place, kind, seq = m.groups()
    if not 1990 <= int(year) <= date.today().year + 1:
        raise ValidationFailed(_l("Year in the certificate number is out of range"))
    return f"{province}({year}){place}{kind}第{int(seq):0{width}d}号"


def certificate_number(value: str) -> str:
    return parse_certificate_number(value, kinds=("不动产权",))


def proof_number(value: str) -> str:
    return parse_certificate_number(value, kinds=("不动产证明",))


def survey_number(value: str) -> str:
    v = (value or "").strip()
    if not re.fullmatch(r"\d{12}|\d{14}", v):
        raise ValidationFailed(_l("Survey number must be 12 or 14 digits"))
    return v


def mobile(value: str) -> str:
    v = re.sub(r"[\s-]", "", value or "")
    if v.startswith("+86"):
        v = v[3:]
    if not re.fullmatch(r"1[3-9]\d{9}", v):
        raise ValidationFailed(_l("Mobile number must be 11 digits starting with 13-19"))
    return v


def money(value) -> Decimal:
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_l("Amount must be a number")) from None
    if not d.is_finite() or d <= 0:
        raise ValidationFailed(_l("Amount must be greater than zero"))
    if d.as_tuple().exponent < -2:
        raise ValidationFailed(_l("Amount may have at most two decimals"))
    if d >= Decimal("1e14"):
        raise ValidationFailed(_l("Amount is too large"))
    return d.quantize(Decimal("0.01"))


def date_range(start: date, end: date) -> tuple:
    if start and end and end <= start:
        raise ValidationFailed(_l("End date must be after start date"))
    return start, end


REGISTRY = {
    "id_card": id_card,
    "uscc": uscc,
    "id_or_uscc": id_or_uscc,
    "unit_code": unit_code,
    "certificate_number": certificate_number,
    "proof_number": proof_number,
    "survey_number": survey_number,
    "mobile": mobile,
    "money": money,
}


def wtforms(name: str):
    """Adapt a named validator to a WTForms field validator (used by the CRUD views)."""
    from wtforms.validators import ValidationError

    func = REGISTRY[name]

    def check(form, field):
        if field.data in (None, ""):
            return
        try:
            field.data = func(field.data)
        except ValidationFailed as exc:
            raise ValidationError(str(exc)) from None

    return check


# Register-state checks: a unit's flags and records as the register holds them. Rules name them
# through app/rulebook/checks.py; each raises ValidationFailed with the reason shown to the user.
def unit_not_sealed(unit):
    if unit.sealed:
        raise ValidationFailed(_l("The unit is sealed (查封) and cannot take this business"))


def unit_not_objected(unit):
    if unit.objected:
        raise ValidationFailed(_l("An objection (异议) is registered on the unit"))


def unit_not_mortgaged(unit):
    if unit.mortgaged or any(m.status == "current" for m in unit.mortgages):
        raise ValidationFailed(_l("The unit is already mortgaged"))


def unit_has_pre_notice(unit, kinds):
    if not any(p.status == "current" and p.kind in kinds for p in unit.pre_notices):
        raise ValidationFailed(_l("No current pre-notice registration of the required kind on the unit"))


def unit_has_no_pre_notice(unit, kinds):
    if any(p.status == "current" and p.kind in kinds for p in unit.pre_notices):
        raise ValidationFailed(_l("A pre-notice registration of this kind is already on the unit"))


def obligee_on_record(id_number, parties):
    """The person or organisation named in the lookup must be on the record (holder, mortgagee...)."""
    wanted = (id_number or "").strip().upper()
    if not any((p.id_number or "").upper() == wanted for p in parties):
        raise ValidationFailed(_l("The ID number given is not a right holder on this record"))


REGISTRY["id_number"] = id_or_uscc
