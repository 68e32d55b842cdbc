"""Tax check (完税核验) of transfer registrations: the adapter interface, the tax bureau's real adapter and the
local sandbox tax bureau.

A transfer is recorded (登簿) only once the buyer has paid the deed tax (契税) the tax bureau assessed
(Beihai manual: 一并缴费(税), 完税情况校验). The businesses that need it name the guard `tax_cleared`
on their recording transition in their rules file; no code names a business. The guard reads the local
TaxAssessment rows (problems()); only the adapter, from the bureau's signed word, marks them cleared.

Contract of a tax adapter (REGISTRY_TAX_ADAPTER chooses, app/services/outside.py):
- `assess(case) -> list[TaxAssessment]`: the assessment of every unit of a submitted case: the
  declared price (the per-unit field `price_field` of rules/tax/deed_tax.yaml), the rate, the deed tax
  and the buyers who owe it (party role `buyer_role`). Idempotent: asking again returns the same rows
  (a pending row follows a changed price; a cleared row whose price no longer matches is reassessed).
  Raises TaxError with a user-facing message when the case cannot be assessed (e.g. no price).
- `status(case) -> bool`: whether the tax of every unit of the case is cleared (paid) at its current price
  (the real adapter asks the bureau first).
- `bureau_url(case) -> str`: where the payer's browser goes to pay the tax.
- `notified(request) -> dict`: the fields of a bureau notification (POST /tax/notify) once proven to come from
  the bureau; `verify(fields) -> bool`: whether a bare dict of fields is proof by itself (the sandbox's forms).
`apply()` then clears the assessment named by the fields reference, amount, receipt_number, status
("cleared"): a repeat changes nothing, an amount that differs from the assessment or an unknown reference is
refused.

"http", HttpTax: the tax bureau's 税费联办 interface, signed JSON (scheme, freshness and nonce rules:
app/services/signing.py):
    declare   POST {REGISTRY_TAX_URL}/v1/deed-tax/declarations
              {"case_number", "business", "notify_url",
               "units": [{"unit_code", "location", "area", "price", "first_home"}],
               "buyers": [{"name", "id_number"}]}
              answer data {"pay_url": "https://...",
                           "assessments": [{"unit_code", "reference", "price", "rate", "amount", "status",
                                            "receipt_number"}]}
              The bureau assesses with its own rates; declaring the same case again returns its current
              assessments (a changed price gets a new reference). status is "pending" or "cleared".
    query     POST {REGISTRY_TAX_URL}/v1/deed-tax/status {"case_number"} -> data {"assessments": [... as above]}
              (完税核验: the registry asks before recording; cleared rows come with the bureau's receipt number).
    notify    the bureau POSTs to notify_url, signed, JSON {"reference", "amount", "receipt_number",
              "status": "cleared"} when a payment clears; refused (HTTP 400) unless fresh, never seen, for a known
              reference and the assessed amount; answered {"code": "OK"}.
"sandbox", SandboxTax (REGISTRY_SANDBOX=1 only): our own page (/tax/case/<case_id>, mounted only then): it
assesses the deed tax with the rates of rules/tax/deed_tax.yaml (configurable defaults, not a tax authority's
ruling), the payer confirms payment per assessment, and the page posts a form notification signed with
HMAC-SHA256 under REGISTRY_TAX_SECRET. The real adapter never accepts such a form.
"""
import hashlib
import hmac
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.rulebook.loader import load_tax_file
from app.rulebook.schema import TaxBand as Band, TaxTable as Rates  # noqa: F401  (tax.Band, tax.Rates)
from models import TaxAssessment
from models.base import utcnow

FIELDS = ("reference", "amount", "receipt_number", "status")
GUARD = "tax_cleared"
CENT = Decimal("0.01")


class TaxError(ValueError):
    """A refused tax action; str() is the user-facing message."""


# ---- rates (data: rules/tax/deed_tax.yaml, read and checked by the rules loader like every rules file;
# a case's own rules version pins the table it is judged by, see problems()) ----------------------------
@lru_cache(maxsize=4)
def _load(path: str) -> Rates:
    return load_tax_file(path)   # raises RulesError with file, line and key path


