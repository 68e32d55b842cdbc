"""可转现列表: the mortgage pre-notices (预抵押, 预购商品房抵押权预告登记) of the signed-in bank whose building now has
its first registration (首次登记: a right recorded on a unit of the building), so that they can be converted into
mortgages (Beihai manual 3.1.4.2.2). The bank sees only its own (the scope layer, app/scope.py: PreNotice is
confined to its institution). The business that converts is found in the rules: the one whose workflow records
`convert_pre_notice`."""
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from app import rulebook
from app.extensions import db
from app.rulebook import lookup
from models import PreNotice, Right, Unit

MORTGAGE_KINDS = ("3", "4")


def business():
    """The conversion business, or None when no rules file converts pre-notices."""
    return next((b for b in rulebook.all_businesses()
                 if any("convert_pre_notice" in t.effects for t in b.workflow.transitions)), None)


def _query():
    unit, sibling = aliased(Unit), aliased(Unit)
    first_registered = exists().where(Right.unit_id == sibling.id, sibling.building_id == unit.building_id)
    return (select(PreNotice).join(unit, unit.id == PreNotice.unit_id)
            .where(PreNotice.status == "current", PreNotice.kind.in_(MORTGAGE_KINDS), first_registered))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(_query().subquery()))


def page(number: int, size: int) -> list:
    return list(db.session.scalars(_query().order_by(PreNotice.id).offset((number - 1) * size).limit(size)))


def chosen(ids) -> list:
    """The listed pre-notices among the ids (anything else, another bank's included, is not found)."""
    return list(db.session.scalars(_query().where(PreNotice.id.in_(ids)).order_by(PreNotice.id))) if ids else []


def eligibility(conversion, pre_notice, institution_id):
    """(ok, reasons) of the unit for the conversion business's own checks."""
    ok, reasons, _warnings = lookup.evaluate(conversion, pre_notice.unit, pre_notice, institution_id)
    return ok, reasons
