"""网签备案合同号 check: the housing authority's record of a filed sale contract, asked before a transfer is
submitted. The businesses that need it declare `contract_filing` in their rules (the case form field holding
the number, the buyers' and sellers' party roles) and put the guard `contract_filed` on their submission.

Contract of a housing adapter (REGISTRY_HOUSING_ADAPTER chooses, app/services/outside.py):
- `lookup(contract_number, units, parties, filing) -> dict | None`: the filed contract as the authority records it,
  {"contract_number", "unit_codes": [...], "buyers": [{"name", "id_number"}], "sellers": [...]}, or None when
  the authority has no such filing. Raises HousingError when the authority cannot be asked.
`problems(case, filing)` compares that record with the case: unknown number, other units, other parties.

"http", HttpHousing: the authority's 网签备案查询 interface, signed JSON (scheme, freshness and nonce rules:
app/services/signing.py, keys REGISTRY_HOUSING_URL / _KEY_ID / _SECRET):
    query   POST {REGISTRY_HOUSING_URL}/v1/contracts/query  {"contract_number": "..."}
            answer data {"found": true, "contract_number": "...", "status": "filed",
                         "unit_codes": ["450502..."], "buyers": [{"name", "id_number"}],
                         "sellers": [{"name", "id_number"}]}
            or data {"found": false} for a number the authority never filed. A contract whose status is not
            "filed" (e.g. "cancelled") counts as not filed.
"sandbox", SandboxHousing (REGISTRY_SANDBOX=1 only): a stand-in that cannot know real filings: every number
except those starting with "WQ-NONE" is taken as filed for the case's own units and parties (numbers starting
"WQ-NONE" are unknown, to try the refusal in the demo). Never used in production (outside.check).
"""
from flask_babel import lazy_gettext as _l

from app.services import signing

SANDBOX_UNKNOWN = "WQ-NONE"


class HousingError(RuntimeError):
    """The housing authority could not be asked; str() is the user-facing message."""


def _norm(value):
    return (value or "").strip().upper()


def _people(parties, role):
    return [{"name": p.name, "id_number": _norm(p.id_number)} for p in parties if p.role == role] if role else []


def contracts(case, filing):
    """[(contract number, case units, case parties)] the case declares: one for the case, or one per unit
    when the rules ask the number per unit (each flat of a batch its own contract, its own buyers)."""
    if not filing.per_unit:
        return [(str((case.form_data or {}).get(filing.field) or "").strip(), list(case.units), list(case.parties))]
    return [(str((cu.data or {}).get(filing.field) or "").strip(), [cu],
             [p for p in case.parties if p.case_unit_id in (None, cu.id)]) for cu in case.units]


class SandboxHousing:
    def lookup(self, contract_number, units, parties, filing):
        if _norm(contract_number).startswith(SANDBOX_UNKNOWN):
            return None
        return {"contract_number": contract_number, "unit_codes": [cu.unit.unit_code for cu in units],
                "buyers": _people(parties, filing.buyer_role), "sellers": _people(parties, filing.seller_role)}


class HttpHousing:
    def lookup(self, contract_number, units, parties, filing):
        try:
            data = signing.call("HOUSING", "/v1/contracts/query", {"contract_number": contract_number})
        except signing.ServiceError as exc:
            raise HousingError(str(exc)) from None
        if not data.get("found") or data.get("status", "filed") != "filed":
            return None
        return {"contract_number": str(data.get("contract_number") or ""),
                "unit_codes": [str(c) for c in data.get("unit_codes") or []],
                "buyers": list(data.get("buyers") or []), "sellers": list(data.get("sellers") or [])}


def adapter():
    from app.services import outside
    return SandboxHousing() if outside.selected("HOUSING") == "sandbox" else HttpHousing()


def problems(case, filing) -> list:
    """The user-facing reasons the case's contract numbers do not pass (empty: each matches its filing)."""
    out = []
    for number, units, parties in contracts(case, filing):
        where = f"{units[0].unit.location}: " if filing.per_unit and units else ""
        if not number:
            out.append(where + str(_l("The filed contract number (网签备案合同号) is missing")))
            continue
        try:
            record = adapter().lookup(number, units, parties, filing)
        except HousingError as exc:
            out.append(where + str(_l("The filed contract number could not be checked: %(why)s", why=exc)))
            continue
        if record is None:
            out.append(where + str(_l("The housing authority has no filed contract numbered %(number)s",
                                      number=number)))
            continue
        filed_units = {_norm(c) for c in record["unit_codes"]}
        missing = [cu.unit.location for cu in units if _norm(cu.unit.unit_code) not in filed_units]
        if missing:
            out.append(str(_l("Filed contract %(number)s is not for %(units)s", number=number,
                              units="、".join(missing))))
        for role, filed in ((filing.buyer_role, record["buyers"]), (filing.seller_role, record["sellers"])):
            on_record = {_norm(p.get("id_number")) for p in filed if isinstance(p, dict)}
            for p in parties:
                if role and p.role == role and _norm(p.id_number) not in on_record:
                    out.append(str(_l("Filed contract %(number)s does not name %(name)s as a party",
                                      number=number, name=p.name)))
    return out
