"""The documents an institution sends with its registration (法人注册: business licence, letter of
authorisation). An anonymous visitor sends them, so they get the case materials' content check
(magic bytes, no programs) and a size cap; they are stored under generated names with the type the
content really has, written with the transaction (app/services/files.py), and removed
REJECTED_FILES_DAYS after the registration was rejected (`flask --app run purge-rejected-files`,
and after each rejection in the review).
"""
import datetime as dt
import shutil
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.services import files, materials
from models import Institution
from models.base import utcnow

ACCEPT = ("pdf", "jpg", "jpeg", "png")
LABEL = _l("registration documents")


def folder(institution_id) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "registrations" / str(int(institution_id))


def listing(institution_id) -> list[str]:
    """The stored documents (never a temporary file still waiting for its commit)."""
    where = folder(institution_id)
    return sorted(p.name for p in where.iterdir() if p.is_file() and not p.name.startswith(".")) \
        if where.is_dir() else []


def check(uploads) -> list[tuple[str, bytes]]:
    """(detected extension, content) of each upload; raises materials.MaterialError (a sentence)
    for the first one refused, before anything is stored."""
    max_bytes = current_app.config["REGISTRATION_MAX_MB"] * 1024 * 1024
    checked = []
    for upload in uploads:
        data = upload.stream.read(max_bytes + 1)  # never more than the cap into memory
        checked.append((materials.check_upload(upload.filename, data, ACCEPT, str(LABEL), max_bytes), data))
    return checked


def store(institution_id, checked) -> None:
    """Stage the checked documents; they appear when the registration is committed."""
    for ext, data in checked:
        files.stage(db.session, folder(institution_id) / f"{uuid.uuid4().hex}.{ext}", data)


def purge_rejected(now: dt.datetime | None = None) -> list[int]:
    """Delete the documents of registrations rejected more than REJECTED_FILES_DAYS ago (the rejection
    is the institution's last change); returns the institution ids cleaned, each audited."""
    cutoff = (now or utcnow()) - dt.timedelta(days=current_app.config["REJECTED_FILES_DAYS"])
    rejected = db.session.execute(select(Institution.id, Institution.name).where(
        Institution.status == "rejected", Institution.updated_at <= cutoff)
        .execution_options(skip_scope=True)).all()
    cleaned = [(iid, name) for iid, name in rejected if folder(iid).is_dir()]
    for iid, name in cleaned:
        audit.record(db.session, "purge_registration_files", "Institution", iid, institution_id=iid,
                     summary=f"{name}: {len(listing(iid))}")
    db.session.commit()
    for iid, _name in cleaned:  # after the audit entries are committed: a failed commit deletes nothing
        shutil.rmtree(folder(iid), ignore_errors=True)
    return [iid for iid, _name in cleaned]
