"""The embedded backend: without a broker, each app process runs its jobs in one worker thread of its own,
on the same job table (so the pages cannot tell the difference). Jobs still queued when a process starts
(the previous one stopped first) are taken up by the first worker thread that starts; the conditional
claim in app.jobs.run keeps two processes from running the same job."""
import logging
import queue
import threading

from sqlalchemy import select

from app.extensions import db
from models import Job
from models.job import QUEUED

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


class LocalWorker:
    def __init__(self, app, run):
        self.app, self.run = app, run
        self.queue = queue.Queue()
        self.thread = None

    def enqueue(self, job_id):
        with _LOCK:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="registry-jobs", daemon=True)
                self.thread.start()
        self.queue.put(job_id)

    def _loop(self):
        with self.app.app_context():
            left = db.session.scalars(select(Job.id).where(Job.state == QUEUED).order_by(Job.id)).all()
            db.session.remove()
        for job_id in left:
            self.queue.put(job_id)
        while True:
            job_id = self.queue.get()
            try:
                with self.app.app_context():
                    self.run(job_id)
            except Exception:  # a broken job must not stop the thread for the jobs behind it
                log.exception("local job %s", job_id)


def worker_for(app, run):
    """The app's worker thread (one per process), running `run(job_id)` for each job."""
    with _LOCK:
        if "registry_local_jobs" not in app.extensions:
            app.extensions["registry_local_jobs"] = LocalWorker(app, run)
        return app.extensions["registry_local_jobs"]
