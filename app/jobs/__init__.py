"""Background jobs: one table (models/job.Job), one API, two backends.

    job = jobs.submit("batch_print", {"case_ids": [...]}, g.user, total=len(ids))   # then redirect to jobs.page(job)

    @jobs.register("batch_print", _l("Batch print"))
    def batch_print(job, params):               # runs in a worker, as the submitting user (scope and audit)
        for i, ... : job.progress(i + 1, total) # report progress BEFORE writing rows (SQLite: one writer)
        job.input()                             # the bytes given to submit(input_data=...), e.g. an upload
        return "cases.pdf", pdf_bytes           # the result file (or None); raise JobFailed(_("...")) for the user

Backends (chosen per submit by REGISTRY_BROKER_URL):
- Celery with a Redis broker (app/jobs/broker.py; workers: `celery -A app.celery_app worker`);
- without a broker, a worker thread inside each app process (app/jobs/local.py): `make run`, tests.

Both run `run(job_id)`: the job's own writes, its result file (app/services/files.py: renamed into place at
commit) and its "done" state are one transaction, so a job that fails leaves nothing half-written; the
failure is recorded in a transaction of its own with a message for the user. Start and finish are audited.
"""
import logging
import re
import time
from pathlib import Path

from flask import current_app, g, session
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from app import audit, scope
from app.extensions import db
from app.jobs import broker, local
from app.services import files
from models import Job, Operator
from models.base import utcnow
from models.job import DONE, FAILED, QUEUED, RUNNING

log = logging.getLogger(__name__)
REGISTRY = {}   # kind -> (function, label)
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class JobError(RuntimeError):
    """The job could not be queued (e.g. the broker is down); str() is the message for the user."""


class JobFailed(RuntimeError):
    """Raised by a job function: the job fails with str() as the message the user reads."""


def register(kind, label):
    """Declare a job function under a name (the name is stored in the job row; the label is shown)."""
    def wrap(fn):
        REGISTRY[kind] = (fn, label)
        return fn
    return wrap


def label(kind):
    return str(REGISTRY[kind][1]) if kind in REGISTRY else kind


def backend_name(app=None):
    return "celery" if (app or current_app).config.get("BROKER_URL") else "local"


# ---- submitting -------------------------------------------------------------------------------

def submit(kind, params, user, total=0, input_data=None):
    """Record the job (and its input file) and hand it to the backend; returns the Job.

    Commits the session: call it once the request's other changes may be committed. If the backend
    cannot take the job, the row and input file are removed again and JobError is raised.
    """
    if kind not in REGISTRY:
        raise KeyError(kind)
    job = Job(kind=kind, user_id=user.id, institution_id=getattr(user, "institution_id", None),
              params={**params, "_locale": str(get_locale() or "zh")}, state=QUEUED, done=0, total=total)
    db.session.add(job)
    db.session.flush()
    if input_data is not None:
        files.stage(db.session, input_path(job), input_data)
    db.session.commit()
    try:
        _backend().enqueue(job.id)
    except Exception as exc:  # the broker is configured but cannot be reached: say so, keep nothing
        log.error("job %s could not be queued: %s", job.id, exc)
        db.session.rollback()
        job = db.session.get(Job, job.id)
        if input_data is not None:
            files.delete_after_commit(db.session, input_path(job))
        db.session.delete(job)
        db.session.commit()
        raise JobError(_("The job queue cannot be reached, so the job was not started; please try again "
                         "later or tell the system administrator")) from None
    return job


def _backend():
    app = current_app._get_current_object()
    if backend_name(app) == "celery":
        return broker.Backend(app, run)
    return local.worker_for(app, run)


# ---- files ------------------------------------------------------------------------------------

def _folder_of(job_id) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "jobs" / str(job_id)


def input_path(job) -> Path:
    return _folder_of(job.id) / "input"


def result_path(job):
    """The result file of a finished job, or None."""
    if job.state != DONE or not job.result_path:
        return None
    path = Path(current_app.config["DATA_DIR"]) / job.result_path
    return path if path.is_file() else None


# ---- reading ----------------------------------------------------------------------------------

