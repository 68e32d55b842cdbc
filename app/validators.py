"""Domain validators (checksums and number formats from domain.md).

Each validator takes a string and returns the normalised value or raises ValidationFailed with a
translatable message. Rules files refer to them by name through REGISTRY. Every ID type of the code list
(rules/vocabularies.yaml id_types) has its rule in ID_NUMBER_RULES; party_id checks a party's type and number.
"""
import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import lazy_gettext as _l
from stdnum.iso7064 import mod_11_10

from models.property import BUILDING_FLOORS_MAX, FLOOR_MAX, FLOOR_MIN, PARCEL_AREA_MAX, UNIT_AREA_MAX


class ValidationFailed(ValueError):
    """A value broke a domain rule; str() is the user-facing message."""


# GB 11643 居民身份证号
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
DATA = Path(__file__).resolve().parent / "data"
# The divisions of 港澳台居民居住证 (GB 11643 numbers issued since 2018): never a mainland ID card.
RESIDENCE_PERMIT_REGIONS = ("810000", "820000", "830000")


@functools.cache
def region_codes() -> dict:
    """GB/T 2260 division code -> place, every code ever assigned (an ID number keeps the code it was issued under)."""
    out = {}
    for line in (DATA / "gbt2260.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, place = line.partition(" ")
            out[code] = place
    return out


def id_card_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def _gb11643(value: str) -> str:
    """The 18-digit number shared by the ID card and the residence permit: format, check digit, birth date."""
    v = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        raise ValidationFailed(_l("ID card number must be 17 digits followed by a digit or X"))
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise ValidationFailed(_l("ID card number contains an invalid birth date")) from None
    if id_card_check_char(v[:17]) != v[17]:
        raise ValidationFailed(_l("ID card number check digit is wrong"))
    if born > date.today():
        raise ValidationFailed(_l("The birth date in the ID card number is in the future"))
    if born.year < 1900:
        raise ValidationFailed(_l("The birth date in the ID card number is before 1900"))
    return v


def id_card(value: str) -> str:
    v = _gb11643(value)
    if v[:6] in RESIDENCE_PERMIT_REGIONS:
        raise ValidationFailed(_l("This is the number of a residence permit for Hong Kong, Macao and Taiwan residents, not of an ID card"))
    if v[:6] not in region_codes():
        raise ValidationFailed(_l("The first six digits of the ID card number are not a known division code (GB/T 2260)"))
    return v


def residence_permit(value: str) -> str:
    """港澳台居民居住证: a GB 11643 number whose division is 810000 (HK), 820000 (Macao) or 830000 (Taiwan)."""
    v = _gb11643(value)
    if v[:6] not in RESIDENCE_PERMIT_REGIONS:
        raise ValidationFailed(_l("A residence permit number starts with 810000, 820000 or 830000"))
    return v


def hk_macao_permit(value: str) -> str:
    """港澳居民来往内地通行证 (回乡证): H (Hong Kong) or M (Macao) and 8 digits; cards before 2013 had 10."""
    v = re.sub(r"\s", "", value or "").upper()
    if not re.fullmatch(r"[HM](\d{8}|\d{10})", v):
        raise ValidationFailed(_l("A travel permit for Hong Kong and Macao residents is H or M followed by 8 digits"))
    return v


def taiwan_permit(value: str) -> str:
    """台湾居民来往大陆通行证 (台胞证): 8 digits since 2015; older booklets have 10."""
    v = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{8}|\d{10}", v):
        raise ValidationFailed(_l("A travel permit for Taiwan residents is 8 digits (10 on older permits)"))
    return v


# 港澳台身份证: Hong Kong (check character), Macao (no public check) and Taiwan (check digit) identity cards.
_TW_LETTERS = "ABCDEFGHJKLMNPQRSTUVXYWZIO"   # A=10, B=11 ... in this order


def _hk_id_ok(letters: str, digits: str, check: str) -> bool:
    values = [36 if c == " " else ord(c) - 55 for c in letters.rjust(2)] + [int(d) for d in digits]
    remainder = sum(v * w for v, w in zip(values, range(9, 1, -1))) % 11
    return "0123456789A"[(11 - remainder) % 11] == check


def _tw_id_ok(v: str) -> bool:
    n = _TW_LETTERS.index(v[0]) + 10
    total = n // 10 + n % 10 * 9 + sum(int(d) * w for d, w in zip(v[1:9], range(8, 0, -1))) + int(v[9])
    return total % 10 == 0


def hk_macao_taiwan_id(value: str) -> str:
    v = re.sub(r"[\s()（）]", "", value or "").upper()
    hk = re.fullmatch(r"([A-Z]{1,2})(\d{6})([0-9A])", v)
    if hk:
        if not _hk_id_ok(hk.group(1), hk.group(2), hk.group(3)):
            raise ValidationFailed(_l("Hong Kong identity card number check character is wrong"))
        return f"{hk.group(1)}{hk.group(2)}({hk.group(3)})"
    if re.fullmatch(r"[157]\d{7}", v):    # Macao: 1/5/7, 6 digits, a check digit in brackets
        return f"{v[:7]}({v[7]})"
    if re.fullmatch(r"[A-Z][12]\d{8}", v):
        if not _tw_id_ok(v):
            raise ValidationFailed(_l("Taiwan identity card number check digit is wrong"))
        return v
    raise ValidationFailed(_l("Not a Hong Kong, Macao or Taiwan identity card number"))


@functools.cache
def passport_issuers() -> frozenset:
    """ISO 3166-1 alpha-3 (ICAO Doc 9303) codes of the states and bodies that issue passports."""
    return frozenset(code for line in (DATA / "passport_issuers.txt").read_text(encoding="utf-8").splitlines()
                     if not line.startswith("#") for code in line.split())


# A Chinese ordinary passport: E + 8 digits, or E + a letter (not I or O) + 7 digits; G + 8 digits before 2012;
# diplomatic, service and public-affairs passports: D, S, P (+ E) and 7 digits.
_CHN_PASSPORT = re.compile(r"[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[DSP]E?\d{7}")


def passport(value: str) -> str:
    """护照: the issuing state's three-letter code (as in the passport's machine-readable zone) and the
    number, e.g. USA 531234567; a Chinese passport number alone is taken as CHN. Stored as 'USA 531234567'."""
    v = re.sub(r"[\s:：\-]", "", value or "").upper()
    if _CHN_PASSPORT.fullmatch(v):
        v = "CHN" + v
    m = re.fullmatch(r"([A-Z]{3})([A-Z0-9]{5,9})", v)
    if not m:
        raise ValidationFailed(_l("Write the passport as the issuing country's three-letter code and the number, e.g. USA 531234567"))
    issuer, number = m.groups()
    if issuer not in passport_issuers():
        raise ValidationFailed(_l("%(code)s is not a known passport issuing country code (ISO 3166-1, e.g. USA, GBR, JPN)", code=issuer))
    if not re.search(r"\d", number):
        raise ValidationFailed(_l("A passport number contains digits"))
    if issuer == "CHN" and not _CHN_PASSPORT.fullmatch(number):
        raise ValidationFailed(_l("A Chinese passport number is E and 8 characters (e.g. E12345678 or EA1234567)"))
    return f"{issuer} {number}"


def military_id(value: str) -> str:
    """军官证（士兵证）: written as printed (e.g. 南字第2016123号); at least 6 digits."""
    v = re.sub(r"\s", "", value or "")
    if not (4 <= len(v) <= 30 and len(re.findall(r"\d", v)) >= 6):
        raise ValidationFailed(_l("A military ID number is written as printed and holds at least 6 digits"))
    return v


def other_id(value: str) -> str:
    v = (value or "").strip()
    if not 2 <= len(v) <= 40:
        raise ValidationFailed(_l("The ID number must be 2 to 40 characters"))
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


# GB 11714 组织机构代码: 8 digits or capitals, a hyphen, a check character (0-9 or X).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(value: str) -> str:
    v = re.sub(r"[\s\-]", "", value or "").upper()
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", v):
        raise ValidationFailed(_l("An organisation code is 8 digits or capital letters and a check character, e.g. D2143569-X"))
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(v, _ORG_WEIGHTS)) % 11
    if v[8] != {10: "X", 11: "0"}.get(c, str(c)):
        raise ValidationFailed(_l("Organisation code check character is wrong"))
    return f"{v[:8]}-{v[8]}"


