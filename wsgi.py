"""The application object for a WSGI server: `gunicorn -c gunicorn.conf.py wsgi:app` (`make serve`).
Every setting comes from REGISTRY_* environment variables (config.py); see README, Deployment."""
from app import create_app

app = create_app()
