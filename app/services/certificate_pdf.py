"""The certificate (不动产权证书) and the proof (不动产登记证明) in the national layout, from the register.

不动产权证书: a cover (number, authority, date, QR code and 核验码); the rights page (权利人, 共有情况,
坐落, 不动产单元号, 权利类型, 权利性质, 用途, 面积, 使用期限, 权利其他状况) with the 附记; the 附图
pages: the 宗地图 and, for a building unit, the 分户图, both drawn from the register's geometry
(app/services/plans.py).
不动产登记证明 (mortgage, pre-notice): a cover as above, then 证明权利或事项, 权利人, 义务人, 坐落,
不动产单元号, 其他 (the amount in figures and 大写, the term, 最高额 where it applies) and 附记.

Every value is read from the register rows behind the document (the ownership, mortgage or
pre-notice with that number), not from what was typed on a case.
"""
import datetime as dt
from io import BytesIO

import segno
from flask import current_app
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Image, PageBreak, Paragraph, Spacer
from sqlalchemy import select

from app import dictionary
from app.extensions import db
from app.services import plans, printing
from app.services.money import format_money, to_chinese_upper
from models import Case, Mortgage, PreNotice, Right


def _register(model, column, value):
    return db.session.scalar(select(model).where(column == value).execution_options(skip_scope=True))


def _day(value) -> str:
    return f"{value:%Y年%m月%d日}" if value else ""


def _period(start, end) -> str:
    if start and end:
        return _("%(start)s to %(end)s", start=_day(start), end=_day(end))
    return "—"


def _money(amount) -> str:
    return f"{format_money(amount)}元（{to_chinese_upper(amount)}）" if amount is not None else "—"


def _kind_of_right(unit) -> str:
    """权利类型 from the unit code (GB/T 37346): char 13 the land's owner, char 20 the fixture."""
    land = _("State-owned construction land use right") if unit.unit_code[12] == "G" else \
        _("Collective construction land use right")
    return f"{land}/{_('House ownership')}" if unit.unit_code[19] == "F" else land


def certificate_rows(cert) -> list[tuple[str, str]]:
    """The rights page of a 不动产权证书: (label, value) in the national order."""
    unit = cert.unit
    parcel = unit.building.parcel
    right = _register(Right, Right.certificate_number, cert.number)
    holders = [h for h in right.holders] if right else []
    names = "、".join(h.party.name for h in holders) or cert.holder_names
    mode = dictionary.label("share_modes", right.share_mode) if right else ""
    if right and right.share_mode == "2":
        mode += "：" + "，".join(f"{h.party.name} {_share(h.share)}" for h in holders)
    use = "/".join(v for v in (parcel.land_use, dictionary.label("unit_uses", unit.use)) if v)
    area = _("Shared parcel area %(land)s ㎡ / building area %(house)s ㎡",
             land=format_money(parcel.area), house=format_money(unit.area))
    term = _("Land use right: %(period)s", period=_period(parcel.term_start, parcel.term_end)) \
        if parcel.term_end else "—"
    other = _("Building %(building)s, room %(room)s, floor %(floor)s of %(floors)s",
              building=unit.building.number, room=unit.room, floor=unit.floor, floors=unit.building.floors)
    return [(_("Right holder"), names), (_("Co-ownership situation"), mode or "—"), (_("Location"), unit.location),
            (_("Unit code"), unit.unit_code), (_("Type of right"), _kind_of_right(unit)),
            (_("Nature of right"), parcel.right_nature or "—"), (_("Use"), use or "—"), (_("Area"), area),
            (_("Term of use"), term), (_("Other conditions of the right"), other)]


def _share(share) -> str:
    return f"{(share * 100).normalize():f}%"


def _case_note(case_id) -> str:
    case = db.session.get(Case, case_id, execution_options={"skip_scope": True}) if case_id else None
    return _("Case number: %(number)s", number=case.official_number or case.number) if case else ""


def certificate_notes(cert) -> list[str]:
    right = _register(Right, Right.certificate_number, cert.number)
    notes = [n for n in (_case_note(cert.case_id),) if n]
    if right:
        notes.append(_("Registered on %(day)s", day=_day(right.registered_at)))
    if cert.status != "valid":
        notes.append(_("This certificate was revoked"))
    return notes


def proof_record(cert):
    return _register(Mortgage, Mortgage.proof_number, cert.number) or \
        _register(PreNotice, PreNotice.proof_number, cert.number)


