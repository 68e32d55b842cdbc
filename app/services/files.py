"""Files that follow the database transaction (materials, registration documents).

A row and its file must agree: a file is first written under a temporary name beside its place
and renamed into place only once the session commits; a rollback (or a session closed without
commit) removes the temporary file. Deletions are only carried out after the commit, so a rolled
back delete keeps the file its row still points at. Work staged inside a SAVEPOINT that is rolled
back is undone with it.

    files.stage(db.session, path, data)        # instead of path.write_bytes(data)
    files.delete_after_commit(db.session, path)  # instead of path.unlink()
"""
import logging
import os
import uuid
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)
_KEY = "registry_pending_files"
TEMP_SUFFIX = ".tmp"


class _Op:
    __slots__ = ("kind", "path", "temp", "transaction")

    def __init__(self, kind, path, temp, transaction):
        self.kind, self.path, self.temp, self.transaction = kind, path, temp, transaction


def temp_name(path: Path) -> Path:
    """Hidden, unique and beside the final place, so the rename stays on one file system (atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")


def _transaction(session):
    if session.get_transaction() is None:
        session.begin()  # nothing done yet in this session: the file opens its transaction
    return session.get_nested_transaction() or session.get_transaction()


def _ops(session):
    return session.info.setdefault(_KEY, [])


def _real(session):
    return session() if isinstance(session, scoped_session) else session


def stage(session: Session, path: Path, data: bytes) -> None:
    """Write data to a temporary file now; it becomes `path` when the session commits."""
    session, path = _real(session), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_name(path)
    temp.write_bytes(data)
    _ops(session).append(_Op("write", path, temp, _transaction(session)))


def delete_after_commit(session: Session, path: Path) -> None:
    session = _real(session)
    _ops(session).append(_Op("delete", Path(path), None, _transaction(session)))


def pending(session: Session) -> list[Path]:
    """The final paths of the writes not yet committed (for tests and diagnostics)."""
    return [op.path for op in _real(session).info.get(_KEY, ()) if op.kind == "write"]


def _discard(ops):
    for op in ops:
        if op.temp is not None:
            op.temp.unlink(missing_ok=True)


def _within(transaction, ancestor):
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _apply(session):
    ops = session.info.pop(_KEY, [])
    written = {op.path for op in ops if op.kind == "write"}
    # Deletions first: a file replaced by the same content in this transaction is deleted and then
    # written again, never lost.
    for op in ops:
        if op.kind == "delete" and op.path not in written:
            try:
                op.path.unlink(missing_ok=True)
            except OSError:  # the rows are committed; a leftover file is harmless, a 500 is not
                log.exception("could not delete %s after commit", op.path)
    for op in ops:
        if op.kind == "write":
            try:
                os.replace(op.temp, op.path)
            except OSError:  # the rows are committed whatever happens here: place the other files, say so loudly
                log.exception("could not move %s into place after commit", op.path)


@event.listens_for(Session, "after_soft_rollback")
def _undo(session, previous_transaction):
    """A rollback of the whole transaction or of a SAVEPOINT: drop what was staged inside it."""
    ops = session.info.get(_KEY)
    if not ops:
        return
    dropped = [op for op in ops if _within(op.transaction, previous_transaction)]
    _discard(dropped)
    session.info[_KEY] = [op for op in ops if op not in dropped]


@event.listens_for(Session, "after_transaction_end")
def _closed(session, transaction):
    """The outermost transaction ended without a commit (e.g. the session was closed): nothing
    staged may stay behind."""
    if transaction.parent is None and session.info.get(_KEY):
        _discard(session.info.pop(_KEY))
