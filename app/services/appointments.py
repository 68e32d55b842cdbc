"""预约: booking a time at a registry office to collect the registration result, within each slot's capacity."""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app import validators
from app.extensions import db
from app.services import workdays
from models import Appointment, AppointmentSlot

# Default opening hours of a registry hall; slots are generated per office and working day.
PERIODS = ((dt.time(9), dt.time(10, 30)), (dt.time(10, 30), dt.time(12)), (dt.time(14), dt.time(15, 30)),
           (dt.time(15, 30), dt.time(17)))


class BookingError(ValueError):
    """A refused booking; str() is the user-facing message."""


def generate_slots(office: str, start: dt.date, days: int, capacity: int = 10) -> int:
    """Create the standard periods for each working day from start; existing slots are kept."""
    created = 0
    day = start
    for _n in range(days):
        if workdays.is_working_day(day):
            for begin, end in PERIODS:
                exists = db.session.scalar(select(AppointmentSlot.id).where(
                    AppointmentSlot.office == office, AppointmentSlot.day == day, AppointmentSlot.start == begin))
                if not exists:
                    db.session.add(AppointmentSlot(office=office, day=day, start=begin, finish=end, capacity=capacity))
                    created += 1
        day += dt.timedelta(days=1)
    db.session.flush()
    return created


def open_slots(today: dt.date = None, limit: int = 200):
    """Future slots with their booked count, soonest first."""
    today = today or dt.date.today()
    booked = (select(Appointment.slot_id, func.count(Appointment.id).label("n"))
              .where(Appointment.status == "booked").group_by(Appointment.slot_id).subquery())
    rows = db.session.execute(
        select(AppointmentSlot, func.coalesce(booked.c.n, 0))
        .outerjoin(booked, booked.c.slot_id == AppointmentSlot.id)
        .where(AppointmentSlot.day > today).order_by(AppointmentSlot.day, AppointmentSlot.office, AppointmentSlot.start)
        .limit(limit)).all()
    return [(slot, n) for slot, n in rows]


def book(slot_id: int, user, name: str, phone: str, case=None) -> Appointment:
    """Book one place; the capacity check and the insert happen under the slot's row lock."""
    phone = validators.mobile(phone)
    if not (name or "").strip():
        raise BookingError(_("Please enter the name of the person who will come"))
    # Touch the slot row first: on PostgreSQL this UPDATE locks it, on SQLite it takes the write lock,
    # so two concurrent bookings of the last place cannot both pass the count below.
    locked = db.session.execute(update(AppointmentSlot).where(AppointmentSlot.id == slot_id)
                                .values(capacity=AppointmentSlot.capacity))
    slot = db.session.get(AppointmentSlot, slot_id)
    if not locked.rowcount or slot is None or slot.day <= dt.date.today():
        raise BookingError(_("This time slot cannot be booked"))
    taken = db.session.scalar(select(func.count(Appointment.id)).where(
        Appointment.slot_id == slot_id, Appointment.status == "booked"))
    if taken >= slot.capacity:
        raise BookingError(_("This time slot is full; please choose another"))
    if case is not None and db.session.scalar(select(Appointment.id).where(
            Appointment.case_id == case.id, Appointment.status == "booked")):
        raise BookingError(_("This case already has an appointment; cancel it first to choose another time"))
    appointment = Appointment(slot_id=slot_id, user_id=user.id, name=name.strip(), phone=phone,
                              case_id=case.id if case else None,
                              business_key=case.business_key if case else None, status="booked")
    db.session.add(appointment)
    db.session.flush()
    return appointment


def cancel(appointment_id: int, user) -> Appointment:
    appointment = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id,
                                                              Appointment.user_id == user.id))
    if appointment is None or appointment.status != "booked":
        raise BookingError(_("No such booked appointment"))
    appointment.status = "cancelled"
    return appointment