def business_licence(value: str) -> str:
    """营业执照注册号 (before the USCC): 15 digits, the last an ISO 7064 MOD 11,10 check digit."""
    v = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{15}", v):
        raise ValidationFailed(_l("A business licence registration number is 15 digits"))
    if not mod_11_10.is_valid(v):
        raise ValidationFailed(_l("Business licence registration number check digit is wrong"))
    return v


# 证件种类 (rules/vocabularies.yaml id_types holds the codes and names; this holds each code's rule).
ID_NUMBER_RULES = {"1": id_card, "2": hk_macao_taiwan_id, "3": passport, "4": id_card, "5": military_id,
                   "6": organisation_code, "7": business_licence, "8": uscc, "10": hk_macao_permit,
                   "11": taiwan_permit, "12": residence_permit, "99": other_id}
USCC_ID_TYPE = "8"
PERSON_ID_TYPES = ("1", "2", "3", "4", "5", "10", "11", "12", "99")
ORGANISATION_ID_TYPES = ("6", "7", "8", "99")


def normalized_id(value: str) -> str:
    """The form two spellings of one number share (case, spaces, hyphens, brackets): one number, one party."""
    return re.sub(r"[\s\-()（）:：]", "", value or "").upper()


def id_number_of_type(id_type: str, value: str) -> str:
    """The number checked by the rule of its declared type; the normalised number."""
    rule = ID_NUMBER_RULES.get(str(id_type or ""))
    if rule is None:
        raise ValidationFailed(_l("Choose an ID type"))
    return rule(value)


# The types whose rule identifies a number (a check digit or a strict format), most specific first; the
# 户口簿 (an ID card number), 军官证 and 其它 (loose formats) never tell what a number is.
_TELLING_TYPES = ("1", "12", "8", "6", "7", "10", "11", "2", "3")


