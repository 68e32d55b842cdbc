"""字典管理 and 参数设置: the data dictionary (code lists shown as words, offered in forms) and the
runtime settings an operator changes in the console. Both are read per request (app/dictionary.py,
app/settings.py); rows here override the seeds (rules/vocabularies.yaml, the models' enumerations)
and the environment defaults (config.py)."""
import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Audited, utcnow


class DictType(Audited, Model):
    """One code list, named by its code ("id_types", "institution_status"...)."""
    __tablename__ = "dict_type"
    __table_args__ = (UniqueConstraint("code", name="uq_dict_type_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # "vocabularies" or "enumeration"
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class DictItem(Audited, Model):
    __tablename__ = "dict_item"
    __table_args__ = (UniqueConstraint("type_id", "code", name="uq_dict_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_id: Mapped[int] = mapped_column(Integer, ForeignKey("dict_type.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    label_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    label_en: Mapped[str] = mapped_column(String(200), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    color: Mapped[str] = mapped_column(String(20), nullable=False, default="default")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class DictVersion(Model):
    """Each save of a dictionary type: its items as they became (JSON), who, when and why."""
    __tablename__ = "dict_version"
    __table_args__ = (UniqueConstraint("type_code", "version", name="uq_dict_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("ab_user.id"))
    author_name: Mapped[str] = mapped_column(String(128), nullable=False, default="system")
    note: Mapped[Optional[str]] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Setting(Audited, Model):
    """One runtime setting changed in the console; absent means the config.py (environment) default."""
    __tablename__ = "registry_setting"
    __table_args__ = (UniqueConstraint("name", name="uq_registry_setting_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    value: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    updated_by: Mapped[Optional[str]] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)
