"""Tax check (完税核验) of transfer registrations: an adapter interface and the local sandbox tax bureau.

A transfer is recorded (登簿) only once the buyer has paid the deed tax (契税) the tax bureau assessed
(Beihai manual: 一并缴费(税), 完税情况校验). The businesses that need it name the guard `tax_cleared`
on their recording transition in their rules file; no code names a business.

Contract of a tax adapter (a real one wraps the local tax bureau's 一窗受理 / 税费联办 interface):
- `assess(case) -> list[TaxAssessment]`: the assessment of every unit of a submitted case: the
  declared price (the per-unit field `price_field` of rules/tax/deed_tax.yaml), the rate, the deed tax
  and the buyers who owe it (party role `buyer_role`). Idempotent: asking again returns the same rows
  (a pending row follows a changed price; a cleared row whose price no longer matches is reassessed).
  Raises TaxError with a user-facing message when the case cannot be assessed (e.g. no price).
- `status(case) -> bool`: whether the tax of every unit of the case is cleared (paid) at its current price.
- `bureau_url(case) -> str`: where the payer's browser goes to pay the tax.
- `verify(fields: dict) -> bool`: whether a notification really comes from the tax bureau.
The bureau then calls back (POST /tax/notify) with reference, amount, receipt_number, status and a
signature. `settle()` applies a verified notification idempotently: a repeat changes nothing, an
amount that differs from the assessment or an unknown reference is refused.

The sandbox tax bureau is our own page (/tax/case/<case_id>): it assesses the deed tax with the rates
of rules/tax/deed_tax.yaml (configurable defaults, not a tax authority's ruling), the payer confirms
payment per assessment, and the page posts a notification signed with HMAC-SHA256 under
REGISTRY_TAX_SECRET, exactly as the bureau's server would.
"""
import hashlib
import hmac
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Optional, Protocol

import yaml
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from app.extensions import db
from models import TaxAssessment
from models.base import utcnow

FIELDS = ("reference", "amount", "receipt_number", "status")
GUARD = "tax_cleared"
CENT = Decimal("0.01")


class TaxError(ValueError):
    """A refused tax action; str() is the user-facing message."""


# ---- rates (data: rules/tax/deed_tax.yaml) --------------------------------------------------------
class Band(BaseModel):
    first_home: Optional[bool] = None
    max_area: Optional[Decimal] = None
    rate: Decimal


class Rates(BaseModel):
    price_field: str = "price"
    first_home_field: str = "first_home"
    buyer_role: str = "obligee"
    bands: list[Band]


@lru_cache(maxsize=4)
def _load(path: str) -> Rates:
    try:
        return Rates.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise RuntimeError(f"{path}: {exc}") from None


def rates() -> Rates:
    return _load(str(Path(current_app.config["RULES_DIR"]) / "tax" / "deed_tax.yaml"))


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def deed_tax(price, area, first_home, table: Rates = None):
    """(rate, amount) of the deed tax on a declared price; TaxError for a missing or bad price."""
    table = table or rates()
    if price is None or (isinstance(price, str) and not price.strip()):
        raise TaxError(_l("The declared transaction price is missing"))
    try:
        price = Decimal(str(price).replace(",", "").strip())
    except InvalidOperation:
        raise TaxError(_l("The declared transaction price is not a number")) from None
    if not price.is_finite() or price <= 0:
        raise TaxError(_l("The declared transaction price must be greater than zero"))
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

    def assess(self, case) -> list: ...

    def status(self, case) -> bool: ...

    def bureau_url(self, case) -> str: ...

    def verify(self, fields: dict) -> bool: ...


def _signature(fields: dict) -> str:
    message = "|".join(str(fields.get(k, "")) for k in FIELDS).encode()
    return hmac.new(current_app.config["TAX_SECRET"].encode(), message, hashlib.sha256).hexdigest()


def _reference() -> str:
    return f"TAX{utcnow():%Y%m%d}{secrets.token_hex(5).upper()}"


class SandboxTax:
    """The local stand-in for the tax bureau (see the module docstring for the contract)."""

    def bureau_url(self, case):
        return url_for("PublicServiceTaxView.bureau", case_id=case.id)

    def assess(self, case):
        table = rates()
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

    def notification(self, assessment):
        return self.sign({"reference": assessment.reference, "amount": str(assessment.amount),
                          "receipt_number": f"SW{secrets.token_hex(8).upper()}", "status": "cleared"})


def adapter() -> TaxAdapter:
    return SandboxTax()


def problems(case) -> list:
    """(unit, message) for every unit whose tax is not cleared at its current declared price."""
    table = rates()
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
    """Apply a tax bureau notification. Raises TaxError for a forged, unknown or mismatched one."""
    from flask_babel import gettext as _
    if not adapter().verify(fields):
        raise TaxError(_("The tax notification signature is invalid"))
    assessment = db.session.scalar(select(TaxAssessment).where(TaxAssessment.reference == fields.get("reference"))
                                   .execution_options(skip_scope=True))
    if assessment is None:
        raise TaxError(_("Unknown tax assessment"))
    if assessment.status == "cleared":
        return assessment  # the bureau repeats notifications; the first one counted
    try:
        amount = Decimal(str(fields.get("amount")))
    except InvalidOperation:
        amount = None
    if amount != assessment.amount:
        raise TaxError(_("The paid tax does not match the assessment"))
    if fields.get("status") != "cleared":
        raise TaxError(_("The tax payment was not completed"))
    assessment.status, assessment.receipt_number, assessment.cleared_at = "cleared", fields["receipt_number"], utcnow()
    return assessment
