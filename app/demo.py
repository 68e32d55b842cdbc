"""Demo data: three institutions, an account per role, three parcels with 336 units and their rights.

Every identifier is valid (GB 11643 ID numbers, GB 32100 credit codes, GB/T 37346 unit codes) and
seeding twice changes nothing: each row is looked up by its natural key first.
"""
import datetime as dt
import json
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from app import roles
from app.extensions import appbuilder, db
from app.services import appointments
from app.validators import USCC_ALPHABET, USCC_ID_TYPE, id_card_check_char, uscc_check_char
from models import (Building, Counter, Institution, Mortgage, MortgageParty, Operator, Parcel, Party, PreNotice,
                    PreNoticeParty, Right, RightHolder, Unit)

DEMO_PASSWORD = "Demo@2026"
OFFICES = ("长沙市不动产登记中心（市民之家）", "岳麓区不动产登记分中心")
DIVISION = "430104"  # 长沙市岳麓区
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"]


def make_uscc(body17: str) -> str:
    assert all(c in USCC_ALPHABET for c in body17)
    return body17 + uscc_check_char(body17)


def make_id_card(birth: dt.date, seq: int) -> str:
    body = f"{DIVISION}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + id_card_check_char(body)


INSTITUTIONS = [
    dict(key="bank_a", name="中国建设银行长沙岳麓支行", kind="bank", uscc=make_uscc("91430104MA4L00001"),
         legal_person="赵建国", contact_name="钱敏", contact_phone="13807310001", address="长沙市岳麓区麓山南路1号"),
    dict(key="bank_b", name="中国工商银行长沙河西支行", kind="bank", uscc=make_uscc("91430104MA4L00002"),
         legal_person="孙立新", contact_name="李娟", contact_phone="13807310002", address="长沙市岳麓区枫林一路8号"),
    dict(key="developer", name="湖南麓谷置业有限公司", kind="developer", uscc=make_uscc("91430104MA4L00003"),
         legal_person="周海涛", contact_name="吴静", contact_phone="13807310003", address="长沙市岳麓区桐梓坡路99号"),
]

# The demo public account's ID number: add 张三 with it as a buyer and the confirmation code goes to
# this account's mobile (app/services/party_confirmation.py).
PUBLIC_ID_NUMBER = make_id_card(dt.date(1990, 6, 15), 9001)

# (username, 姓名 as written, role, institution key); the README lists these logins.
ACCOUNTS = [
    ("admin", "系统管理员", roles.ADMIN, None),
    ("reviewer", "审核员", roles.REVIEWER, None),
    ("configurator", "配置员", roles.CONFIGURATOR, None),
    ("public", "张三", roles.PUBLIC, None),
    ("bank_a_admin", "钱敏", roles.INSTITUTION_ADMIN, "bank_a"),
    ("bank_a_op", "陈晓东", roles.OPERATOR, "bank_a"),
    ("bank_a_op2", "林雪", roles.OPERATOR, "bank_a"),
    ("bank_b_admin", "李娟", roles.INSTITUTION_ADMIN, "bank_b"),
    ("bank_b_op", "何明", roles.OPERATOR, "bank_b"),
    ("dev_admin", "吴静", roles.INSTITUTION_ADMIN, "developer"),
    ("dev_op", "高磊", roles.OPERATOR, "developer"),
]

# (parcel seq, location, buildings [(number, floors, rooms per floor, pre-sale?)])
PARCELS = [
    (1, "长沙市岳麓区麓山南路288号麓山名苑", [("0001", 18, 4, False), ("0002", 18, 4, False), ("0003", 18, 4, False)]),
    (2, "长沙市岳麓区枫林三路66号枫林雅苑", [("0001", 12, 4, False)]),
    (3, "长沙市岳麓区桐梓坡路199号麓谷新城", [("0001", 12, 4, True)]),
]


def _get_or_create(model, lookup, **values):
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
        db.session.flush()
    return row