def proof_rows(cert) -> list[tuple[str, str]]:
    """The body of a 不动产登记证明: (label, value), from the mortgage or pre-notice with that number."""
    unit = cert.unit
    record = proof_record(cert)
    ownership = db.session.scalar(select(Right.certificate_number).where(
        Right.unit_id == unit.id, Right.status == "current").execution_options(skip_scope=True))
    if isinstance(record, Mortgage):
        maximum = record.kind == "2"
        what = _("Maximum-amount mortgage right") if maximum else _("Mortgage right")
        holders = record.mortgagee_name
        obligors = "、".join(p.party.name for p in record.parties if p.role == "mortgagor")
        other = [(_("Certificate number"), ownership or "—"),
                 (_("Mortgage kind"), dictionary.label("mortgage_kinds", record.kind))]
        if maximum:
            other.append((_("Maximum amount of claims"), _money(record.maximum_amount)))
            other.append((_("Period in which the claims are fixed"), _period(record.term_start, record.term_end)))
        else:
            other.append((_("Secured amount"), _money(record.secured_amount)))
            other.append((_("Term of the debt"), _period(record.term_start, record.term_end)))
        other.append((_("Rank"), str(record.rank)))
        if record.transfer_restricted:
            other.append((_("Transfer of the property"), _("Restricted by agreement")))
    elif isinstance(record, PreNotice):
        what = dictionary.label("pre_notice_kinds", record.kind)
        holders = "、".join(p.party.name for p in record.parties if p.role == "obligee")
        obligors = "、".join(p.party.name for p in record.parties if p.role == "obligor")
        label = _("Secured amount") if record.kind in ("3", "4") else _("Purchase price")
        other = [(_("Certificate number"), ownership or "—"), (label, _money(record.amount))]
    else:  # a proof whose register entry is gone: what the document itself recorded
        what, holders, obligors, other = _("Registration proof"), cert.holder_names, "—", []
    rows = [(_("Right or matter proved"), what), (_("Right holder (applicant)"), holders),
            (_("Obligor"), obligors or "—"), (_("Location"), unit.location), (_("Unit code"), unit.unit_code)]
    return rows, other


def proof_notes(cert) -> list[str]:
    record = proof_record(cert)
    notes = [n for n in (_case_note(cert.case_id),) if n]
    if isinstance(record, Mortgage):
        debtors = "、".join(p.party.name for p in record.parties if p.role == "debtor")
        if debtors:
            notes.append(_("Debtor: %(names)s", names=debtors))
        if record.scope:
            notes.append(_("Scope of guarantee: %(scope)s", scope=record.scope))
        notes.append(_("Registered on %(day)s", day=_day(record.registered_at)))
    elif isinstance(record, PreNotice):
        notes.append(_("Registered on %(day)s", day=_day(record.registered_at)))
    if cert.status != "valid":
        notes.append(_("This proof has been revoked"))
    return notes


# ---- the pages -----------------------------------------------------------------------------------

def _cover(cert, code, link):
    title = _("Real Estate Certificate") if cert.kind == "certificate" else _("Real Estate Registration Proof")
    qr = BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=5, border=2)
    qr.seek(0)
    issued = cert.issued_at.date() if isinstance(cert.issued_at, dt.datetime) else cert.issued_at
    return [
        Spacer(1, 30 * mm),
        printing.para(_("People's Republic of China"), 16, "center"), Spacer(1, 6 * mm),
        Paragraph(title, printing.style(30, align="center", leading=40)), Spacer(1, 14 * mm),
        printing.para(cert.number, 14, "center"), Spacer(1, 18 * mm),
        printing.para(_("Registration authority (seal): %(name)s", name=current_app.config["CERTIFICATE_AUTHORITY"]),
                      11, "center"),
        Spacer(1, 3 * mm), printing.para(_day(issued), 11, "center"), Spacer(1, 14 * mm),
        Image(qr, width=42 * mm, height=42 * mm),
        printing.para(_("Verification code: %(code)s", code=code), 12, "center"), Spacer(1, 2 * mm),
        printing.para(_("Scan the code or enter the number and verification code at %(link)s to verify.", link=link),
                      8.5, "center"),
        PageBreak(),
    ]


def _fields_table(rows, title):
    table = printing.grid([(label, value) for label, value in rows], (0.22, 0.78),
                          shaded_cells=[(0, i) for i in range(len(rows))], size=10)
    return [Paragraph(title, printing.style(16, align="center", leading=22)), Spacer(1, 4 * mm), table]


def _notes_table(notes):
    text = "\n".join(notes) or "—"
    return [Spacer(1, 4 * mm), printing.grid([(_("Notes"),), (text,)], (1.0,), header_rows=(0,), size=10)]


def certificate_document(cert, code, link) -> bytes:
    unit = cert.unit
    story = _cover(cert, code, link)
    story += _fields_table(certificate_rows(cert), _("Rights of the certificate"))
    story += _notes_table(certificate_notes(cert))
    story += [PageBreak(), Paragraph(_("Attached plans"), printing.style(16, align="center", leading=22)),
              Spacer(1, 3 * mm), plans.parcel_plan(unit.building.parcel)]
    if unit.unit_code[19] == "F":
        story += [PageBreak(), plans.unit_plan(unit)]
    return printing.build(story, title=cert.number)


def proof_document(cert, code, link) -> bytes:
    rows, other = proof_rows(cert)
    story = _cover(cert, code, link)
    body = rows + [(_("Other particulars"), "\n".join(f"{label}：{value}" for label, value in other) or "—")]
    story += _fields_table(body, _("Registration proof"))
    story += _notes_table(proof_notes(cert))
    return printing.build(story, title=cert.number)