def visible():
    """The jobs the current user may see, newest first: their own (the Admin's: everyone's), within the
    institution scope (app/scope.py)."""
    return select(Job).where(scope.own_rows(Job.user_id)).order_by(Job.id.desc())


def find(job_id):
    return db.session.scalar(visible().where(Job.id == job_id))


# ---- running ----------------------------------------------------------------------------------

class Context:
    """What a job function gets besides its params: its id, its input file and progress(done, total).

    Progress is written at once in its own short transaction so every instance's pages see it while the
    job's own transaction is still open (at most every half second, and always the last step)."""

    def __init__(self, job_id, total):
        self.job_id, self.done, self.total, self._at = job_id, 0, total, 0.0

    def input(self) -> bytes:
        return (_folder_of(self.job_id) / "input").read_bytes()

    def progress(self, done, total=None):
        self.done, self.total = done, (total if total is not None else self.total)
        now = time.monotonic()
        if now - self._at < 0.5 and done < self.total:
            return
        self._at = now
        with db.engine.begin() as conn:
            conn.execute(update(Job.__table__).where(Job.__table__.c.id == self.job_id)
                         .values(done=self.done, total=self.total))


def run(job_id):
    """Run one queued job (inside an app context; called by either backend). A job that is not queued any
    more (another worker took it, or it was redelivered) is left alone."""
    app = current_app._get_current_object()
    with app.test_request_context("/jobs/worker"):
        taken = db.session.execute(update(Job).where(Job.id == job_id, Job.state == QUEUED)
                                   .values(state=RUNNING, started_at=utcnow()))
        if taken.rowcount != 1:
            db.session.rollback()
            return None
        job = db.session.get(Job, job_id)
        _act_as(job)
        audit.record(db.session, "job_start", "Job", job.id, summary=label(job.kind))
        db.session.commit()
        fn = REGISTRY.get(job.kind, (None,))[0]
        context = Context(job.id, job.total)
        try:
            if fn is None:
                raise JobFailed(_("This kind of job is not known to this version of the platform"))
            outcome = fn(context, dict(job.params))
            job = db.session.get(Job, job_id)
            db.session.refresh(job)
            if outcome is not None:
                name, data = outcome
                relative = f"jobs/{job.id}/{_SAFE_NAME.sub('_', name)}"
                files.stage(db.session, Path(app.config["DATA_DIR"]) / relative, data)
                job.result_path, job.result_name = relative, name
            job.total = max(context.total, context.done, job.total)
            job.done = job.total
            job.state, job.finished_at = DONE, utcnow()
            _drop_input(job_id)
            audit.record(db.session, "job_finish", "Job", job.id, summary=f"{label(job.kind)}: {_('Completed')}")
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if isinstance(exc, JobFailed):
                message = str(exc)
            elif isinstance(exc, StaleDataError):
                message = _("The data was changed by someone else meanwhile; nothing was saved. Please try again.")
            else:
                log.exception("job %s (%s) failed", job_id, job.kind)
                message = _("The job stopped on an unexpected error and nothing was saved; please try again "
                            "or tell the system administrator")
            _fail(job_id, message)
        return job_id


def _act_as(job):
    """The job runs as the user who submitted it: their institution scope, their name in the audit log,
    their language."""
    user = db.session.get(Operator, job.user_id)
    g._login_user = g.user = user
    scope.set_scope_for_request()
    session["locale"] = (job.params or {}).get("_locale", "zh")


def _drop_input(job_id):
    """The uploaded input is not kept once the job has ended (it goes with the commit that ends it)."""
    if (_folder_of(job_id) / "input").exists():
        files.delete_after_commit(db.session, _folder_of(job_id) / "input")


def _fail(job_id, message):
    job = db.session.get(Job, job_id)
    job.state, job.error, job.finished_at = FAILED, message[:2000], utcnow()
    _drop_input(job_id)
    audit.record(db.session, "job_finish", "Job", job.id, summary=f"{label(job.kind)}: {_('Failed')}"[:300])
    db.session.commit()


def wait(job_id, timeout=30.0):
    """Block until the job is done or failed (CLI and tests); returns the Job."""
    end = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.state in (DONE, FAILED) or time.monotonic() > end:
            return job
        time.sleep(0.1)