def _person(seq: int) -> dict:
    birth = dt.date(1960 + seq % 35, 1 + seq % 12, 1 + seq % 28)
    return dict(kind="person", name=SURNAMES[seq % len(SURNAMES)] + GIVEN[(seq // 3) % len(GIVEN)], id_type="1",
                id_number=make_id_card(birth, seq), phone=f"139{seq:08d}")


def _number(kind: str, year: int, seq: int) -> str:
    width = current_app.config["CERTIFICATE_SEQUENCE_WIDTH"]
    return f"湘({year})长沙市{kind}第{seq:0{width}d}号"


def seed() -> dict:
    insts = {i["key"]: _get_or_create(Institution, {"uscc": i["uscc"]}, status="approved",
                                      **{k: v for k, v in i.items() if k not in ("key", "uscc")}) for i in INSTITUTIONS}
    _seed_accounts(insts)
    _seed_register(insts)
    _seed_geometry()
    for office in OFFICES:
        appointments.generate_slots(office, dt.date.today() + dt.timedelta(days=1), 14)
    db.session.commit()
    return {
        "institutions": db.session.scalar(select(func.count(Institution.id))),
        "accounts": db.session.scalar(select(func.count(Operator.id))),
        "units": db.session.scalar(select(func.count(Unit.id))),
        "rights": db.session.scalar(select(func.count(Right.id))),
        "mortgages": db.session.scalar(select(func.count(Mortgage.id))),
        "pre_notices": db.session.scalar(select(func.count(PreNotice.id))),
    }


def _seed_accounts(insts):
    sm = appbuilder.sm
    for i, (username, name, role_name, inst_key) in enumerate(ACCOUNTS):
        if sm.find_user(username=username):
            continue
        user = sm.add_user(username, name, "", f"{username}@demo.registry.cn", [sm.find_role(role_name)],
                           password=DEMO_PASSWORD)
        user.institution_id = insts[inst_key].id if inst_key else None
        user.phone = f"1370731{i:04d}"
        if role_name == roles.PUBLIC:  # a buyer new to the register confirms through this verified account
            user.id_number = PUBLIC_ID_NUMBER
        db.session.flush()


def _seed_register(insts):
    if db.session.scalar(select(func.count(Parcel.id))):
        return  # the register is seeded as a whole or not at all
    holder_seq, cert_seq, proof_seq = 0, 12345, 1234
    for parcel_seq, location, buildings in PARCELS:
        code = f"{DIVISION}001001GB{parcel_seq:05d}"
        parcel = Parcel(code=code, location=location, area=Decimal("12000.00") * parcel_seq, land_use="城镇住宅用地")
        db.session.add(parcel)
        db.session.flush()
        for number, floors, per_floor, presale in buildings:
            building = Building(parcel_id=parcel.id, number=number, name=f"{location}{int(number)}栋", floors=floors,
                                survey_number=f"4301040{parcel_seq:02d}{int(number):03d}",
                                developer_id=insts["developer"].id if presale else None)
            db.session.add(building)
            db.session.flush()
            for floor in range(1, floors + 1):
                for r in range(1, per_floor + 1):
                    room = f"{floor}{r:02d}"
                    seq = (floor - 1) * per_floor + r
                    unit = Unit(building_id=building.id, unit_code=f"{code}F{int(number):04d}{seq:04d}",
                                survey_number=f"{building.survey_number}{seq:02d}" if presale else None,
                                location=f"{location}{int(number)}栋{room}室", room=room, floor=floor,
                                area=Decimal("89.50") + Decimal(r * 12), use="residential",
                                sealed=(not presale and seq in (7, 8)), objected=(not presale and seq == 9),
                                # the last two unsold units have a filed pre-sale contract (预售备案) only
                                presale_filed=(presale and seq > floors * per_floor - 2))
                    db.session.add(unit)
                    db.session.flush()
                    holder_seq += 1
                    if presale:
                        proof_seq = _seed_presale(unit, seq, holder_seq, proof_seq, insts)
                    else:
                        cert_seq, proof_seq = _seed_owned(unit, seq, holder_seq, cert_seq, proof_seq, insts)
    for name, value in (("certificate_number:2024", cert_seq), ("proof_number:2024", proof_seq)):
        _get_or_create(Counter, {"name": name}, value=value)


# Parcels side by side along a road (x east, y north, metres): each parcel's width × depth is its area,
# so neighbours share a boundary on the 宗地图. Units: a floor's rooms side by side, 10 m deep.
PARCEL_FRAMES = {1: (0, 120, 100), 2: (120, 200, 120), 3: (320, 300, 120)}  # seq: (x, width, depth)
UNIT_DEPTH = Decimal("10")


def _rectangle(x, y, w, h) -> str:
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in ring]]},
                      separators=(",", ":"))


