"""预约打印登记结果: users book a time at a registry office; the registry keeps the slots."""
import datetime as dt

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from wtforms import TimeField
from wtforms.validators import DataRequired

from app import validators
from app.extensions import db
from app.services import appointments
from models import Appointment, AppointmentSlot, Case

from .base import RegistryModelView, posted_ids


class AppointmentSlotView(RegistryModelView):
    """The registry's slots; the list action opens the standard periods for the next two weeks."""

    datamodel = SQLAInterface(AppointmentSlot)
    list_columns = ["office", "day", "start", "finish", "capacity"]
    search_columns = ["office", "day"]
    add_columns = edit_columns = ["office", "day", "start", "finish", "capacity"]
    base_order = ("day", "asc")
    # FAB has no form field for TIME columns: declare them.
    add_form_extra_fields = edit_form_extra_fields = {
        "start": TimeField(_l("From"), validators=[DataRequired()]),
        "finish": TimeField(_l("To"), validators=[DataRequired()])}
    label_columns = {**RegistryModelView.label_columns, "office": _l("Registry office"), "day": _l("Date"),
                     "start": _l("From"), "finish": _l("To"), "capacity": _l("Capacity")}

    @action("open_two_weeks", _l("Open the next two weeks"), None, "fa-calendar", single=False, multiple=True)
    def open_two_weeks(self, items):
        offices = {slot.office for slot in (items if isinstance(items, list) else [items])}
        created = sum(appointments.generate_slots(office, dt.date.today() + dt.timedelta(days=1), 14)
                      for office in offices)
        db.session.commit()
        flash(_("%(n)d slots opened", n=created), "success")
        return redirect(url_for(".list"))


class PublicServiceAppointmentView(BaseView):
    route_base = "/appointments"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        form = request.form
        if request.method == "POST":
            try:
                case = _case(form.get("case_number"))
                slot_id = next(iter(posted_ids([form.get("slot_id")])), 0)
                appointments.book(slot_id, g.user, form.get("name"), form.get("phone"), case)
                db.session.commit()
                flash(_("Appointment booked"), "success")
                return redirect(url_for(".index"))
            except (appointments.BookingError, validators.ValidationFailed) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        mine = db.session.scalars(select(Appointment).where(Appointment.user_id == g.user.id)
                                  .order_by(Appointment.id.desc()).limit(20)).all()
        return self.render_template("appointments/index.html", slots=appointments.open_slots(), mine=mine,
                                    form=form, me=g.user)

    @expose("/<int:appointment_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, appointment_id):
        try:
            appointments.cancel(appointment_id, g.user)
            db.session.commit()
            flash(_("Appointment cancelled"), "success")
        except appointments.BookingError as exc:
            flash(str(exc), "danger")
        return redirect(url_for(".index"))


def _case(number):
    """The case to collect (optional): institution users reach their own (scope), others the cases they
    proved with a party's ID number (as for paying), never any case by its number alone."""
    from .payment import case_within_reach
    number = (number or "").strip()
    if not number:
        return None
    case = db.session.scalar(select(Case).where(or_(Case.number == number, Case.official_number == number)))
    if case is None or case_within_reach(case.id) is None:
        raise appointments.BookingError(_("No case with that number among your cases"))
    return case


def register(appbuilder):
    appbuilder.add_view(PublicServiceAppointmentView, "Appointments", label=_l("Appointments"),
                        icon="fa-calendar-check-o", category="Query")
    appbuilder.add_view(AppointmentSlotView, "AppointmentSlots", label=_l("Appointment slots"), icon="fa-calendar",
                        category="System")
