"""The home page (主页): the workbench for whoever is signed in."""
from flask import g
from flask_appbuilder import IndexView, expose
from sqlalchemy import select

from app.extensions import db
from models import Case


class HomeIndexView(IndexView):
    index_template = "index.html"

    @expose("/")
    def index(self):
        user = g.user
        todo = done = []
        if user is not None and user.is_authenticated:
            todo = db.session.scalars(
                select(Case).where(Case.executor_id == user.id).order_by(Case.updated_at.desc()).limit(10)).all()
            done = db.session.scalars(
                select(Case).where(Case.applicant_id == user.id, Case.submitted_at.is_not(None))
                .order_by(Case.submitted_at.desc()).limit(10)).all()
        return self.render_template(self.index_template, appbuilder=self.appbuilder, todo=todo, done=done)
