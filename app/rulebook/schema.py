"""The shape of a business type's rules (pydantic). Names are resolved later by the loader."""
import datetime
from decimal import Decimal
from typing import Literal, Optional, Union

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field as PField, field_validator, model_validator

from . import messages as M   # validators raise ValueError(catalogue message); the loader words it


class Strict(BaseModel):
    # Unknown keys are typos more often than extensions: refuse them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class Text(Strict):
    zh: str
    en: Optional[str] = None

    def get(self, locale):
        return (self.en or self.zh) if locale == "en" else self.zh


class VocabItem(Strict):
    code: str
    name: Text


class LookupKey(Strict):
    field: str
    label: Text
    validator: Optional[str] = None


class Check(Strict):
    check: str
    severity: Literal["critical", "warning"] = "critical"
    # A role (RegistryReviewer) that may let the case go on despite the check's finding by acknowledging
    # it: until then the finding is a warning for the applicant and blocks that role's transitions.
    acknowledge: Optional[str] = None


FIELD_TYPES = ("text", "choice", "money", "date", "boolean", "integer", "id_number")


class Field(Strict):
    field: str
    label: Text
    type: Literal["text", "choice", "money", "date", "boolean", "integer", "id_number"] = "text"
    vocabulary: Optional[str] = None
    required: bool = False
    required_when: Optional[dict[str, str]] = None
    validator: Optional[str] = None
    after: Optional[str] = None
    prefill: Optional[str] = None    # attribute of the looked-up record copied in when the case starts
    help: Optional[Text] = None
    # The value a new case starts with (the business's most common one), so the clerk types only what
    # differs: a choice's code, true/false, "today" for a date, or a text. The loader checks it.
    default: Optional[Union[bool, str]] = None
    # Legal constraints of the field (app/rulebook/legal.py): the field belongs to the form only when the
    # other fields hold these values (一般抵押 has no 最高债权额), a date's range (earliest, years after
    # today, years after the `after` field), and the law they come from, named in their messages.
    only_when: Optional[dict[str, str]] = None
    earliest: Optional[str] = None
    years_ahead: Optional[int] = PField(None, ge=0, le=100)
    max_years_after: Optional[int] = PField(None, ge=1, le=100)
    basis: Optional[Text] = None

    @model_validator(mode="after")
    def _choice_needs_vocabulary(self):
        if self.type == "choice" and not self.vocabulary:
            raise ValueError(M.CHOICE_NEEDS_VOCABULARY())
        return self


class PartySpec(Strict):
    label: Text
    source: Literal["applicant_institution", "unit_holders", "unit_mortgagors", "unit_obligees",
                    "unit_obligors", "unit_debtors", "building_developer", "pre_notice_buyers",
                    "manual"] = "manual"
    min: int = 0
    max: Optional[int] = None
    validator: Optional[str] = None
    # The ID types (codes of the id_types vocabulary) the role accepts; unset: a person's types for a
    # person, an organisation's for an organisation (app/validators.py). Each number is checked by its type.
    id_types: Optional[list[str]] = None
    confirm: bool = False
    # Another role whose parties this one copies when the case starts (the debtor is, most often, the
    # mortgagor); the clerk changes it with one tick on the case page.
    same_as: Optional[str] = None
    # In a batch, each unit has its own parties in this role (the buyer of each unit), attached to it on
    # the case page or by the Excel rows; the register records each unit with its own.
    per_unit: bool = False

    def accepted_id_types(self):
        """The id_types the role accepts, None for the default by kind. An older rules version's
        `validator: uscc` meant a credit code alone; its `id_or_uscc` is the default (each type by its rule)."""
        if self.id_types:
            return tuple(self.id_types)
        return ("8",) if self.validator == "uscc" else None

    @model_validator(mode="after")
    def _min_not_above_max(self):
        if self.max is not None and self.max < self.min:
            raise ValueError(M.MAX_BELOW_MIN(max=self.max, min=self.min))
        return self


class Form(Strict):
    case: list[Field] = []
    per_unit: list[Field] = []
    parties: dict[str, PartySpec] = {}


class MaterialSpec(Strict):
    key: str
    name: Text
    description: Optional[Text] = None
    required: bool = True
    accept: list[str] = ["pdf", "jpg", "jpeg", "png"]
    max_files: int = PField(10, ge=1, le=100)
    # Words that, found in an uploaded file's name, file it under this material (one drop zone takes
    # every file); without them the words of the material's name are used.
    keywords: list[str] = []
    # The system makes this material itself: the application form printed from the case (申请书).
    generated: bool = False


