"""The shape of a business type's rules (pydantic). Names are resolved later by the loader."""
from decimal import Decimal
from typing import Literal, Optional, Union

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

    @model_validator(mode="after")
    def _choice_needs_vocabulary(self):
        if self.type == "choice" and not self.vocabulary:
            raise ValueError(M.CHOICE_NEEDS_VOCABULARY())
        return self


class PartySpec(Strict):
    label: Text
    source: Literal["applicant_institution", "unit_holders", "unit_mortgagors", "unit_obligees",
                    "unit_obligors", "unit_debtors", "building_developer", "manual"] = "manual"
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

    _lists = field_validator("to", mode="before")(classmethod(lambda cls, v: _as_list(v) if v else v))


class Fee(Strict):
    item: str
    name: Text
    amount: Decimal
    when: Optional[dict[str, str]] = None   # unit attributes that must match, e.g. {use: residential}

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_text(cls, v):
        # Floats lose cents; the rules write money as strings.
        if isinstance(v, (float, int)):
            raise ValueError(M.AMOUNT_AS_TEXT())
        return v

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, v):
        if v < 0 or v.as_tuple().exponent < -2:
            raise ValueError(M.AMOUNT_CENTS())
        return v


class TimeLimit(Strict):
    working_days: int = PField(ge=1, le=30)


CATEGORIES = ("pre_notice", "mortgage", "cancellation", "transfer", "first")


class BusinessSpec(Strict):
    """A rules file as written (workflow still a name)."""
    key: str = PField(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    name: Text
    category: str
    registration_type: str
    scenario: Text
    applicants: list[str]
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
    source: Optional[str] = None        # which manual chapter the content comes from
