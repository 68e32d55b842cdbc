"""The home page (主页): the workbench menu from the rules, quick entries, my todo and done lists,
and a chart of my institution's monthly volume by business type."""
import datetime as dt

from flask import g, jsonify
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select

from app.extensions import db
from app.roles import REVIEWER, role_names
from models import Case

from . import case_rows
from . import desk_common as dc
from .desk_common import tx

MONTHS = 12


def _lists(user, queues):
    """(todo, done) as [(row, info)] (views/case_rows.py): a reviewer's todo is what waits in the
    registry's queues (the same cases the queue tabs count); anyone else's is the cases they are the
    executor of."""
    if queues:
        from .review import waiting_cases
        todo_q = waiting_cases([node for node, _label, count in queues if count])
    else:
        todo_q = select(Case).where(Case.executor_id == user.id).order_by(Case.updated_at.desc())
    done_q = select(Case).where(Case.applicant_id == user.id, Case.submitted_at.is_not(None)) \
        .order_by(Case.submitted_at.desc())
    return case_rows.with_info(case_rows.fetch(todo_q.limit(10))), case_rows.with_info(case_rows.fetch(done_q.limit(10)))


def monthly_volume(today=None):
    """{"months": [...], "series": [{"name", "data"}]} of the cases visible to the user (the
    institution scope confines an institution user to their own institution's cases)."""
    from app import rulebook

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
    return tx(text)


def review_queues(user):
    """[(node, label, count)] of the registry's queues, for reviewers' home page; [] for everyone else.
    The counts come from the queue page's own function (views/review.py: reviewer_queues)."""
    if REVIEWER not in role_names(user):
        return []
    from .review import reviewer_queues
    return reviewer_queues()


class HomeIndexView(IndexView):
    index_template = "index.html"

    @expose("/")
    def index(self):
        user = g.user
        todo = done = []
        groups, queues = [], []
        if user is not None and user.is_authenticated:
            queues = review_queues(user)
            todo, done = _lists(user, queues)
            try:
                groups = dc.businesses_by_category() if getattr(user, "institution_id", None) else []
            except Exception:  # the rules may be mid-edit; the lists still show
                groups = []
        return self.render_template(self.index_template, appbuilder=self.appbuilder, todo=todo, done=done,
                                    groups=groups, tx=_tx, queues=queues,
                                    todo_total=sum(count for _node, _label, count in queues) if queues else None)


class WorkbenchView(BaseView):
    """JSON behind the workbench chart."""
    route_base = "/workbench"

    @expose("/volume.json")
    @has_access
    def volume(self):
        return jsonify(monthly_volume())
