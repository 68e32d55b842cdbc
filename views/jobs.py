"""我的任务: the signed-in user's background jobs (app/jobs) with progress, result download and the
reason of a failure; a small JSON status the page polls (app/static/js/jobs.js). Which jobs a user
reaches is decided by app/jobs.visible() (their own; the Admin's: all; institution scope on top):
anybody else's job is "not found"."""
from flask import abort, flash, g, jsonify, redirect, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import jobs
from app.extensions import db
from models.job import DONE, FAILED, QUEUED, RUNNING

PAGE_SIZE = 50
STATES = {QUEUED: _l("Queued"), RUNNING: _l("Running"), DONE: _l("Completed"), FAILED: _l("Failed")}


def page(job):
    """Where a submitter is sent after starting a job."""
    return url_for("JobView.show", job_id=job.id)


def describe(job):
    """What the page shows of a job, in the user's language."""
    percent = 100 if job.state == DONE else (min(99, job.done * 100 // job.total) if job.total else 0)
    if job.state == DONE:
        message = _("Finished: %(done)d of %(total)d", done=job.done, total=job.total)
    elif job.state == FAILED:
        message = _("Failed: %(error)s", error=job.error or "")
    elif job.state == RUNNING:
        message = _("Running: %(done)d of %(total)d", done=job.done, total=job.total)
    else:
        message = _("Waiting for a worker")
    result = jobs.result_path(job)
    return {"id": job.id, "kind": jobs.label(job.kind), "state": job.state, "state_label": str(STATES[job.state]),
            "done": job.done, "total": job.total, "percent": percent, "message": message,
            "finished": job.state in (DONE, FAILED), "error": job.error if job.state == FAILED else "",
            "result_url": url_for("JobView.result", job_id=job.id) if result else "",
            "result_name": job.result_name if result else "",
            "by": job.user.get_full_name() if job.user is not None else "",
            "created_at": job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "finished_at": job.finished_at.strftime("%Y-%m-%d %H:%M:%S") if job.finished_at else ""}


def start(kind, params, total, back, input_data=None):
    """Submit a job for the signed-in user and show its page; if the queue cannot take it, say so and go back.
    Commits the session (app.jobs.submit)."""
    try:
        job = jobs.submit(kind, params, g.user, total=total, input_data=input_data)
    except jobs.JobError as exc:
        flash(str(exc), "danger")
        return redirect(back)
    flash(_("The job was started; this page shows its progress"), "success")
    return redirect(page(job))


def _found(job_id):
    job = jobs.find(job_id)
    if job is None:
        abort(404)
    return job


class JobView(BaseView):
    route_base = "/jobs"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.scalars(jobs.visible().limit(PAGE_SIZE)).all()
        return self.render_template("jobs/list.html", rows=[(j, describe(j)) for j in rows])

    @expose("/<int:job_id>")
    @has_access
    def show(self, job_id):
        job = _found(job_id)
        return self.render_template("jobs/show.html", job=job, s=describe(job))

    @expose("/<int:job_id>/status")
    @has_access
    def status(self, job_id):
        response = jsonify(describe(_found(job_id)))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:job_id>/result")
    @has_access
    def result(self, job_id):
        job = _found(job_id)
        path = jobs.result_path(job)
        if path is None:
            abort(404)
        return send_file(path, as_attachment=not job.result_name.endswith(".pdf"), download_name=job.result_name)


def register(appbuilder):
    appbuilder.add_view(JobView, "Jobs", label=_l("My jobs"), icon="fa-tasks", category="Office")
