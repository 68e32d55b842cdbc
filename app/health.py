"""GET /healthz for load balancers and orchestrators: 200 {"status": "ok"} when the database answers
SELECT 1, else 503. Open to anyone (it says nothing but up or down), never cached."""
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        status, code = "ok", 200
    except Exception as exc:  # any failure to reach the database means: take this instance out
        log.warning("health check failed: %s", exc)
        status, code = "unavailable", 503
    finally:
        db.session.rollback()
    response = jsonify(status=status)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response
