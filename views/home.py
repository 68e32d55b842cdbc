"""The home page (主页): the workbench menu from the rules, quick entries, my todo and done lists,
and a chart of my institution's monthly volume by business type."""
import datetime as dt

from flask import g, jsonify
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.roles import REVIEWER
from models import Case, CaseUnit

MONTHS = 12


def _lists(user):
    todo = db.session.scalars(
        select(Case).where(Case.executor_id == user.id).options(selectinload(Case.units).joinedload(CaseUnit.unit),
                                                                selectinload(Case.parties))
        .order_by(Case.updated_at.desc()).limit(10)).unique().all()
    done = db.session.scalars(
        select(Case).where(Case.applicant_id == user.id, Case.submitted_at.is_not(None))
        .options(selectinload(Case.units).joinedload(CaseUnit.unit), selectinload(Case.parties))
        .order_by(Case.submitted_at.desc()).limit(10)).unique().all()
    return todo, done


def monthly_volume(today=None):
    """{"months": [...], "series": [{"name", "data"}]} of the cases visible to the user (the
    institution scope confines an institution user to their own institution's cases)."""
    from app import rulebook

    from .desk_common import tx
    today = today or dt.date.today()
    # The last MONTHS calendar months, this one included.
    index = today.year * 12 + today.month - 1 - (MONTHS - 1)
    months = [f"{(index + i) // 12:04d}-{(index + i) % 12 + 1:02d}" for i in range(MONTHS)]
    first = dt.date(index // 12, index % 12 + 1, 1)
    month = func.strftime("%Y-%m", Case.created_at) if db.engine.dialect.name == "sqlite" \
        else func.to_char(Case.created_at, "YYYY-MM")
    rows = db.session.execute(select(Case.business_key, month, func.count()).where(
        Case.created_at >= dt.datetime.combine(first, dt.time())).group_by(Case.business_key, month)).all()
    table = {}
    for key, ym, n in rows:
        table.setdefault(key, {})[ym] = n
    names = {}
    for key in table:
        try:
            names[key] = tx(rulebook.get(key).name)
        except Exception:
            names[key] = key
    return {"months": months,
            "series": [{"name": names[k], "data": [table[k].get(mm, 0) for mm in months]} for k in sorted(table)]}


def _tx(text):
    from .desk_common import tx
    return tx(text)


def review_queues(user):
    """[(node, label, count)] of the registry's queues, for reviewers' home page; [] for everyone else."""
    if not any(r.name == REVIEWER for r in user.roles):
        return []
    from .review import REVIEWER_ROLE, reviewer_nodes
    counts = dict(db.session.execute(select(Case.node, func.count()).where(
        Case.executor_role == REVIEWER_ROLE).group_by(Case.node)).all())
    return [(node, label, counts.get(node, 0)) for node, label in reviewer_nodes()]


class HomeIndexView(IndexView):
    index_template = "index.html"

    @expose("/")
    def index(self):
        user = g.user
        todo = done = []
        groups, info, queues = [], None, []
        if user is not None and user.is_authenticated:
            todo, done = _lists(user)
            queues = review_queues(user)
            try:
                from .desk import _case_info, businesses_by_category
                groups = businesses_by_category() if getattr(user, "institution_id", None) else []
                info = _case_info
            except Exception:  # the rules may be mid-edit; the lists still show
                groups = []
        return self.render_template(self.index_template, appbuilder=self.appbuilder, todo=todo, done=done,
                                    groups=groups, info=info, tx=_tx, queues=queues)


class WorkbenchView(BaseView):
    """JSON behind the workbench chart."""
    route_base = "/workbench"

    @expose("/volume.json")
    @has_access
    def volume(self):
        return jsonify(monthly_volume())
