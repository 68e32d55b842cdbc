"""Guards of the Beihai steps a business declares in its rules: 申明/承诺 (`declaration`) and the
网签备案合同号 check (`contract_filing`). Each guard goes with its key: the loader refuses one without the other."""
from app.services import declarations, housing

from .registry import Problem, guard


@guard("declaration_signed", section="declaration")
def declaration_signed(case, business, transition):
    return [Problem("critical", m, "declaration") for m in declarations.problems(case, business.declaration)]


@guard("contract_filed", section="contract_filing")
def contract_filed(case, business, transition):
    filing = business.contract_filing
    return [Problem("critical", m, filing.field) for m in housing.problems(case, filing)]
