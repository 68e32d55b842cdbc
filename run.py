"""`python run.py` serves the app; `flask --app run <command>` runs CLI commands."""
import os

from app import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host=os.environ.get("REGISTRY_HOST", "127.0.0.1"), port=int(os.environ.get("REGISTRY_PORT", "5000")),
            debug=os.environ.get("REGISTRY_DEBUG") == "1")
