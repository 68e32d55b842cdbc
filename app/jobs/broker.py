"""The production backend: Celery with a Redis broker (REGISTRY_BROKER_URL=redis://host:port/db).

The app only publishes "run job <id>" (the job row is the state; no result backend is used). Workers run
`celery -A app.celery_app worker` (app/celery_app.py), which builds the same Flask app and runs
app.jobs.run(id). Publishing never retries in the request: an unreachable broker fails the submit at once.
"""
from celery import Celery
from celery.signals import worker_process_init
from celery.utils.log import get_task_logger

from app.extensions import db

log = get_task_logger(__name__)

TASK = "registry.run_job"
QUEUE = "registry-jobs"


def celery_for(app, run):
    """The Celery application of this Flask app (one per app, made on first use)."""
    made = app.extensions.setdefault("registry_celery", {})
    if app.config["BROKER_URL"] in made:
        return made[app.config["BROKER_URL"]]
    celery = Celery("registry", broker=app.config["BROKER_URL"], set_as_current=False)
    celery.conf.update(
        task_default_queue=QUEUE, task_ignore_result=True, task_acks_late=True,
        worker_prefetch_multiplier=1, worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True, broker_connection_timeout=3,
        broker_transport_options={"socket_connect_timeout": 3, "socket_timeout": 10, "max_retries": 0},
    )

    @celery.task(name=TASK, ignore_result=True)
    def run_job(job_id):
        with app.app_context():
            run(int(job_id))
        log.info("registry job %s ended", job_id)   # the task id alone does not say which job

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**kwargs):
        # prefork children must not share the parent's database connections
        with app.app_context():
            db.engine.dispose(close=False)

    made[app.config["BROKER_URL"]] = celery
    return celery


class Backend:
    def __init__(self, app, run):
        self.celery = celery_for(app, run)

    def enqueue(self, job_id):
        self.celery.send_task(TASK, args=[job_id], queue=QUEUE, retry=False)