class State(Strict):
    label: Text
    executor: Optional[str] = None      # "applicant" or a role name; None for final states
    initial: bool = False
    final: bool = False
    # Markers the views ask instead of naming states (app/rulebook/markers.py): fees may be paid here;
    # the applicant may still edit the form and materials; a case rejected here may restart from these states.
    payable: bool = False
    editable: bool = False
    reapply_to: list[str] = []


def _as_list(value):
    return [value] if isinstance(value, str) else value


class Wait(Strict):
    """Where a transition waits when only some of its guards block (e.g. the parties have not confirmed
    yet): the case goes to `state`, and the engine moves it on to the transition's target by itself
    once every guard passes."""
    state: str
    guards: list[str] = PField(min_length=1)


class Transition(Strict):
    event: str
    label: Text
    from_: list[str] = PField(alias="from")
    to: list[str]
    roles: list[str]
    guards: list[str] = []
    effects: list[str] = []
    requires_opinion: bool = False
    requires_reject_type: bool = False
    # Extra guards when the case goes to a given target, e.g. re-applying straight to pre-review
    # must pass what submitting passes, while re-applying to the draft need not.
    target_guards: dict[str, list[str]] = {}
    wait: Optional[Wait] = None

    _lists = field_validator("from_", "to", mode="before")(classmethod(lambda cls, v: _as_list(v)))


class Workflow(Strict):
    states: dict[str, State]
    transitions: list[Transition]

    def state(self, name):
        return self.states[name]

    @property
    def initial(self):
        return next(name for name, s in self.states.items() if s.initial)

    def transition(self, event, node=None):
        for t in self.transitions:
            if t.event == event and (node is None or node in t.from_):
                return t
        return None

    def waiting_in(self, node):
        """The transition a case at `node` is waiting to complete, or None."""
        return next((t for t in self.transitions if t.wait is not None and t.wait.state == node), None)


class TransitionOverride(Strict):
    """What one business changes in a shared workflow's transition (only the keys it names)."""
    label: Optional[Text] = None
    to: Optional[list[str]] = None
    roles: Optional[list[str]] = None
    guards: Optional[list[str]] = None
    effects: Optional[list[str]] = None
    requires_opinion: Optional[bool] = None
    target_guards: Optional[dict[str, list[str]]] = None
    # Where the transition waits, and for which guards (e.g. the parties' confirmations and their signatures
    # of the business's declaration), replacing the shared one.
    wait: Optional[Wait] = None
    # Overrides add to the shared transition; a guard or effect it leaves out must be named here, so
    # that dropping e.g. fees_paid is a decision, not a slip.
    remove: Optional[list[str]] = None

    _lists = field_validator("to", mode="before")(classmethod(lambda cls, v: _as_list(v) if v else v))


def _money(v):
    # Floats lose cents; the rules write money as quoted strings, to the fen.
    if isinstance(v, (float, int)) and not isinstance(v, bool):
        raise ValueError(M.AMOUNT_AS_TEXT())
    return v


def _cents(v):
    if v < 0 or v.as_tuple().exponent < -2:
        raise ValueError(M.AMOUNT_CENTS())
    return v


FEE_ONE_AMOUNT = M.Entry(_l("a fee line has either 'amount' or 'amounts' (not both, not neither)"))
FEE_COUNT_FIELD = M.Entry(_l("a fee counted per extra certificate needs 'count_field': the form field with the number of certificates"))

# A fee condition: attribute -> the value (or any of the values) it must have. The names are checked
# against the unit's and the case's attributes by app/rulebook/fees.py when the file loads.
Condition = dict[str, Union[str, bool, list[str]]]


class FeeAmount(Strict):
    """One base amount of a fee line and the units it applies to (e.g. 住宅 80, 非住宅 550)."""
    amount: Decimal
    when: Optional[Condition] = None
    name: Optional[Text] = None     # shown instead of the line's name, e.g. 登记费（住宅）

    _text = field_validator("amount", mode="before")(classmethod(lambda cls, v: _money(v)))
    _fen = field_validator("amount")(classmethod(lambda cls, v: _cents(v)))


class FeeReduction(Strict):
    """A reduced rate (e.g. half for a change of name only) with its legal basis."""
    name: Text
    rate: Decimal = PField(gt=0, lt=1)
    when: Condition = PField(min_length=1)
    basis: Text


class FeeExemption(Strict):
    """No fee (小微企业, 保障性住房, a correction of the registry's own error, 预告, 注销 ...), with its basis."""
    name: Text
    when: Condition = PField(min_length=1)
    basis: Text


