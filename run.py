"""`python run.py` serves the app; `flask --app run <command>` runs CLI commands."""
import os
import sys

from app import create_app
from app.secrets_check import InsecureSecrets

try:
    app = create_app()
except InsecureSecrets as exc:
    sys.exit(str(exc))  # the message and a non-zero exit status, for `python run.py` and `flask --app run`

if __name__ == "__main__":
    app.run(host=os.environ.get("REGISTRY_HOST", "127.0.0.1"), port=int(os.environ.get("REGISTRY_PORT", "5000")),
            debug=os.environ.get("REGISTRY_DEBUG") == "1")
