"""Departments (总行 › 分行 › 支行) of an institution and what they decide: which cases an operator sees.

An operator's data_scope (models.Operator) is one of SCOPES; app/scope.py turns it into the case
condition. A case keeps the department of its filer at creation (install); cases without one
(older than departments) are seen only by operators who see the whole institution, and by their
own filer and holder ("only mine" always includes what one filed or holds).
"""
from flask_babel import gettext as _
from sqlalchemy import event, func, select

from app import vocab
from app.extensions import db
from models import Case, Department, Operator

INSTITUTION, SUBTREE, DEPARTMENT, OWN = "institution", "subtree", "department", "own"
SCOPES = vocab.DATA_SCOPE


class DepartmentError(ValueError):
    pass


def install(app):
    @event.listens_for(Case, "before_insert")
    def _filers_department(mapper, connection, case):
        if case.department_id is None and case.applicant_id is not None:
            users = Operator.__table__
            case.department_id = connection.execute(
                select(users.c.department_id).where(users.c.id == case.applicant_id)).scalar()


def check_parent(department):
    """A department cannot sit under itself or under one of its own sub-departments, nor under
    another institution's (the scope hides those, this says so in words)."""
    parent = department.parent
    if parent is None:
        return
    if parent.institution_id != department.institution_id:
        raise DepartmentError(_("The parent department belongs to another institution"))
    if department.id is not None and (parent.id == department.id or
                                      f"/{department.id}/" in (parent.path or "")):
        raise DepartmentError(_("A department cannot be placed under itself or one of its sub-departments"))


def rebuild_paths(institution_id):
    """Every department's path from the parents (after an add, a move or a delete): a few dozen rows."""
    rows = db.session.scalars(select(Department).where(Department.institution_id == institution_id)).all()
    by_id = {d.id: d for d in rows}

    def path(d, depth=0):
        if d.parent_id is None or d.parent_id not in by_id or depth > 50:
            return f"/{d.id}/"
        return path(by_id[d.parent_id], depth + 1) + f"{d.id}/"

    for d in rows:
        new = path(d)
        if d.path != new:
            d.path = new


def check_deletable(department):
    children = db.session.scalar(select(func.count()).where(Department.parent_id == department.id))
    members = db.session.scalar(select(func.count()).where(Operator.department_id == department.id))
    cases = db.session.scalar(select(func.count()).where(Case.department_id == department.id)
                              .execution_options(skip_scope=True))
    if children or members or cases:
        raise DepartmentError(_("This department still has sub-departments, operators or cases and cannot be deleted"))