def rates() -> Rates:
    return _load(str(Path(current_app.config["RULES_DIR"]) / "tax" / "deed_tax.yaml"))


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def declared_price(price) -> Decimal:
    """The declared transaction price as a number; TaxError for a missing or bad one."""
    if price is None or (isinstance(price, str) and not price.strip()):
        raise TaxError(_l("The declared transaction price is missing"))
    try:
        price = Decimal(str(price).replace(",", "").strip())
    except InvalidOperation:
        raise TaxError(_l("The declared transaction price is not a number")) from None
    if not price.is_finite() or price <= 0:
        raise TaxError(_l("The declared transaction price must be greater than zero"))
    return price


def deed_tax(price, area, first_home, table: Rates = None):
    """(rate, amount) of the deed tax on a declared price; TaxError for a missing or bad price."""
    table = table or rates()
    price = declared_price(price)
    area = Decimal(str(area if area is not None else 0))
    for band in table.bands:
        if band.first_home is not None and band.first_home != bool(first_home):
            continue
        if band.max_area is not None and area > band.max_area:
            continue
        return band.rate, (price * band.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    raise TaxError(_l("No deed tax rate applies to this unit"))


# ---- which businesses ---------------------------------------------------------------------------
def applies(business) -> bool:
    """Whether the business's rules put the tax check on one of its transitions."""
    return any(GUARD in t.guards or any(GUARD in g for g in (t.target_guards or {}).values())
               for t in business.workflow.transitions)


class TaxAdapter(Protocol):
    """What a tax bureau adapter implements (the module docstring describes each method)."""

    def assess(self, case, table: Rates = None) -> list: ...

    def status(self, case) -> bool: ...

    def bureau_url(self, case) -> str: ...

    def notified(self, request) -> dict: ...

    def verify(self, fields: dict) -> bool: ...


def _signature(fields: dict) -> str:
    message = "|".join(str(fields.get(k, "")) for k in FIELDS).encode()
    return hmac.new(current_app.config["TAX_SECRET"].encode(), message, hashlib.sha256).hexdigest()


def _reference() -> str:
    return f"TAX{utcnow():%Y%m%d}{secrets.token_hex(5).upper()}"


class SandboxTax:
    """The local stand-in for the tax bureau (see the module docstring for the contract)."""

    def bureau_url(self, case):
        return url_for("PublicServiceSandboxTaxView.bureau", case_id=case.id)

    def assess(self, case, table: Rates = None):
        table = table or rates()  # the case's pinned table (Business.tax), passed by the caller
        buyers = [{"name": p.name, "id_number": p.id_number} for p in case.parties if p.role == table.buyer_role]
        existing = {a.unit_id: a for a in case.tax_assessments}
        computed, problems = [], []
        for cu in case.units:
            data = cu.data or {}
            try:
                rate, amount = deed_tax(data.get(table.price_field), cu.unit.area,
                                        _truthy(data.get(table.first_home_field)), table)
            except TaxError as exc:
                problems.append(f"{cu.unit.location}: {exc}")
                continue
            computed.append((cu, Decimal(str(data.get(table.price_field)).replace(",", "").strip()), rate, amount))
        if problems:
            raise TaxError("; ".join(problems))
        if not computed:
            raise TaxError(_l("The case has no unit"))
        out = []
        for cu, price, rate, amount in computed:
            a = existing.pop(cu.unit_id, None)
            if a is None:
                a = TaxAssessment(case_id=case.id, unit_id=cu.unit_id, institution_id=case.institution_id,
                                  reference=_reference(), status="pending")
                case.tax_assessments.append(a)
            elif a.status == "cleared" and a.price == price and a.amount == amount:
                out.append(a)
                continue
            elif a.status == "cleared":   # the declared price changed after payment: a new assessment
                a.reference, a.status, a.receipt_number, a.cleared_at = _reference(), "pending", None, None
            a.price, a.rate, a.amount, a.buyers = price, rate, amount, buyers
            out.append(a)
        for stale in existing.values():   # a unit no longer on the case
            if stale.status == "pending":
                case.tax_assessments.remove(stale)
                db.session.delete(stale)
        db.session.flush()
        return out

    def status(self, case) -> bool:
        return not problems(case)

    def sign(self, fields: dict) -> dict:
        return {**fields, "signature": _signature(fields)}

    def verify(self, fields: dict) -> bool:
        return hmac.compare_digest(_signature(fields), str(fields.get("signature", "")))

    def notified(self, request) -> dict:
        fields = request.form.to_dict()
        if not self.verify(fields):
            raise TaxError(_l("The tax notification signature is invalid"))
        return fields

    def notification(self, assessment):
        return self.sign({"reference": assessment.reference, "amount": str(assessment.amount),
                          "receipt_number": f"SW{secrets.token_hex(8).upper()}", "status": "cleared"})


class HttpTax:
    """The tax bureau's real interface (protocol in the module docstring)."""

    def __init__(self):
        self._pay_url = None

    def assess(self, case, table: Rates = None):
        table = table or rates()  # the case's pinned table (Business.tax), passed by the caller
        problems_, units = [], []
        for cu in case.units:
            data = cu.data or {}
            try:
                price = declared_price(data.get(table.price_field))
            except TaxError as exc:
                problems_.append(f"{cu.unit.location}: {exc}")
                continue
            units.append({"unit_code": cu.unit.unit_code, "location": cu.unit.location, "area": str(cu.unit.area),
                          "price": str(price), "first_home": _truthy(data.get(table.first_home_field))})
        if problems_:
            raise TaxError("; ".join(problems_))
        if not units:
            raise TaxError(_l("The case has no unit"))
        buyers = [{"name": p.name, "id_number": p.id_number} for p in case.parties if p.role == table.buyer_role]
        data = self._call("/v1/deed-tax/declarations", {
            "case_number": case.number, "business": case.business_key, "units": units, "buyers": buyers,
            "notify_url": current_app.config["TAX_NOTIFY_URL"] or url_for("PublicServiceTaxView.notify", _external=True)})
        self._pay_url = str(data.get("pay_url") or "")
        return _sync(case, data.get("assessments"), buyers)

    def status(self, case) -> bool:
        """完税核验: ask the bureau, record what it says, then judge as the guard does."""
        data = self._call("/v1/deed-tax/status", {"case_number": case.number})
        _sync(case, data.get("assessments"), None)
        return not problems(case)

    def bureau_url(self, case):
        if self._pay_url is None:
            self.assess(case)
        if urlsplit(self._pay_url).scheme not in ("https", "http"):
            raise TaxError(_l("The tax bureau gave no usable payment address"))
        return self._pay_url

    def verify(self, fields: dict) -> bool:
        return False  # a bare dict proves nothing: only a signed request from the bureau does (notified)

    def notified(self, request) -> dict:
        from app.services import signing
        try:
            return signing.receive("TAX", request)
        except signing.NotificationRefused as exc:
            raise TaxError(str(exc)) from None

    @staticmethod
    def _call(path, payload):
        from app.services import signing
        try:
            return signing.call("TAX", path, payload)
        except signing.ServiceError as exc:
            raise TaxError(str(exc)) from None


def _sync(case, answered, buyers):
    """Make the case's TaxAssessment rows what the bureau answered (its word prevails); buyers None: keep them."""
    if not isinstance(answered, list):
        raise TaxError(_l("The tax bureau gave an unreadable answer"))
    by_code = {cu.unit.unit_code: cu for cu in case.units}
    existing = {a.unit_id: a for a in case.tax_assessments}
    seen, out = set(), []
    for row in answered:
        cu = by_code.get(str((row or {}).get("unit_code")))
        try:
            price, rate, amount = (Decimal(str(row[k])) for k in ("price", "rate", "amount"))
            reference, status = str(row["reference"])[:40], row["status"]
        except (KeyError, TypeError, InvalidOperation):
            cu = None
        if cu is None or status not in ("pending", "cleared") or not reference or amount < 0 \
                or (status == "cleared" and not row.get("receipt_number")):
            raise TaxError(_l("The tax bureau gave an unreadable answer"))
        a = existing.get(cu.unit_id)
        if a is None:
            a = TaxAssessment(case_id=case.id, unit_id=cu.unit_id, institution_id=case.institution_id,
                              buyers=buyers or [])
            case.tax_assessments.append(a)
        a.reference, a.price, a.rate, a.amount = reference, price, rate, amount
        if buyers is not None:
            a.buyers = buyers
        if status == "cleared" and a.status != "cleared":
            a.status, a.receipt_number, a.cleared_at = "cleared", str(row["receipt_number"])[:80], utcnow()
        elif status == "pending":
            a.status, a.receipt_number, a.cleared_at = "pending", None, None
        seen.add(cu.unit_id)
        out.append(a)
    for unit_id, stale in existing.items():   # a unit the bureau no longer assesses
        if unit_id not in seen and stale.status == "pending":
            case.tax_assessments.remove(stale)
            db.session.delete(stale)
    db.session.flush()
    return out


def adapter() -> TaxAdapter:
    from app.services import outside
    return SandboxTax() if outside.selected("TAX") == "sandbox" else HttpTax()


def problems(case, table: Rates = None) -> list:
    """(unit, message) for every unit whose tax is not cleared at its current declared price. The guard
    passes the table of the case's rules version; other callers get today's file."""
    table = table or rates()
    by_unit = {a.unit_id: a for a in case.tax_assessments}
    out = []
    for cu in case.units:
        a = by_unit.get(cu.unit_id)
        if a is None:
            out.append((cu, _l("the deed tax has not been assessed yet")))
        elif a.status != "cleared":
            out.append((cu, _l("the deed tax of %(amount)s yuan is not paid", amount=a.amount)))
        else:
            try:
                same = Decimal(str((cu.data or {}).get(table.price_field)).replace(",", "").strip()) == a.price
            except InvalidOperation:
                same = False
            if not same:
                out.append((cu, _l("the declared price changed after the tax was paid; the tax must be assessed again")))
    return out


def summary(case):
    """What the case pages show: the assessments, the total, paid so far, and whether all is cleared."""
    rows = sorted(case.tax_assessments, key=lambda a: a.unit_id)
    total = sum((a.amount for a in rows), Decimal("0.00"))
    paid = sum((a.amount for a in rows if a.status == "cleared"), Decimal("0.00"))
    return {"assessments": rows, "total": total, "paid": paid, "cleared": not problems(case)}


def settle(fields: dict) -> TaxAssessment:
    """Apply a notification given as a signed dict (the sandbox's). Raises TaxError."""
    from flask_babel import gettext as _
    if not adapter().verify(fields):
        raise TaxError(_("The tax notification signature is invalid"))
    return apply(fields)


def apply(fields: dict) -> TaxAssessment:
    """Clear the assessment a proven notification names. Raises TaxError for an unknown or mismatched one."""
    from flask_babel import gettext as _
    assessment = db.session.scalar(select(TaxAssessment).where(TaxAssessment.reference == str(fields.get("reference")))
                                   .execution_options(skip_scope=True))
    if assessment is None:
        raise TaxError(_("Unknown tax assessment"))
    try:
        amount = Decimal(str(fields.get("amount")))
    except InvalidOperation:
        amount = None
    if amount != assessment.amount:
        raise TaxError(_("The paid tax does not match the assessment"))
    if fields.get("status") != "cleared":
        raise TaxError(_("The tax payment was not completed"))
    receipt = str(fields.get("receipt_number") or "")[:80]
    if assessment.status == "cleared":
        return assessment  # the bureau repeats notifications; the first one counted
    if not receipt or db.session.scalar(select(TaxAssessment.id).where(TaxAssessment.receipt_number == receipt)
                                        .execution_options(skip_scope=True)):
        raise TaxError(_("The tax receipt number is missing or already used"))
    assessment.status, assessment.receipt_number, assessment.cleared_at = "cleared", receipt, utcnow()
    return assessment