def type_matching(value: str):
    """The ID type (code) whose rule the number passes; None if none does."""
    for code in _TELLING_TYPES:
        try:
            ID_NUMBER_RULES[code](value)
            return code
        except ValidationFailed:
            pass
    return None


def party_id(kind: str, id_type: str, value: str, allowed=None, label=str) -> str:
    """A party's ID: the type is one the role accepts (by default the person's or organisation's types),
    and the number passes that type's rule. label(code) names a type in messages. The normalised number."""
    allowed = tuple(allowed or (ORGANISATION_ID_TYPES if kind == "organisation" else PERSON_ID_TYPES))
    id_type = str(id_type or "")
    if id_type not in allowed:
        raise ValidationFailed(_l("%(type)s is not accepted here; choose one of: %(allowed)s",
                                  type=label(id_type) if id_type else "-", allowed="、".join(label(c) for c in allowed)))
    try:
        return id_number_of_type(id_type, value)
    except ValidationFailed as exc:
        other = type_matching(value)
        if other and other != id_type:
            raise ValidationFailed(_l("The number is a %(other)s number, not a %(type)s: choose the right ID type",
                                      other=label(other), type=label(id_type))) from None
        raise exc from None


def id_number(value: str) -> str:
    """An ID number of any type whose rule tells it (a holder's number typed in a lookup, where no type is
    asked), normalised as that type writes it: a passport holder finds their property like anyone."""
    code = type_matching(value)
    if code is None:
        raise ValidationFailed(_l("Not a valid ID number of any accepted type"))
    return ID_NUMBER_RULES[code](value)


# The rules files' name for a looked-up holder's number, from when only ID cards and credit codes were known.
id_or_uscc = id_number


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


# What a wrong number is told to look like: an example of the kind asked for.
_CERT_EXAMPLES = {("不动产权",): _l("Number must look like 湘(2024)长沙市不动产权第0012345号"),
                  ("不动产证明",): _l("Number must look like 桂(2020)北海市不动产证明第0001234号")}


def parse_certificate_number(value: str, kinds=("不动产权", "不动产证明"), width: int = 7) -> str:
    m = _CERT.fullmatch(_normalise_cert(value))
    if not m or m.group(4) not in kinds:
        raise ValidationFailed(_CERT_EXAMPLES.get(tuple(kinds), _CERT_EXAMPLES[("不动产权",)]))
    province, year, place, kind, seq = m.groups()
    if not 1990 <= int(year) <= date.today().year + 1:
        raise ValidationFailed(_l("Year in the certificate number is out of range"))
    if int(seq) == 0:
        raise ValidationFailed(_l("Certificate and proof sequence numbers start at 0000001"))
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


# Sane ranges of the register; the same bounds are CHECK constraints (models/property.py).
def _number(value, kind):
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_l("Must be a number")) from None
    if not d.is_finite():
        raise ValidationFailed(_l("Must be a number"))
    return kind(d) if kind is int and d == d.to_integral_value() else d


def _area_message(limit):
    return _l("Area must be greater than 0 and less than %(max)s m²", max=f"{limit:,}")


UNIT_AREA_MESSAGE = _area_message(UNIT_AREA_MAX)
PARCEL_AREA_MESSAGE = _area_message(PARCEL_AREA_MAX)
FLOOR_MESSAGE = _l("Floor must be a whole number from %(min)s to %(max)s", min=FLOOR_MIN, max=FLOOR_MAX)
FLOORS_MESSAGE = _l("Number of floors must be a whole number from 1 to %(max)s", max=BUILDING_FLOORS_MAX)


def unit_area(value) -> Decimal:
    d = _number(value, Decimal)
    if not 0 < d < UNIT_AREA_MAX:
        raise ValidationFailed(UNIT_AREA_MESSAGE)
    return d


def parcel_area(value) -> Decimal:
    d = _number(value, Decimal)
    if not 0 < d < PARCEL_AREA_MAX:
        raise ValidationFailed(PARCEL_AREA_MESSAGE)
    return d


def unit_floor(value) -> int:
    d = _number(value, int)
    if not isinstance(d, int) or not FLOOR_MIN <= d <= FLOOR_MAX:
        raise ValidationFailed(FLOOR_MESSAGE)
    return d


def building_floors(value) -> int:
    d = _number(value, int)
    if not isinstance(d, int) or not 1 <= d <= BUILDING_FLOORS_MAX:
        raise ValidationFailed(FLOORS_MESSAGE)
    return d


def date_value(value) -> date:
    """A date written YYYY-MM-DD (or with slashes); a well-written day the calendar lacks (02-30) is named so."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("/", "-")[:10]
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not m:
        raise ValidationFailed(_l("Date must be written as YYYY-MM-DD"))
    try:
        return date(*map(int, m.groups()))
    except ValueError:
        raise ValidationFailed(_l("This date does not exist")) from None


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


REGISTRY.update(unit_area=unit_area, parcel_area=parcel_area, unit_floor=unit_floor, building_floors=building_floors)
REGISTRY.update(id_number=id_number, passport=passport, residence_permit=residence_permit,
                organisation_code=organisation_code, business_licence=business_licence)
