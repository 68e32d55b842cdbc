"""Workflow markers: what a view may ask a workflow instead of naming its states.

A state says whether fees may be paid there (`payable`), whether the applicant may still edit the
case (`editable`), whether the case is finished (`final`) and, for a state a rejection leads to,
which states a re-applying applicant may restart from (`reapply_to`). The re-apply transitions are
then the transitions leaving such a state towards those targets; a business narrows them by
overriding the transition's `to` (app/rulebook/loader.py).
"""
from flask_babel import lazy_gettext as _l

from .messages import Entry, join
from .source import problem

PAYABLE_FINAL = Entry(_l("state '%(name)s' is final and cannot be payable"))
EDITABLE_NOT_APPLICANT = Entry(_l("state '%(name)s' is editable, so its executor must be the applicant"))
REAPPLY_UNKNOWN = Entry(_l("unknown state '%(name)s' in reapply_to (states: %(known)s)"))
REAPPLY_NO_TRANSITION = Entry(_l("no transition leads from '%(state)s' to a state named in reapply_to (%(names)s)"))
NO_PAYABLE_STATE = Entry(_l("the transition '%(event)s' needs the fees paid, but no state before it is payable"))
NO_EDITABLE_STATE = Entry(_l("the initial state '%(name)s' must be editable (the applicant fills the case in there)"))


def payable_states(workflow) -> list:
    return [name for name, s in workflow.states.items() if s.payable]


def final_states(workflow) -> list:
    return [name for name, s in workflow.states.items() if s.final]


def is_editable(workflow, node) -> bool:
    state = workflow.states.get(node)
    return bool(state is not None and state.editable)


def is_payable(workflow, node) -> bool:
    state = workflow.states.get(node)
    return bool(state is not None and state.payable)


def is_final(workflow, node) -> bool:
    state = workflow.states.get(node)
    return bool(state is not None and state.final)


def rejected_states(workflow) -> list:
    """States a case may re-apply from (those that declare reapply_to)."""
    return [name for name, s in workflow.states.items() if s.reapply_to]


def reapply_targets(workflow, node, transition) -> list:
    """The targets of a transition from `node` that the state allows a re-apply to (empty: not a re-apply)."""
    state = workflow.states.get(node)
    if state is None or not state.reapply_to or node not in transition.from_:
        return []
    return [n for n in transition.to if n in state.reapply_to]


def reapply_transitions(workflow, node) -> list:
    return [t for t in workflow.transitions if reapply_targets(workflow, node, t)]


def problems(wf, located, base):
    """The loader's checks of the markers of a complete workflow (names already known to be valid)."""
    out = []
    states = wf.states
    for name, s in states.items():
        path = base + ("states", name)
        if s.payable and s.final:
            out.append(problem(located, path + ("payable",), PAYABLE_FINAL(name=name)))
        if s.editable and s.executor != "applicant":
            out.append(problem(located, path + ("editable",), EDITABLE_NOT_APPLICANT(name=name)))
        unknown = [target for target in s.reapply_to if target not in states]
        for target in unknown:
            out.append(problem(located, path + ("reapply_to",), REAPPLY_UNKNOWN(name=target, known=join(states))))
        # A business may narrow the re-apply transition's targets, so one reachable target is enough.
        if s.reapply_to and not unknown and not any(name in t.from_ and set(t.to) & set(s.reapply_to)
                                                    for t in wf.transitions):
            out.append(problem(located, path + ("reapply_to",), REAPPLY_NO_TRANSITION(state=name, names=join(s.reapply_to))))
    initial = next((n for n, s in states.items() if s.initial), None)
    if initial is not None and not states[initial].editable:
        out.append(problem(located, base + ("states", initial), NO_EDITABLE_STATE(name=initial)))
    for i, t in enumerate(wf.transitions):
        if "fees_paid" in t.guards and not payable_states(wf):
            out.append(problem(located, base + ("transitions", i, "guards"), NO_PAYABLE_STATE(event=t.event)))
    return out
