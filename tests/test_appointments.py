"""预约: bookings stay within each slot's capacity, belong to their user, and name only the user's own cases."""
import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select

from app.services import appointments, workdays
from models import Appointment, AppointmentSlot
from tests import factories


_days = itertools.count(30)


@pytest.fixture
def small_slot(db):
    day = dt.date.today() + dt.timedelta(days=next(_days))
    slot = AppointmentSlot(office="测试登记点", day=day, start=dt.time(8, 0), finish=dt.time(8, 30), capacity=1)
    db.session.add(slot)
    db.session.commit()
    return slot


def _booked(db, slot):
    return db.session.scalar(select(func.count(Appointment.id)).where(Appointment.slot_id == slot.id,
                                                                       Appointment.status == "booked"))


def test_the_last_place_goes_to_the_first_booking_only(client, db, small_slot):
    client.auth.login("public")
    first = client.post("/appointments/", data={"slot_id": small_slot.id, "name": "张三", "phone": "13912345678"},
                        follow_redirects=True).get_data(as_text=True)
    assert "预约成功" in first
    client.auth.login("bank_a_op")
    second = client.post("/appointments/", data={"slot_id": small_slot.id, "name": "陈晓东", "phone": "13912345679"},
                         follow_redirects=True).get_data(as_text=True)
    assert "该时段已约满" in second
    assert _booked(db, small_slot) == 1


def test_a_bad_mobile_number_is_refused_and_the_form_kept(client, db, small_slot):
    client.auth.login("public")
    page = client.post("/appointments/", data={"slot_id": small_slot.id, "name": "张三", "phone": "12345"},
                       follow_redirects=True).get_data(as_text=True)
    assert "手机号应为以13-19开头的11位数字" in page and 'value="12345"' in page
    assert _booked(db, small_slot) == 0


def test_only_the_booker_can_cancel(client, db, small_slot):
    public = factories.user(db, "public")
    booking = appointments.book(small_slot.id, public, "张三", "13912345678")
    db.session.commit()
    client.auth.login("bank_a_op")
    client.post(f"/appointments/{booking.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Appointment, booking.id).status == "booked"
    client.auth.login("public")
    client.post(f"/appointments/{booking.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Appointment, booking.id).status == "cancelled"


def test_a_booking_cannot_name_another_institutions_case(client, db, small_slot):
    other = factories.case(db, "bank_b_op", node="recorded")
    client.auth.login("bank_a_op")
    page = client.post("/appointments/", data={"slot_id": small_slot.id, "name": "陈晓东", "phone": "13912345679",
                                               "case_number": other.number}, follow_redirects=True)
    assert "在您的案卷中没有该编号" in page.get_data(as_text=True)
    assert _booked(db, small_slot) == 0


def test_opening_slots_twice_creates_them_once(db):
    start = dt.date.today() + dt.timedelta(days=60)
    first = appointments.generate_slots("新开登记点", start, 7)
    open_days = sum(workdays.is_working_day(start + dt.timedelta(n)) for n in range(7))
    assert first == open_days * len(appointments.PERIODS) > 0
    assert appointments.generate_slots("新开登记点", start, 7) == 0
    db.session.rollback()


def test_the_registry_adds_a_slot_through_the_form(client, db):
    client.auth.login("reviewer")
    day = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    client.post("/appointmentslotview/add", data={"office": "表单登记点", "day": day, "start": "09:00",
                                                  "finish": "10:00", "capacity": "3"})
    slot = db.session.scalar(select(AppointmentSlot).where(AppointmentSlot.office == "表单登记点"))
    assert slot is not None and slot.start == dt.time(9) and slot.capacity == 3
