"""Named pieces of behaviour that rules files refer to. The loader refuses any name not registered here.

Rules say *which* check, guard or effect applies; code says *what* it does. No conditions are
evaluated from text.
"""
from collections import namedtuple

UNIT_CHECKS = {}    # name -> fn(unit, record, ctx) -> message or None
CASE_CHECKS = {}    # name -> fn(case, business) -> list of messages
GUARDS = {}         # name -> fn(case, business, transition) -> list of Problem
EFFECTS = {}        # name -> fn(case, business, user)
RECORDS = {}        # name -> RecordKind (how lookup finds units and the record they carry)

Problem = namedtuple("Problem", "severity message field", defaults=(None,))


def _register(table, name):
    def decorate(fn):
        table[name] = fn
        return fn
    return decorate


def unit_check(name):
    return _register(UNIT_CHECKS, name)


def case_check(name):
    return _register(CASE_CHECKS, name)


def guard(name):
    return _register(GUARDS, name)


def effect(name):
    return _register(EFFECTS, name)


def record_kind(name):
    return _register(RECORDS, name)


def load_all():
    """Import the modules that fill the tables (they register themselves on import)."""
    from . import checks, effects, guards, legal, lookup  # noqa: F401


def register_wide(fn):
    """Run a rules service over the whole register, not the caller's institution scope.

    Lookups and the engine must see every record a business depends on (the developer of a
    building, a buyer's purchase pre-notice, another bank's open case on the same unit); they
    authorise the caller themselves (record_held_by_applicant, the engine's institution check).
    """
    import functools

    from flask import g, has_request_context

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
