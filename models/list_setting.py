"""列设置: the columns a user chose to see in one list (views/exporting.py); the list and its export
both show these. One row per (user, list); no row: the list's own columns."""
from flask_appbuilder import Model
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class ListSetting(Model):
    __tablename__ = "list_setting"
    __table_args__ = (UniqueConstraint("user_id", "list_key", name="uq_list_setting_user_list"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    list_key: Mapped[str] = mapped_column(String(80), nullable=False)   # the view's name (CaseView, desk-todo)
    columns: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
