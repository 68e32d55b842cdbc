"""申明/承诺 signing: a business that declares `declaration` in its rules (title, text, the party roles that
sign) has each of those parties sign its text with the SMS code of their confirmation
(app/services/party_confirmation.py calls sign() once the code is proven). The signed text, its SHA-256 and
the time are kept with the case (CaseDeclaration); the guard `declaration_signed` (app/rulebook/steps.py)
refuses submission until every such party has signed the text of the case's own rules version.

The text signed is the Chinese one: the declaration is a legal statement made in the registry's language."""
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from models import CaseDeclaration


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def declaration_of(case):
    """The declaration the case's rules version declares, or None."""
    from app import rulebook
    return rulebook.for_case(case).declaration


def signs(declaration, case_party) -> bool:
    return declaration is not None and case_party.role in declaration.roles


def signature(case, case_party, declaration):
    """The party's signature of this very text, or None."""
    digest = _digest(declaration.text.zh)
    return next((d for d in signatures(case) if d.case_party_id == case_party.id and d.text_sha256 == digest), None)


def signatures(case) -> list:
    return list(db.session.scalars(select(CaseDeclaration).where(CaseDeclaration.case_id == case.id)
                                   .order_by(CaseDeclaration.id)))


def sign(case, case_party, phone_masked: str, declaration=None):
    """Record the party's signature of the declaration (after their SMS code was proven). Idempotent."""
    declaration = declaration if declaration is not None else declaration_of(case)
    if not signs(declaration, case_party):
        return None
    done = signature(case, case_party, declaration)
    if done is not None:
        return done
    row = CaseDeclaration(case_id=case.id, case_party_id=case_party.id, role=case_party.role, name=case_party.name,
                          id_number=case_party.id_number, title=declaration.title.zh, text=declaration.text.zh,
                          text_sha256=_digest(declaration.text.zh), phone=phone_masked)
    db.session.add(row)
    db.session.flush()
    from app import audit
    audit.record(db.session, "declaration_signed", "Case", case.id,
                 summary=f"{case.number} {case_party.name} 《{declaration.title.zh}》")
    return row


def problems(case, declaration) -> list:
    """Who has not signed yet, in words."""
    return [str(_l("%(name)s has not signed the declaration %(title)s", name=p.name, title=f"《{declaration.title.zh}》"))
            for p in case.parties if signs(declaration, p) and signature(case, p, declaration) is None]
