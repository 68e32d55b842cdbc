"""Serve the app as a deployment would run it (settings from REGISTRY_* variables, no test configuration beyond
TESTING, no CSRF, no permission sync), on a free port; print {"port", "rules"} as one JSON line, then serve.

tests/test_adapters_sandbox_off.py starts it in a subprocess: the session's app has REGISTRY_SANDBOX on, and
an app is built once per process (Flask-AppBuilder's singleton), so an app without the sandbox needs its own."""
import json
import os

from werkzeug.serving import make_server

from app import create_app

app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "FAB_UPDATE_PERMS": False,
                  "SQLALCHEMY_DATABASE_URI": os.environ["REGISTRY_DATABASE_URL"]})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(json.dumps({"port": server.server_port,
                  "rules": [[rule.rule, sorted(rule.methods)] for rule in app.url_map.iter_rules()]}), flush=True)
server.serve_forever()
