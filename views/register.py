"""CRUD over the register the registry maintains: parcels, buildings, units, parties, rights."""
from flask_appbuilder.models.sqla.filters import FilterContains, FilterEndsWith, FilterStartsWith, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app import validators
from app.services import plans, search
from app import rulebook
from app.vocab import (MORTGAGE_STATUS, PARTY_KIND, PRE_NOTICE_STATUS, RIGHT_STATUS, UNIT_USE, code_formatter,
                       code_select, formatter, select)
from models import Building, Mortgage, Parcel, Party, PreNotice, Right, Unit

from .base import LABELS, RegistryModelView


class IndexedContains(FilterContains):
    def apply(self, query, value):
        return query.filter(search.contains(self.model, self.column_name, value))


def _narrowed(query, flt, value):
    """The index finds the rows containing the term; the filter's own ILIKE then keeps those that start
    (end) with it."""
    clause = search.narrowing(flt.model, flt.column_name, value)
    return query if clause is None else query.filter(clause)


class IndexedStartsWith(FilterStartsWith):
    def apply(self, query, value):
        return _narrowed(super().apply(query, value), self, value)


class IndexedEndsWith(FilterEndsWith):
    def apply(self, query, value):
        return _narrowed(super().apply(query, value), self, value)


INDEXED_FILTERS = {FilterContains: IndexedContains, FilterStartsWith: IndexedStartsWith,
                   FilterEndsWith: IndexedEndsWith}


class IndexedFilterConverter(SQLAFilterConverter):
    """The list's search filters on a column the search index covers (app/services/search.py) go through
    the index; the filters keep their places, so the `_flt_<n>_<column>` links stay the same."""
    def convert(self, col_name):
        filters = super().convert(col_name)
        if filters and search.indexed(self.datamodel.obj, col_name):
            return [INDEXED_FILTERS.get(type(f), type(f))(col_name, self.datamodel) for f in filters]
        return filters


class IndexedInterface(SQLAInterface):
    filter_converter_class = IndexedFilterConverter


# The geometry field of the parcel and unit forms (app/services/plans.py checks and draws it).
GEOMETRY_HELP = _l('GeoJSON Polygon in metres on the local plane, e.g. {"type": "Polygon", "coordinates": '
                   '[[[0,0],[12,0],[12,10],[0,10],[0,0]]]}; the parcel and unit plans are drawn from it')
GEOMETRY_LABELS = {**LABELS, "geometry": _l("Geometry (GeoJSON)"), "right_nature": _l("Nature of right"),
                   "term_start": _l("Land use from"), "term_end": _l("Land use until")}


class ParcelView(RegistryModelView):
    datamodel = SQLAInterface(Parcel)
    list_columns = ["code", "location", "area", "land_use"]
    search_columns = ["code", "location", "land_use"]
    add_columns = edit_columns = ["code", "location", "area", "land_use", "right_nature", "term_start", "term_end",
                                  "geometry"]
    validators_columns = {"area": [validators.wtforms("parcel_area")], "geometry": [plans.form_validator]}
    description_columns = {"geometry": GEOMETRY_HELP}
    label_columns = GEOMETRY_LABELS

    def pre_add(self, item):
        validators.date_range(item.term_start, item.term_end)  # the land-use term printed on certificates

    def pre_update(self, item):
        validators.date_range(item.term_start, item.term_end)


class BuildingView(RegistryModelView):
    datamodel = SQLAInterface(Building)
    list_columns = ["name", "number", "parcel", "floors", "survey_number"]
    search_columns = ["name", "number", "parcel", "survey_number"]
    add_columns = edit_columns = ["parcel", "number", "name", "floors", "survey_number"]
    validators_columns = {"survey_number": [validators.wtforms("survey_number")],
                          "floors": [validators.wtforms("building_floors")]}


