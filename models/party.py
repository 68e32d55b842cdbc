"""Parties: the people and organisations that hold, mortgage or owe (权利人/义务人/债务人)."""
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Audited, Timestamps


class Party(Audited, Timestamps, Model):
    __tablename__ = "party"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number", name="uq_party_identity"),
        # One number, one party, whatever type it was declared under (the old code lists disagreed).
        Index("uq_party_id_number", "id_number", unique=True),
        CheckConstraint("kind IN ('person','organisation')", name="ck_party_kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="person")
    name: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    id_type: Mapped[str] = mapped_column(String(8), nullable=False, default="1")
    id_number: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    address: Mapped[Optional[str]] = mapped_column(String(200))

    def __str__(self):
        return f"{self.name}（{self.id_number}）"
