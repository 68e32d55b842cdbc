"""Versions of each business type's rules. Files in rules/ are imported as version 1; edits add versions.

A version is the whole resolved business: its own text (content) plus the shared parts it was checked
and is run with (its workflow, the vocabularies, the tax table, the calendar), named in `parts` by
their content address in rule_blob, where each distinct part is stored once."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import utcnow


class RuleVersion(Model):
    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("business_key", "version", name="uq_rule_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_key: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    author_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    author_name: Mapped[str] = mapped_column(String(128), nullable=False, default="system")
    note: Mapped[Optional[str]] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # {part name: digest}: "rules/vocabularies.yaml", "workflows/<name>.yaml", "tax/deed_tax.yaml",
    # "calendar/<name>.yaml", and "file": the business file's text this version knows of (see rulebook).
    parts: Mapped[Optional[dict]] = mapped_column(JSON)


class RuleBlob(Model):
    """One shared part of the rules, addressed by the SHA-256 of its kind and canonical JSON."""
    __tablename__ = "rule_blob"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
