"""Guards of the Beihai steps a business declares in its rules: 申明/承诺 (`declaration`) and the
网签备案合同号 check (`contract_filing`). Each guard goes with its key: the loader refuses one without the other.

Who has signed is read here (the engine's side); signing itself is app/services/declarations.py."""
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.services import housing
from models import CaseDeclaration

from .registry import Problem, guard


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signs(declaration, case_party) -> bool:
    """Whether the party's role signs the declaration."""
    return declaration is not None and case_party.role in declaration.roles


def signatures(case) -> list:
    return list(db.session.scalars(select(CaseDeclaration).where(CaseDeclaration.case_id == case.id)
                                   .order_by(CaseDeclaration.id)))


def signature(case, case_party, declaration, rows=None):
    """The party's signature of this very text (the Chinese one, as signed), or None."""
    wanted = digest(declaration.text.zh)
    return next((d for d in (rows if rows is not None else signatures(case))
                 if d.case_party_id == case_party.id and d.text_sha256 == wanted), None)


def unsigned(case, declaration) -> list:
    """Who has not signed yet, in words."""
    rows = signatures(case)
    return [str(_l("%(name)s has not signed the declaration %(title)s", name=p.name, title=f"《{declaration.title.zh}》"))
            for p in case.parties if signs(declaration, p) and signature(case, p, declaration, rows) is None]


@guard("declaration_signed", section="declaration")
def declaration_signed(case, business, transition):
    return [Problem("critical", m, "declaration") for m in unsigned(case, business.declaration)]


@guard("contract_filed", section="contract_filing")
def contract_filed(case, business, transition):
    filing = business.contract_filing
    return [Problem("critical", m, filing.field) for m in housing.problems(case, filing)]
