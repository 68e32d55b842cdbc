"""Small builders for test rows (by natural keys from the demo data, never raw SQL)."""
import itertools

from sqlalchemy import select

from models import Case, Institution, Operator

_seq = itertools.count(1)


def institution(db, key):
    from app.demo import INSTITUTIONS
    uscc = next(i["uscc"] for i in INSTITUTIONS if i["key"] == key)
    return db.session.scalar(select(Institution).where(Institution.uscc == uscc))


def user(db, username):
    return db.session.scalar(select(Operator).where(Operator.username == username))


def case(db, username, business_key="mortgage_first", node="draft", **values):
    owner = user(db, username)
    row = Case(number=f"TEST{next(_seq):08d}{owner.id:03d}", business_key=business_key, node=node,
               institution_id=owner.institution_id, applicant_id=owner.id, executor_id=owner.id, form_data={},
               **values)
    db.session.add(row)
    db.session.commit()
    return row
