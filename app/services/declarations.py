"""申明/承诺 signing: a business that declares `declaration` in its rules (title, text, the party roles that
sign) has each of those parties sign its text with the SMS code of their confirmation
(app/services/party_confirmation.py calls sign() once the code is proven). The signed text, its SHA-256 and
the time are kept with the case (CaseDeclaration); the guard `declaration_signed` (app/rulebook/steps.py)
refuses submission until every such party has signed the text of the case's own rules version.

The text signed is the Chinese one: the declaration is a legal statement made in the registry's language."""
from app import audit, rulebook
from app.extensions import db
from app.rulebook.steps import digest, signature, signatures, signs, unsigned  # noqa: F401  (one place reads them)
from models import CaseDeclaration


def declaration_of(case):
    """The declaration the case's rules version declares, or None."""
    return rulebook.for_case(case).declaration


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
                          text_sha256=digest(declaration.text.zh), phone=phone_masked)
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, "declaration_signed", "Case", case.id,
                 summary=f"{case.number} {case_party.name} 《{declaration.title.zh}》")
    return row


def problems(case, declaration) -> list:
    return unsigned(case, declaration)