class Fee(Strict):
    """A fee line as the charging standard writes it (发改价格规〔2016〕2559号)."""
    item: str
    name: Text
    # What one charge counts: `unit` (each 不动产单元 is one 件), `parcel` (one loan on the units of one
    # parcel is one 件: 在建建筑物 with 20 flats is one 件), `case` (the whole case is one 件), or
    # `extra_certificate` (工本费: each certificate of a 件 beyond the first).
    per: Literal["unit", "parcel", "case", "extra_certificate"] = "unit"
    amount: Optional[Decimal] = None
    amounts: list[FeeAmount] = []
    when: Optional[Condition] = None   # the line applies only to the 件 whose attributes match
    # extra_certificate: the integer form field holding how many certificates a 件 gets (1 when blank).
    count_field: Optional[str] = None
    basis: Optional[Text] = None
    reductions: list[FeeReduction] = []
    exemptions: list[FeeExemption] = []

    _text = field_validator("amount", mode="before")(classmethod(lambda cls, v: _money(v)))
    _fen = field_validator("amount")(classmethod(lambda cls, v: v if v is None else _cents(v)))

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.amount is None) == (not self.amounts):
            raise ValueError(FEE_ONE_AMOUNT())
        if self.per == "extra_certificate" and not self.count_field:
            raise ValueError(FEE_COUNT_FIELD())
        return self


class TimeLimit(Strict):
    working_days: int = PField(ge=1, le=30)


CATEGORIES = ("pre_notice", "mortgage", "cancellation", "transfer", "first")


class Declaration(Strict):
    """申明/承诺: the text the parties sign with their SMS confirmation code (app/services/declarations.py).
    The guard `declaration_signed` refuses submission until every party of `roles` has signed this text."""
    title: Text
    text: Text
    roles: list[str] = PField(min_length=1)


class ContractFiling(Strict):
    """网签备案合同号 check (app/services/housing.py): the case form field holding the filed contract number,
    and the party roles the housing authority's record must name (buyers, sellers)."""
    field: str
    # The number is asked per unit (form.per_unit: each flat of a batch has its own contract) rather than
    # once for the case (form.case).
    per_unit: bool = False
    buyer_role: str
    seller_role: Optional[str] = None


UTILITY_KINDS = ("water", "power", "gas", "network")


class BusinessSpec(Strict):
    """A rules file as written (workflow still a name)."""
    key: str = PField(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    name: Text
    category: str
    registration_type: str
    scenario: Text
    applicants: list[str]
    # The kinds of applicant that may start the business (app/rulebook/applicants.py): bank, developer,
    # agent (an institution of another kind), public (a person with a public account). None: any kind.
    applicant_kinds: Optional[list[Literal["bank", "developer", "agent", "public"]]] = PField(None, min_length=1)
    batch: bool = False
    lookup_record: str
    lookup: list[LookupKey] = PField(min_length=1)
    unit_checks: list[Check] = []
    case_checks: list[Check] = []
    form: Form = Form()
    materials: list[MaterialSpec] = []
    workflow: Union[str, Workflow]
    workflow_overrides: dict[str, TransitionOverride] = {}
    effect_options: dict[str, str] = {}
    fees: list[Fee] = []
    time_limit: TimeLimit
    process: Optional[Text] = None      # the manual's 业务办理流程 line, shown in the guide
    # Beihai steps a business may declare (each read by its guard or page, checked by the loader):
    declaration: Optional[Declaration] = None
    contract_filing: Optional[ContractFiling] = None
    # 水电气网过户: the utility accounts the holder may move after recording (app/services/utilities.py).
    utilities: list[Literal["water", "power", "gas", "network"]] = []
    source: Optional[str] = None        # which manual chapter the content comes from


class TaxBand(Strict):
    """One band of rules/tax/deed_tax.yaml: the first band whose conditions all hold applies."""
    first_home: Optional[bool] = None
    max_area: Optional[Decimal] = PField(None, ge=0)
    rate: Decimal = PField(ge=0, le=1)


class TaxTable(Strict):
    """rules/tax/deed_tax.yaml: the deed tax rates the sandbox bureau applies and where their inputs are."""
    price_field: str = "price"            # the per-unit field holding the declared price
    first_home_field: str = "first_home"  # the per-unit "first home" field
    buyer_role: str = "obligee"           # the party role that owes the deed tax
    bands: list[TaxBand] = PField(min_length=1)


class HolidaySpan(Strict):
    from_: datetime.date = PField(alias="from")
    to: datetime.date

    @model_validator(mode="after")
    def _ordered(self):
        if self.to < self.from_:
            raise ValueError(M.SPAN_BACKWARDS(start=self.from_.isoformat(), end=self.to.isoformat()))
        return self


class CalendarSpec(Strict):
    """rules/calendar/holidays.yaml: public holidays (days or spans) and the weekend days worked instead."""
    holidays: list[Union[datetime.date, HolidaySpan]] = []
    workdays: list[datetime.date] = []
