"""Helpers shared by the account tests: throwaway accounts (never the demo ones other tests use)."""
import itertools
import re

from sqlalchemy import select

from models import AuditLog, Operator, SmsMessage

PASSWORD = "Secret2026x"
_seq = itertools.count(1)


def new_account(db, role="InstitutionOperator", institution=None, password=PASSWORD, **values):
    """A fresh account with its own name and mobile number."""
    from app.extensions import appbuilder
    n = next(_seq)
    import os
    tag = f"{os.getpid() % 1000:03d}{n:03d}"
    username = values.pop("username", f"acct{tag}")
    user = appbuilder.sm.add_user(username, "测", "试", f"{username}@test.invalid", [appbuilder.sm.find_role(role)],
                                  password=password)
    user.institution_id = institution.id if institution else None
    user.phone = values.pop("phone", f"1590000{tag[-4:]}")
    for k, v in values.items():
        setattr(user, k, v)
    db.session.commit()
    return user


def reload(db, user):
    db.session.expire_all()
    return db.session.get(Operator, user.id)


def last_code(db, phone):
    msg = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
    return re.search(r"\d{6}", msg.body).group(0)


def audit_actions(db, username):
    db.session.expire_all()
    return [a.action for a in db.session.scalars(
        select(AuditLog).where(AuditLog.username == username).order_by(AuditLog.id))]
