"""Who signed in, who is signed in, and the departments an institution's data is divided by.

LoginLog (登录日志): one row per sign-in attempt, whatever its outcome (app/login_log.py).
UserSession (在线用户): one row per signed-in browser session (app/sessions.py); the cookie carries
a random token, the table only its hash, so a copied table cannot be replayed as sessions.
Department (部门): an institution's tree (总行 › 分行 › 支行); operators belong to one, cases keep the
filer's (app/scope.py confines operators whose data scope is narrower than the institution).
"""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Audited, InstitutionOwned, utcnow


class LoginLog(Model):
    __tablename__ = "login_log"
    __table_args__ = (Index("ix_login_log_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    username: Mapped[str] = mapped_column(String(128), nullable=False)  # as typed (no account: still logged)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)  # no foreign key: the log outlives accounts
    method: Mapped[str] = mapped_column(String(16), nullable=False)  # password, ca, ldap, api
    ip: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    user_agent: Mapped[Optional[str]] = mapped_column(String(300))
    result: Mapped[str] = mapped_column(String(8), nullable=False, index=True)  # success, failure
    reason: Mapped[str] = mapped_column(String(32), nullable=False)  # app/login_log.py REASONS
    detail: Mapped[Optional[str]] = mapped_column(String(300))  # the words the person was shown

    account = relationship("Operator", primaryjoin="foreign(LoginLog.user_id) == Operator.id", viewonly=True,
                           lazy="selectin")

    @property
    def person(self):
        return self.account.get_full_name() if self.account is not None else ""

    @property
    def locked(self):
        """Is the account locked right now (not: was it when this attempt was made)?"""
        until = self.account.locked_until if self.account is not None else None
        return until is not None and until > utcnow()


class UserSession(Model):
    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_open", "ended_at", "last_seen_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    institution_id: Mapped[Optional[int]] = mapped_column(Integer)
    method: Mapped[Optional[str]] = mapped_column(String(16))
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    user_agent: Mapped[Optional[str]] = mapped_column(String(300))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ended_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    end_reason: Mapped[Optional[str]] = mapped_column(String(16))  # logout, forced

    user = relationship("Operator", lazy="joined")
    institution = relationship("Institution", primaryjoin="foreign(UserSession.institution_id) == Institution.id",
                               viewonly=True, lazy="joined")


class Department(Audited, InstitutionOwned, Model):
    """A node of an institution's tree. path is the chain of ids from the root ("/1/4/9/"), kept by
    app/departments.py, so "this department and below" is one LIKE on an index, not a recursive query."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    parent_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("department.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), nullable=False, default="/", index=True)
    parent = relationship("Department", remote_side=[id], lazy="joined", join_depth=1)

    @property
    def full_name(self):
        """总行 › 分行 › 支行 (the parents as far as loaded: two levels up, enough for the tree's depth)."""
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))

    def __str__(self):
        return self.full_name
