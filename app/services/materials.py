"""Uploaded materials (申请材料): type, size and content checks, duplicate detection, storage.

The accepted extensions come from the business's rules (MaterialSpec.accept); the file's first
bytes must match that extension, so a renamed executable or a Word file called .pdf is refused.
Files live under DATA_DIR/materials/<case id>/ named by their sha256, never by the user's name,
and are written and deleted with the transaction (app/services/files.py).
The same content check guards every other upload (check_upload), e.g. institution registration.
"""
import hashlib
import io
import os
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.services import files
from models import Material

# Magic numbers of the types the manuals ask for (PDF, scans as JPEG/PNG/TIFF, OFD is a zip).
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "bmp": (b"BM",),
    "ofd": (b"PK\x03\x04",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
                 "tif": "image/tiff", "tiff": "image/tiff", "bmp": "image/bmp", "ofd": "application/ofd"}
# Executables and scripts are named in the message so the operator understands the refusal.
EXECUTABLE = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
DEFAULT_MAX_MB = 20


class MaterialError(ValueError):
    """A refused upload or change; str() is the user-facing message."""


def extension(filename: str) -> str:
    return os.path.splitext(filename or "")[1].lower().lstrip(".")


def sniff(data: bytes) -> str | None:
    """The extension the content really has, or None when it is none we accept."""
    for ext, magics in SIGNATURES.items():
        if any(data.startswith(m) for m in magics):
            return ext
    return None


def check_file(spec, filename: str, data: bytes, max_bytes: int | None = None) -> str:
    """Refuse a file that does not fit the rules' MaterialSpec; returns the normalised extension."""
    from flask_babel import get_locale
    name = spec.name.get(str(get_locale() or "zh")[:2]) or spec.name.get("zh")
    max_bytes = max_bytes or current_app.config.get("MATERIAL_MAX_MB", DEFAULT_MAX_MB) * 1024 * 1024
    return check_upload(filename, data, spec.accept, name, max_bytes)


def check_upload(filename: str, data: bytes, accept, label: str, max_bytes: int) -> str:
    """Any uploaded document: an accepted extension, not empty, within max_bytes, not a program, and
    content whose magic bytes are of the named type. Returns the type the content really has
    (normalised: jpeg -> jpg, tiff -> tif), which is the extension to store it under."""
    accept = [a.lower().lstrip(".") for a in accept]
    ext = extension(filename)
    if ext not in accept:
        raise MaterialError(_("%(file)s: type .%(ext)s is not accepted for %(material)s (accepted: %(accept)s)",
                              file=filename, ext=ext or "?", material=label, accept=", ".join(accept)))
    if not data:
        raise MaterialError(_("%(file)s is empty", file=filename))
    if len(data) > max_bytes:
        raise MaterialError(_("%(file)s is larger than %(mb)d MB", file=filename, mb=max_bytes // (1024 * 1024)))
    if data.startswith(EXECUTABLE):
        raise MaterialError(_("%(file)s is a program, not a document; it was refused", file=filename))
    real = sniff(data)
    same = {"jpg": "jpeg", "jpeg": "jpeg", "tif": "tiff", "tiff": "tiff"}
    if real is None or same.get(real, real) != same.get(ext, ext):
        raise MaterialError(_("%(file)s: its content is not a .%(ext)s file", file=filename, ext=ext))
    return {"jpeg": "jpg", "tiff": "tif"}.get(real, real)


def count_pages(ext: str, data: bytes) -> int:
    if ext != "pdf":
        return 1
    try:
        from pypdf import PdfReader
        return max(1, len(PdfReader(io.BytesIO(data)).pages))
    except Exception:  # a damaged PDF still counts as one sheet; the reviewer sees it anyway
        return 1


def storage_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "materials"


def add(case, spec, filename: str, data: bytes, user_id: int | None, *, editable: bool = True,
        replacing: Material | None = None) -> Material:
    """Check and store one file as a material of the case (not committed: the caller commits)."""
    if not editable:
        raise MaterialError(_("Materials can only be changed while the case is a draft"))
    ext = check_file(spec, filename, data)
    digest = hashlib.sha256(data).hexdigest()
    for m in case.materials:
        if m.sha256 == digest and m is not replacing:
            raise MaterialError(_("%(file)s is the same file as %(other)s already uploaded", file=filename,
                                  other=m.filename))
    existing = [m for m in case.materials if m.material_key == spec.key and m is not replacing]
    if spec.max_files and len(existing) >= spec.max_files:
        raise MaterialError(_("At most %(n)d file(s) may be uploaded for this material", n=spec.max_files))
    path = storage_root() / str(case.id) / f"{digest}.{ext}"
    files.stage(db.session, path, data)  # in place once the transaction commits; gone if it rolls back
    if replacing is not None:
        remove(case, replacing, editable=True)
    material = Material(case=case, material_key=spec.key, filename=os.path.basename(filename)[:255],
                        content_type=CONTENT_TYPES.get(ext, "application/octet-stream"), size=len(data),
                        sha256=digest, storage_path=str(path.relative_to(storage_root())),
                        pages=count_pages(ext, data), uploaded_by=user_id)
    db.session.add(material)
    return material


def remove(case, material: Material, *, editable: bool = True) -> None:
    if not editable:
        raise MaterialError(_("Materials can only be changed while the case is a draft"))
    path = file_path(material)
    case.materials.remove(material)
    db.session.delete(material)
    db.session.flush()
    # Files are stored by hash per case: only delete it when no other row still points at it, and
    # only once the deletion is committed (a rolled back delete keeps the row's file).
    if not any(m.storage_path == material.storage_path for m in case.materials):
        files.delete_after_commit(db.session, path)


def file_path(material: Material) -> Path:
    root = storage_root().resolve()
    path = (root / material.storage_path).resolve()
    if root not in path.parents:  # a tampered storage_path must never leave the storage folder
        raise MaterialError(_("Material file not found"))
    return path
