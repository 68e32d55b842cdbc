"""Institution isolation, enforced once for every query of every view, API and service.

Institution roles (app/roles.py) get g.institution_scope set at the start of each request; every
ORM SELECT then carries each scoped model's scope_clause, and a flush refuses to write a row owned
by another institution. Views need not (and must not) filter by institution themselves.

数据权限 (app/departments.py): an operator whose data scope is narrower than the institution also
gets g.data_scope, and the cases (with the rows hanging off them: units, parties, history, materials,
payments, tax assessments, certificates) are confined further to their department, their department
and below, or their own (filed or held). Institution administrators always see the whole institution.
"""
import weakref
from functools import lru_cache

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import and_, event, exists, or_, select, true
from sqlalchemy.orm import Session, with_loader_criteria

from app.roles import ADMIN, INSTITUTION_ADMIN, INSTITUTION_ROLES, role_names


class ScopeViolation(PermissionError):
    pass


def current_scope():
    """The institution id the current request is confined to, or None when unconfined."""
    return g.get("institution_scope") if has_request_context() else None


def set_scope_for_request():
    g.institution_scope = g.data_scope = None
    user = current_user._get_current_object()  # loads the user; each current_user.x goes through two proxies
    if user.is_authenticated and role_names(user) & INSTITUTION_ROLES:
        # An institution role without an institution sees nothing (fail closed).
        g.institution_scope = user.institution_id or -1
        g.data_scope = data_scope_of(user)


def data_scope_of(user):
    """The user's case scope as a hashable key: None (the whole institution), ("subtree", path, uid),
    ("department", department id, uid) or ("own", uid). A department scope without a department is
    "own" (fail closed)."""
    from app import departments
    kind = user.data_scope or departments.INSTITUTION
    if kind == departments.INSTITUTION or INSTITUTION_ADMIN in role_names(user):
        return None
    dept = _department_of(user) if user.department_id else ()
    if kind == departments.SUBTREE and dept:
        return (kind, dept[1], user.id)
    if kind == departments.DEPARTMENT and dept:
        return (kind, dept[0], user.id)
    return (departments.OWN, user.id)


def _department_of(user):
    """(id, path) of the user's department, () when it does not exist: as read with the signed-in user
    (app/security.py load_user), else loaded."""
    known = user.__dict__.get("department_row")
    if known is not None:
        return known
    dept = user.department
    return (dept.id, dept.path) if dept is not None else ()


def _case_clause(data_scope):
    """The cases a narrowed operator sees (a condition on Case's columns)."""
    from models import Case, Department
    kind, uid = data_scope[0], data_scope[-1]
    mine = or_(Case.applicant_id == uid, Case.executor_id == uid)
    if kind == "subtree":
        below = select(Department.id).where(Department.path.startswith(data_scope[1], autoescape=True))
        return or_(Case.department_id.in_(below), mine)
    if kind == "department":
        return or_(Case.department_id == data_scope[1], mine)
    return mine


def _confined(model, iid, data_scope):
    """The model's institution clause, narrowed to the visible cases for a narrowed operator."""
    from models import Case
    clause = model.scope_clause(iid)
    if data_scope is None:
        return clause
    if model is Case:
        return and_(clause, _case_clause(data_scope))
    if "case_id" in model.__table__.c:
        return and_(clause, exists().where(Case.id == model.case_id, _case_clause(data_scope)))
    return clause


# {statement: {criteria: the statement with them}}: a statement built once (app/security.py's,
# views/case_rows.py's) keeps its confined copy, whose cache key SQLAlchemy then works out once.
_CONFINED = weakref.WeakKeyDictionary()


def confined(statement):
    """The statement as the request's scope confines it (itself when the request is not confined). Every
    ORM execution goes through it (install: do_orm_execute); a list that reads plain rows of columns
    runs it on the connection itself (rows(): no ORM objects, so none of the ORM's result machinery,
    a twentieth of a list page's time)."""
    iid = current_scope()
    if iid is None:
        return statement
    criteria = _criteria(iid, g.get("data_scope"))
    try:
        copies = _CONFINED.setdefault(statement, {})
    except TypeError:  # a statement that cannot be weakly referenced: confined afresh
        copies = {}
    if criteria not in copies:
        copies[criteria] = statement.options(*criteria)
    return copies[criteria]


def rows(statement, params=None):
    """The rows of a SELECT of columns, confined as every query is, read on the session's connection
    (its transaction): plain rows, nothing hydrated, the session not flushed first."""
    from app.extensions import db
    return db.session.connection().execute(confined(statement), params).all()


@lru_cache(maxsize=4096)
def _criteria(iid, data_scope):
    """The options confining a statement to one institution (and data scope): the same for every
    statement of every request of that institution, so built once (building them was a tenth of a
    list page's time). For the whole institution (nearly every request) each criterion is a lambda,
    whose cache key is its code and the institution id, not a walk of the clause (with plain clauses
    every statement spent ~0.25 ms on its cache key). A narrowed operator's are plain clauses: their
    shape depends on the scope, which a lambda's cached shape would not follow."""
    from models import SCOPED_MODELS
    from models.base import Scoped
    if data_scope is None:  # one criterion for every Scoped class (each costs every statement ~15 calls)
        return (with_loader_criteria(Scoped, lambda cls: cls.scope_clause(iid), include_aliases=True),)
    return tuple(with_loader_criteria(m, _confined(m, iid, data_scope), include_aliases=True)
                 for m in SCOPED_MODELS)


def install(app):
    from models import SCOPED_MODELS, Institution

    app.before_request(set_scope_for_request)

    @event.listens_for(Session, "do_orm_execute")
    def _confine(state):
        if state.is_select and not state.execution_options.get("skip_scope"):
            state.statement = confined(state.statement)

    @event.listens_for(Session, "before_flush")
    def _refuse_foreign_writes(session, flush_context, instances):
        iid = current_scope()
        if iid is None:
            return
        for obj in list(session.new) + list(session.dirty) + list(session.deleted):
            owner = obj.id if isinstance(obj, Institution) else getattr(obj, "institution_id", None)
            if obj.__class__ in SCOPED_MODELS and owner is not None and owner != iid:
                raise ScopeViolation(f"{obj.__class__.__name__} belongs to another institution")


def own_rows(user_column):
    """Rows kept per person (background jobs): the Admin reads everyone's, every other user only their own.
    The institution scope above still applies on top for the institutions' roles."""
    if not current_user.is_authenticated:
        return user_column == -1
    if ADMIN in role_names(current_user):
        return true()
    return user_column == current_user.id
