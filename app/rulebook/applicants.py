"""Who may apply for a business: the roles (`applicants`) and the kinds of applicant
(`applicant_kinds`) its rules declare. The apply menu, the workbench, the lookup and the start of a
case all ask here, so a bank never sees or starts a developer's business."""
from flask_babel import lazy_gettext as _l

from app import roles as role_names

from .messages import Entry, join
from .source import problem

# The rules' words for the kinds of applicant, and how a user is of that kind.
KIND_OF_INSTITUTION = {"bank": "bank", "developer": "developer", "other": "agent"}
KINDS = {"bank": _l("Bank"), "developer": _l("Property developer"), "agent": _l("Agent or other institution"),
         "public": _l("Member of the public")}
REFUSED = _l("Your institution may not apply for this business")
REFUSED_ROLE = _l("You may not apply for this business")


def kind_of(user) -> str | None:
    """The applicant kind of a user: their institution's, or `public` for a public account."""
    institution = getattr(user, "institution", None)
    if institution is not None:
        return KIND_OF_INSTITUTION.get(institution.kind)
    if any(r.name == role_names.PUBLIC for r in getattr(user, "roles", [])):
        return "public"
    return None


def refusal(business, user):
    """None when the user may start the business, else the message saying why not."""
    if not {r.name for r in getattr(user, "roles", [])} & set(business.applicants):
        return REFUSED_ROLE
    if business.applicant_kinds is not None and kind_of(user) not in business.applicant_kinds:
        return REFUSED
    return None


def may_apply(business, user) -> bool:
    return refusal(business, user) is None


KIND_NEEDS_ROLE = Entry(_l("applicant kind '%(kind)s' needs one of the roles %(roles)s in applicants"))


def problems(spec, located):
    """The loader's check: every applicant kind has a role in `applicants` that can act as it."""
    out = []
    roles = set(spec.applicants or []) if isinstance(spec.applicants, list) else set()
    for i, kind in enumerate(spec.applicant_kinds or []):
        needed = {role_names.PUBLIC} if kind == "public" else set(role_names.INSTITUTION_ROLES)
        if not roles & needed:
            out.append(problem(located, ("applicant_kinds", i), KIND_NEEDS_ROLE(kind=kind, roles=join(sorted(needed)))))
    return out
