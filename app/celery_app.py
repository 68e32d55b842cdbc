"""The Celery worker's entry point (README "Deployment"):

    REGISTRY_BROKER_URL=redis://redis-host:6379/1 celery -A app.celery_app worker --loglevel=info

The worker builds the same Flask app as the web instances (same settings: database, REGISTRY_DATA_DIR,
adapters) and runs the jobs they queue. Roles and permissions are left to the web instances.
"""
from app import create_app, jobs
from app.jobs import broker

flask_app = create_app({"FAB_UPDATE_PERMS": False})
if not flask_app.config.get("BROKER_URL"):
    raise SystemExit("REGISTRY_BROKER_URL is not set: a Celery worker needs the Redis broker the app instances use")
celery = broker.celery_for(flask_app, jobs.run)
