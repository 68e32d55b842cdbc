"""Named pieces of behaviour that rules files refer to. The loader refuses any name not registered here.

Rules say *which* check, guard or effect applies; code says *what* it does. No conditions are
evaluated from text.
"""
import functools
from collections import namedtuple
from dataclasses import dataclass

from flask import g, has_request_context

UNIT_CHECKS = {}    # name -> fn(unit, record, ctx) -> message or None
CASE_CHECKS = {}    # name -> fn(case, business) -> list of messages
GUARDS = {}         # name -> fn(case, business, transition) -> list of Problem
EFFECTS = {}        # name -> fn(case, business, user)
RECORDS = {}        # name -> RecordKind (how lookup finds units and the record they carry)
EFFECT_SPECS = {}   # name -> EffectSpec: the options an effect takes and what it needs
GUARD_NEEDS = {}    # name -> fn(context) -> list of Need: what a guard needs of the business
GUARD_SECTIONS = {}  # name -> the business key the guard reads (declaration, contract_filing): both or neither

Problem = namedtuple("Problem", "severity message field", defaults=(None,))


class WorkflowError(Exception):
    """A transition or start was refused; .problems are user-facing, translated messages.

    Defined here, below the effects that raise it and the engine that reports it."""

    def __init__(self, problems):
        self.problems = [str(p.message if isinstance(p, Problem) else p) for p in problems]
        super().__init__("; ".join(self.problems))


def _register(table, name):
    def decorate(fn):
        table[name] = fn
        return fn
    return decorate


def unit_check(name):
    return _register(UNIT_CHECKS, name)


def case_check(name):
    return _register(CASE_CHECKS, name)


def guard(name, *, needs=None, section=None):
    """Register a guard; needs(context) lists the fields and roles it reads (checked by the loader);
    section: the business key it reads, which a business using the guard must declare (and vice versa)."""
    def decorate(fn):
        GUARDS[name] = fn
        if needs is not None:
            GUARD_NEEDS[name] = needs
        if section is not None:
            GUARD_SECTIONS[name] = section
        return fn
    return decorate


@dataclass(frozen=True)
class Option:
    """One effect_options key an effect reads: a party role, a per-unit field or a vocabulary code.
    A role option's value (given or default) is a role the form must declare (the effect acts on
    its parties); a field or code option is checked when given."""
    kind: str                 # "role" | "field" | "code"
    default: str = None
    vocabulary: str = None    # for "code"


@dataclass(frozen=True)
class EffectSpec:
    options: dict             # effect_options key -> Option
    roles: tuple = ()         # party roles the effect always needs
    stage: str = None         # "record": writes the register record; "issue": issues what "record" wrote


@dataclass(frozen=True)
class Need:
    """What a guard needs of a business: kind "field" (per-unit) or "role", the name, and where the
    requirement comes from (shown in the message)."""
    kind: str
    name: str
    source: str


def effect(name, *, options=None, roles=(), stage=None):
    """Register an effect with what the loader checks: its typed options, the party roles it needs
    and its stage (an "issue" effect must follow a "record" effect)."""
    def decorate(fn):
        EFFECTS[name] = fn
        EFFECT_SPECS[name] = EffectSpec(dict(options or {}), tuple(roles), stage)
        return fn
    return decorate


def record_kind(name):
    return _register(RECORDS, name)


def register_wide(fn):
    """Run a rules service over the whole register, not the caller's institution scope.

    Lookups and the engine must see every record a business depends on (the developer of a
    building, a buyer's purchase pre-notice, another bank's open case on the same unit); they
    authorise the caller themselves (record_held_by_applicant, the engine's institution check).
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not has_request_context() or g.get("institution_scope") is None:
            return fn(*args, **kwargs)
        saved = g.institution_scope
        g.institution_scope = None
        try:
            return fn(*args, **kwargs)
        finally:
            g.institution_scope = saved
    return wrapper