def _seed_geometry():
    """Boundaries and outlines for the demo register, filled in wherever they are missing (a database
    seeded before the geometry columns existed gets them on the next seed)."""
    for seq, (x, w, h) in PARCEL_FRAMES.items():
        parcel = db.session.scalar(select(Parcel).where(Parcel.code == f"{DIVISION}001001GB{seq:05d}"))
        if parcel is None:
            continue
        if parcel.geometry is None:
            parcel.geometry = _rectangle(x, 0, w, h)
        parcel.right_nature = parcel.right_nature or "出让/市场化商品房"
        parcel.term_start = parcel.term_start or dt.date(2004, 1, 1)
        parcel.term_end = parcel.term_end or dt.date(2073, 12, 31)
        for building in parcel.buildings:
            units = db.session.scalars(select(Unit).where(Unit.building_id == building.id, Unit.geometry.is_(None))
                                       .order_by(Unit.floor, Unit.room)).all()
            by_floor = {}
            for unit in units:
                by_floor.setdefault(unit.floor, []).append(unit)
            for floor_units in by_floor.values():
                x0 = Decimal(0)
                for unit in sorted(floor_units, key=lambda u: u.room):
                    width = (unit.area / UNIT_DEPTH).quantize(Decimal("0.01"))
                    unit.geometry = _rectangle(x0, 0, width, UNIT_DEPTH)
                    x0 += width
    db.session.flush()


def _seed_owned(unit, seq, holder_seq, cert_seq, proof_seq, insts):
    cert_seq += 1
    owner = _get_or_create(Party, {"id_type": "1", "id_number": _person(holder_seq)["id_number"]},
                           **{k: v for k, v in _person(holder_seq).items() if k not in ("id_type", "id_number")})
    joint = seq % 10 == 0
    right = Right(unit_id=unit.id, certificate_number=_number("不动产权", 2024, cert_seq), share_mode="2" if joint else "0")
    right.holders.append(RightHolder(party_id=owner.id, share=Decimal("0.5") if joint else Decimal("1")))
    if joint:
        spouse = _get_or_create(Party, {"id_type": "1", "id_number": _person(holder_seq + 5000)["id_number"]},
                                **{k: v for k, v in _person(holder_seq + 5000).items() if k not in ("id_type", "id_number")})
        right.holders.append(RightHolder(party_id=spouse.id, share=Decimal("0.5")))
    db.session.add(right)
    if seq % 6 == 1:  # every sixth unit carries a mortgage, alternating between the banks
        proof_seq += 1
        bank = insts["bank_a"] if seq % 12 == 1 else insts["bank_b"]
        amount = Decimal("600000.00") + Decimal(seq * 1000)
        mortgage = Mortgage(unit_id=unit.id, institution_id=bank.id, mortgagee_name=bank.name, kind="1",
                            secured_amount=amount, collateral_value=amount * Decimal("1.5"),
                            term_start=dt.date(2024, 3, 1), term_end=dt.date(2044, 2, 28), rank=1,
                            scope="主债权及利息、违约金、损害赔偿金和实现抵押权的费用",
                            proof_number=_number("不动产证明", 2024, proof_seq))
        mortgage.parties.append(MortgageParty(party_id=owner.id, role="mortgagor"))
        mortgage.parties.append(MortgageParty(party_id=owner.id, role="debtor"))
        db.session.add(mortgage)
        unit.mortgaged = True
    return cert_seq, proof_seq


def _seed_presale(unit, seq, holder_seq, proof_seq, insts):
    if seq > 24:
        return proof_seq  # the rest of the pre-sale building is still unsold
    buyer = _get_or_create(Party, {"id_type": "1", "id_number": _person(holder_seq)["id_number"]},
                           **{k: v for k, v in _person(holder_seq).items() if k not in ("id_type", "id_number")})
    developer = insts["developer"]
    seller = _get_or_create(Party, {"id_type": USCC_ID_TYPE, "id_number": developer.uscc}, kind="organisation",
                            name=developer.name, phone=developer.contact_phone)
    proof_seq += 1
    purchase = PreNotice(unit_id=unit.id, kind="1", proof_number=_number("不动产证明", 2024, proof_seq),
                         amount=Decimal("980000.00") + Decimal(seq * 5000))
    purchase.parties.append(PreNoticeParty(party_id=buyer.id, role="obligee"))
    purchase.parties.append(PreNoticeParty(party_id=seller.id, role="obligor"))
    db.session.add(purchase)
    unit.pre_noticed = True
    if seq <= 8:  # the first buyers also have a mortgage pre-notice with bank A
        proof_seq += 1
        bank = insts["bank_a"]
        mortgage_notice = PreNotice(unit_id=unit.id, kind="3", institution_id=bank.id,
                                    proof_number=_number("不动产证明", 2024, proof_seq),
                                    amount=Decimal("600000.00"))
        mortgage_notice.parties.append(PreNoticeParty(party_id=bank_party(bank).id, role="obligee"))
        mortgage_notice.parties.append(PreNoticeParty(party_id=buyer.id, role="obligor"))
        db.session.add(mortgage_notice)
    return proof_seq


def bank_party(bank):
    return _get_or_create(Party, {"id_type": USCC_ID_TYPE, "id_number": bank.uscc}, kind="organisation", name=bank.name,
                          phone=bank.contact_phone)
