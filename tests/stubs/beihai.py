"""Stand-ins of the housing authority (网签备案 query) and the utilities' joint transfer platform (水电气网过户)
for the tests: real HTTP servers on free ports speaking the protocols documented in app/services/housing.py and
app/services/utilities.py, signed as app/services/signing.py says (checked by tests/stubs.StubService)."""
from tests.stubs import StubService


class HousingAuthority(StubService):
    """Knows the filed contracts in `contracts`: number -> {"unit_codes", "buyers", "sellers", "status"}."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.contracts = {}

    def _query(self, payload):
        assert set(payload) == {"contract_number"}, payload
        filed = self.contracts.get(payload["contract_number"])
        if filed is None:
            return {"found": False}
        return {"found": True, "contract_number": payload["contract_number"], "status": "filed", **filed}

    routes = {"/v1/contracts/query": _query}


class UtilitiesPlatform(StubService):
    """Accepts transfer requests; the same reference twice gets the same ticket. `busy` answers that many
    calls with a signed HTTP 503 first (a retry must follow); `refuse` maps kinds to a refusal code."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.tickets, self.busy, self.refuse = {}, 0, {}
        self.calls = 0

    def _transfer(self, payload):
        assert {"reference", "kind", "account_number", "case_number", "certificate_number", "unit", "from",
                "to"} == set(payload), payload
        self.calls += 1
        if self.busy:
            self.busy -= 1
            return 503, {"code": "ServiceBusy", "message": "系统繁忙"}
        if payload["kind"] in self.refuse:
            return 200, {"code": "AccountNotFound", "message": self.refuse[payload["kind"]]}
        ticket = self.tickets.setdefault(payload["reference"], f"{payload['kind'].upper()}-{len(self.tickets) + 1:04d}")
        return {"reference": payload["reference"], "ticket": ticket, "status": "accepted"}

    routes = {"/v1/transfers": _transfer}