class UnitView(RegistryModelView):
    datamodel = IndexedInterface(Unit)
    list_columns = ["unit_code", "location", "room", "floor", "area", "use", "mortgaged", "pre_noticed", "sealed"]
    search_columns = ["unit_code", "location", "room", "building", "use", "mortgaged", "pre_noticed", "sealed"]
    add_columns = edit_columns = ["building", "unit_code", "survey_number", "location", "room", "floor", "area",
                                  "use", "mortgaged", "pre_noticed", "presale_filed", "sealed", "objected", "geometry"]
    description_columns = {"geometry": GEOMETRY_HELP}
    label_columns = GEOMETRY_LABELS
    validators_columns = {"geometry": [plans.form_validator], "unit_code": [validators.wtforms("unit_code")],
                          "survey_number": [validators.wtforms("survey_number")],
                          "area": [validators.wtforms("unit_area")], "floor": [validators.wtforms("unit_floor")]}
    add_form_extra_fields = edit_form_extra_fields = {"use": select(LABELS["use"], UNIT_USE)}
    formatters_columns = {"use": formatter(UNIT_USE)}


class PartyView(RegistryModelView):
    datamodel = IndexedInterface(Party)
    list_columns = ["name", "kind", "id_type", "id_number", "phone"]
    search_columns = ["name", "id_number", "phone"]
    add_columns = edit_columns = ["kind", "name", "id_type", "id_number", "phone", "address"]
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": select(LABELS["kind"], PARTY_KIND), "id_type": code_select(LABELS["id_type"], "id_types")}
    validators_columns = {"phone": [validators.wtforms("mobile")]}
    formatters_columns = {"kind": formatter(PARTY_KIND), "id_type": code_formatter("id_types")}

    def pre_add(self, item):
        _check_identity(item)

    def pre_update(self, item):
        _check_identity(item)


def _check_identity(party):
    """The number must be one of its declared type (each type by its own rule), the type one of the kind's."""
    party.id_number = validators.party_id(party.kind, party.id_type, party.id_number,
                                          label=lambda code: rulebook.label("id_types", code))


class RightView(RegistryModelView):
    datamodel = SQLAInterface(Right)
    list_columns = ["certificate_number", "unit", "share_mode", "status", "registered_at"]
    search_columns = ["certificate_number", "status", "registered_at"]
    add_columns = edit_columns = ["unit", "certificate_number", "share_mode", "status"]
    validators_columns = {"certificate_number": [validators.wtforms("certificate_number")]}
    add_form_extra_fields = edit_form_extra_fields = {
        "share_mode": code_select(LABELS["share_mode"], "share_modes"), "status": select(LABELS["status"], RIGHT_STATUS)}
    formatters_columns = {"share_mode": code_formatter("share_modes"), "status": formatter(RIGHT_STATUS)}


class MortgageView(RegistryModelView):
    datamodel = SQLAInterface(Mortgage)
    list_columns = ["proof_number", "unit", "mortgagee_name", "kind", "secured_amount", "maximum_amount",
                    "term_start", "term_end", "rank", "status"]
    search_columns = ["proof_number", "mortgagee_name", "kind", "status", "term_end"]
    add_columns = edit_columns = ["unit", "institution", "mortgagee_name", "kind", "secured_amount",
                                  "maximum_amount", "collateral_value", "term_start", "term_end", "rank", "scope",
                                  "transfer_restricted", "proof_number", "status"]
    show_columns = add_columns + ["registered_at", "cancelled_at"]
    validators_columns = {"proof_number": [validators.wtforms("proof_number")]}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": code_select(LABELS["kind"], "mortgage_kinds"), "status": select(LABELS["status"], MORTGAGE_STATUS)}
    formatters_columns = {"kind": code_formatter("mortgage_kinds"), "status": formatter(MORTGAGE_STATUS)}

    def pre_add(self, item):
        _check_mortgage(item)

    def pre_update(self, item):
        _check_mortgage(item)


def _check_mortgage(m):
    validators.date_range(m.term_start, m.term_end)
    for amount in (m.secured_amount, m.maximum_amount, m.collateral_value):
        if amount is not None:
            validators.money(amount)


class PreNoticeView(RegistryModelView):
    datamodel = SQLAInterface(PreNotice)
    list_columns = ["proof_number", "unit", "kind", "amount", "status", "registered_at"]
    search_columns = ["proof_number", "kind", "status"]
    add_columns = edit_columns = ["unit", "institution", "kind", "proof_number", "amount", "status"]
    validators_columns = {"proof_number": [validators.wtforms("proof_number")]}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": code_select(LABELS["kind"], "pre_notice_kinds"), "status": select(LABELS["status"], PRE_NOTICE_STATUS)}
    formatters_columns = {"kind": code_formatter("pre_notice_kinds"), "status": formatter(PRE_NOTICE_STATUS)}
