"""Reading and checking rules: vocabularies, shared workflows and business files.

Every problem names file, line and key path, and all problems are collected before failing, so a
configurator fixes a file in one pass (Home Assistant's habit).
"""
import copy
import dataclasses
import datetime
import hashlib
import json
import types
from pathlib import Path
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import inspect as sa_inspect

from app import roles as role_names
from app import validators

from . import applicants, fees, markers, registry
from . import messages as M
from .messages import Problem, join
from .schema import BusinessSpec, CalendarSpec, TaxTable, VocabItem, Workflow
from .source import Located, SourceProblem, format_path, load, problem


class RulesError(Exception):
    """Problems in rules files. .problems are Problem objects (file, line, key path, message): str()
    of one renders it in the request's language; str() of the error, used when start-up fails and
    in logs, is English (see messages.py)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self):
        return M.INVALID_RULES + "\n" + "\n".join(f"  - {_english(p)}" for p in self.problems)


def _english(p):
    return p.english() if isinstance(p, Problem) else str(p)


KNOWN_ROLES = {role_names.ADMIN, role_names.REVIEWER, role_names.INSTITUTION_ADMIN, role_names.OPERATOR,
               role_names.CONFIGURATOR, role_names.PUBLIC}


def _locate(data, loc, kind):
    """The real key path of a pydantic error location, and where it passed through a union member
    (prefix, member tag) - pydantic names the member it tried, e.g. ('workflow', 'Workflow', 'states')."""
    out, node, tag = [], data, None
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1 and kind == "missing" and isinstance(node, dict):
            out.append(part)   # a missing key: name it, the line is its parent's
        elif tag is None:
            tag = (tuple(out), part)
    return tuple(out), tag


def _pydantic_problems(exc, located, base=()):
    """One problem per pydantic error, in catalogue words. Of a union (a workflow is a name or a
    mapping) only the member the value was meant as is reported: a mapping's own mistakes, or for
    anything else a single "should be a name or a mapping"."""
    data = _at(located.data, base)
    plain, unions = [], {}
    for err in exc.errors():
        path, tag = _locate(data, err["loc"], err["type"])
        if tag is None:
            plain.append((path, M.from_pydantic(err, path[-1] if path else None)))
        else:
            unions.setdefault(tag[0], []).append((path, tag[1], err))
    for prefix, members in unions.items():
        value = _at(data, prefix)
        if isinstance(value, dict):
            plain += [(path, M.from_pydantic(err, path[-1] if path else None))
                      for path, member, err in members if _is_mapping_member(member)]
        else:
            plain.append((prefix, M.EXPECTED_NAME_OR_MAPPING(given=M.given(value))))
    return list(dict.fromkeys(problem(located, base + path, message) for path, message in plain))


def _is_mapping_member(member):
    """A union member pydantic tried as a model: named after it ('Workflow'), or its validator
    wrapped around it ('function-after[_ordered(), HolidaySpan]')."""
    member = str(member)
    return member[:1].isupper() or member.startswith("function-")


def _at(data, path):
    for part in path:
        data = data[part]
    return data


def salvage(annotation, value):
    """What of value validates against annotation, keeping positions and keys: a part that does
    not is None.

    Used when a file has shape problems, so that the names in its valid parts are still checked in
    the same pass (a configurator should not fix the shape only to be told about a misspelt name
    next). A model is salvaged key by key (its field validators run); its model validator, if it
    has one, does not, and the problem it found is already reported. The checks that follow treat
    None as "broken, already reported" and skip it."""
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        pass
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        # A constraint (pattern, bounds, at least one item) failed, or items inside did. Keep the
        # valid items of a list whose broken items explain the failure; otherwise nothing.
        inner = salvage(args[0], value)
        return inner if isinstance(inner, list) and any(item is None for item in inner) else None
    if origin in (Union, types.UnionType):
        for member in args:
            kind = get_origin(member) or member
            if (isinstance(value, dict) and (kind is dict or _is_model(kind))) or \
                    (isinstance(value, list) and kind is list):
                return salvage(member, value)
        return None
    if origin is list and isinstance(value, list):
        return [salvage(args[0], item) for item in value]
    if origin is dict and isinstance(value, dict):
        return {k: salvage(args[1], v) for k, v in value.items() if isinstance(k, str)}
    if _is_model(annotation) and isinstance(value, dict):
        scratch, values = annotation.model_construct(), {}
        for name, info in annotation.model_fields.items():
            key = info.alias if info.alias in value else name
            if key not in value:
                values[name] = None if info.is_required() else info.get_default(call_default_factory=True)
                continue
            try:
                annotation.__pydantic_validator__.validate_assignment(scratch, name, value[key])
                values[name] = scratch.__dict__[name]
            except (ValidationError, AttributeError, TypeError):   # a model validator on a half-built model
                values[name] = salvage(Annotated[(info.annotation, *info.metadata)] if info.metadata
                                       else info.annotation, value[key])
        return annotation.model_construct(**values)
    return None


def _is_model(kind):
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _validate(model, located, base=()):
    """(validated model, []) or, when the shape is wrong, (what could be salvaged, problems)."""
    data = _at(located.data, base)
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return salvage(model, data), _pydantic_problems(exc, located, base)


def _parse(text, filename):
    try:
        located = load(text, filename)
    except SourceProblem as exc:
        return None, list(exc.problems)
    return located, list(located.problems)


def load_vocabularies(path):
    path = Path(path)
    return load_vocabularies_text(path.read_text(encoding="utf-8"), _display(path))


def load_vocabularies_text(text, filename):
    located, problems = _parse(text, filename)
    vocabs = {}
    if located is None:
        return vocabs, problems
    if not isinstance(located.data, dict):
        return vocabs, problems + [problem(located, (), M.VOCABULARIES_NOT_MAPPING())]
    for name, items in located.data.items():
        if not isinstance(items, list):
            problems.append(problem(located, (name,), M.VOCABULARY_NOT_LIST()))
            continue
        vocabs[name] = []
        seen = set()
        for i, item in enumerate(items):
            try:
                vi = VocabItem.model_validate({**item, "code": str(item.get("code"))} if isinstance(item, dict) else item)
            except ValidationError as exc:
                problems += _pydantic_problems(exc, located, (name, i))
                continue
            if vi.code in seen:
                problems.append(problem(located, (name, i, "code"), M.DUPLICATE_CODE(code=vi.code)))
            seen.add(vi.code)
            vocabs[name].append(vi)
    return vocabs, problems


def check_graph(wf, located, base, complete=True):
    """One initial state, known states, nothing leaves a final state, all reachable, no dead ends.

    A workflow with shape problems (complete=False; broken states and transitions are None) gets
    the name checks of its valid parts only: counting states or following transitions through
    broken ones would report problems that are not there."""
    out = []
    states = wf.states if isinstance(wf.states, dict) else None
    transitions = [(i, t) for i, t in enumerate(wf.transitions or []) if t is not None]
    initials = [n for n, s in (states or {}).items() if s is not None and s.initial]
    if complete and len(initials) != 1:
        out.append(problem(located, base + ("states",), M.ONE_INITIAL_STATE(found=join(initials) or M.NONE_FOUND())))
    for i, t in transitions:
        for key, names in (("from", t.from_), ("to", t.to)):
            for n in names or []:
                if states is not None and n not in states:
                    out.append(problem(located, base + ("transitions", i, key), M.UNKNOWN_STATE(name=n, known=join(states))))
        for n in t.from_ or []:
            if states is not None and states.get(n) is not None and states[n].final:
                out.append(problem(located, base + ("transitions", i, "from"), M.FINAL_STATE_LEAVES(name=n)))
        for r in t.roles or []:
            if r not in KNOWN_ROLES:
                out.append(problem(located, base + ("transitions", i, "roles"), M.UNKNOWN_ROLE(name=r, known=join(sorted(KNOWN_ROLES)))))
        for target, names in (t.target_guards or {}).items():
            if t.to is not None and target not in t.to:
                out.append(problem(located, base + ("transitions", i, "target_guards", target),
                                   M.NOT_A_TARGET(target=target, targets=join(t.to))))
            for n in names or []:
                if n not in registry.GUARDS:
                    out.append(problem(located, base + ("transitions", i, "target_guards", target),
                                       M.UNKNOWN_GUARD(name=n, known=join(sorted(registry.GUARDS)))))
        if t.wait is not None:
            out += _wait_problems(t, i, states, located, base)
        for kind, names, table, entry in (("guards", t.guards, registry.GUARDS, M.UNKNOWN_GUARD),
                                          ("effects", t.effects, registry.EFFECTS, M.UNKNOWN_EFFECT)):
            for n in names or []:
                if n not in table:
                    out.append(problem(located, base + ("transitions", i, kind), entry(name=n, known=join(sorted(table)))))
    for name, s in (states or {}).items():
        if s is not None and isinstance(s.executor, str) and s.executor != "applicant" and s.executor not in KNOWN_ROLES:
            out.append(problem(located, base + ("states", name, "executor"),
                               M.UNKNOWN_EXECUTOR(name=s.executor, known=join(sorted(KNOWN_ROLES)))))
    if out or not complete or len(initials) != 1:
        return out
    reach, todo = set(initials), list(initials)
    while todo:
        node = todo.pop()
        for t in wf.transitions:
            if node in t.from_:
                # A transition's waiting state is one of the places it leads to.
                for n in t.to + ([t.wait.state] if t.wait is not None else []):
                    if n not in reach:
                        reach.add(n)
                        todo.append(n)
    for name, s in wf.states.items():
        if name not in reach:
            out.append(problem(located, base + ("states", name), M.UNREACHABLE_STATE(name=name, initial=initials[0])))
        elif not s.final and not any(name in t.from_ for t in wf.transitions):
            out.append(problem(located, base + ("states", name), M.DEAD_END_STATE(name=name)))
    return out + markers.problems(wf, located, base)


def _wait_problems(t, i, states, located, base):
    """A transition's wait names a known, non-final state and only guards the transition has."""
    out, path = [], base + ("transitions", i, "wait")
    name = t.wait.state
    if states is not None and name not in states:
        out.append(problem(located, path + ("state",), M.UNKNOWN_STATE(name=name, known=join(states))))
    elif states is not None and states.get(name) is not None and states[name].final:
        out.append(problem(located, path + ("state",), M.WAIT_STATE_FINAL(name=name)))
    for n in t.wait.guards or []:
        if n not in (t.guards or []):
            out.append(problem(located, path + ("guards",), M.WAIT_GUARD_NOT_OF_TRANSITION(
                name=n, known=join(t.guards or []) or M.NONE_FOUND())))
    return out


def _default_problem(f, vocab):
    """None when a field's default is a value the field can take, else the message."""
    value = f.default
    if f.type == "choice":
        codes = [v.code for v in vocab.get(f.vocabulary, [])] if f.vocabulary in vocab else None
        if codes is not None and (isinstance(value, bool) or str(value) not in codes):
            return M.EXPECTED_ONE_OF(expected=join(codes), given=M.given(value))
    elif f.type == "boolean":
        if not isinstance(value, bool):
            return M.EXPECTED_ONE_OF(expected="true, false", given=M.given(value))
    elif f.type == "date":
        if value != "today":
            try:
                datetime.date.fromisoformat(str(value))
            except ValueError:
                return M.EXPECTED_ONE_OF(expected="today, 2025-01-31", given=M.given(value))
    elif isinstance(value, bool):
        return M.EXPECTED_TEXT(given=M.given(value))
    elif f.type == "money":
        try:
            validators.money(value)
        except validators.ValidationFailed:
            return M.EXPECTED_AMOUNT(given=M.given(value))
    elif f.type == "integer" and not str(value).lstrip("-").isdigit():
        return M.EXPECTED_INTEGER(given=M.given(value))
    return None


def _is_date(value):
    try:
        datetime.date.fromisoformat(str(value))
        return True
    except ValueError:
        return False


def load_workflow(path):
    path = Path(path)
    return load_workflow_text(path.read_text(encoding="utf-8"), _display(path))


def load_workflow_text(text, filename):
    located, problems = _parse(text, filename)
    if located is None:
        return None, problems
    if not isinstance(located.data, dict):
        return None, problems + [problem(located, (), M.TOP_NOT_MAPPING())]
    wf, shape = _validate(Workflow, located)
    problems += _not_at(shape, problems) + check_graph(wf, located, (), complete=not shape)
    return (None if problems else wf), _unique(problems)


def _load_table(model, text, filename):
    """A whole-file table (tax rates, calendar) through the same reading and shape checks as every
    rules file: (model or None, problems with file, line and key path)."""
    located, problems = _parse(text, filename)
    if located is None:
        return None, problems
    if not isinstance(located.data, dict):
        return None, problems + [problem(located, (), M.TOP_NOT_MAPPING())]
    table, shape = _validate(model, located)
    problems += _not_at(shape, problems)
    return (None if problems else table), _unique(problems)


def load_tax_text(text, filename):
    return _load_table(TaxTable, text, filename)


def load_calendar_text(text, filename):
    return _load_table(CalendarSpec, text, filename)


def load_tax_file(path):
    """The tax table of a file, or RulesError (used by app/services/tax.py)."""
    path = Path(path)
    table, problems = load_tax_text(path.read_text(encoding="utf-8"), _display(path))
    if problems:
        raise RulesError(problems)
    return table


def _not_at(shape, source):
    """Shape problems, except at a value YAML could not read (an impossible date): one problem per value."""
    unreadable = (M.NOT_A_DATE.msgid, M.YAML_SYNTAX.msgid)
    seen = {p.path for p in source if isinstance(p, Problem) and p.message.msgid in unreadable}
    return [p for p in shape if p.path not in seen]


def _unique(problems):
    return list(dict.fromkeys(problems))


def _display(path):
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name != "rules" else f"rules/{path.name}"


# ---- the shared parts a business uses, content-addressed -----------------------------------------
VOCABULARIES = "rules/vocabularies.yaml"
TAX = "tax/deed_tax.yaml"


def part_kind(name):
    """The kind of a shared part from its name: vocabularies, workflow, tax or calendar."""
    if name == VOCABULARIES:
        return "vocabularies"
    return {"workflows": "workflow", "tax": "tax", "calendar": "calendar"}.get(name.split("/", 1)[0])


def digest(kind, value):
    """The address of a part: SHA-256 of its kind and the canonical JSON of what it says (so a comment
    or a reformatting does not make a new part; the text itself is kept alongside)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{kind}\n{canonical}".encode("utf-8")).hexdigest()


class Context:
    """What a business file is checked against: vocabularies, shared workflows, the tax table and the
    calendar. `sources` holds each shared part's (text, digest) by its name (VOCABULARIES,
    "workflows/<name>.yaml", TAX, "calendar/<name>.yaml"), so a version can store what it used."""

    def __init__(self, vocabularies, workflows, broken_workflows=(), tax=None, calendars=None, sources=None):
        self.vocabularies, self.workflows = vocabularies, workflows
        self.broken_workflows = set(broken_workflows)   # files in workflows/ with problems (reported there)
        self.tax = tax
        self.calendars = dict(calendars or {})
        self.sources = dict(sources or {})
        self.parts_of = {}   # business key -> parts_for(its spec), for the files load_directory read

    def parts_for(self, spec):
        """{part name: digest} of the shared parts a business uses: its workflow (when shared), the
        vocabularies, the tax table and the calendar."""
        names = [n for n in self.sources if part_kind(n) != "workflow"]
        if isinstance(spec.workflow, str):
            names.append(f"workflows/{spec.workflow}.yaml")
        return {n: self.sources[n][1] for n in names if n in self.sources}


def build_context(sources):
    """A Context from shared parts' texts {name: text} (today's files, or the parts a version stored).
    Returns (Context, problems)."""
    problems, vocabs, workflows, broken, tax, calendars, kept = [], {}, {}, set(), None, {}, {}
    for name, text in sorted(sources.items()):
        kind = part_kind(name)
        located, _ = _parse(text, name)
        data = located.data if located is not None else None
        if kind == "vocabularies":
            vocabs, found = load_vocabularies_text(text, name)
        elif kind == "workflow":
            wf, found = load_workflow_text(text, name)
            key = name.split("/", 1)[1].removesuffix(".yaml")
            if wf is not None:
                workflows[key] = wf
            else:
                broken.add(key)
        elif kind == "tax":
            table, found = load_tax_text(text, name)
            if name == TAX:
                tax = table
        elif kind == "calendar":
            calendar, found = load_calendar_text(text, name)
            if calendar is not None:
                calendars[name] = calendar
        else:
            continue
        problems += found
        kept[name] = (text, digest(kind, data))
    return Context(vocabs, workflows, broken, tax, calendars, kept), problems


def _shared_sources(rules_dir):
    rules_dir = Path(rules_dir)
    paths = [rules_dir / "vocabularies.yaml"] + sorted((rules_dir / "workflows").glob("*.yaml")) + \
        sorted((rules_dir / "tax").glob("*.yaml")) + sorted((rules_dir / "calendar").glob("*.yaml"))
    return {_display(p): p.read_text(encoding="utf-8") for p in paths if p.exists()}


def parse_business(text, filename, ctx, expected_key=None):
    """Validate one business file's text; returns (BusinessSpec, resolved Workflow) or raises RulesError.

    Shape problems (pydantic) and name problems (unknown validators, states, vocabularies ...) are
    reported together: when the shape is wrong, the names in the parts that are right are still
    checked, and the parts that are wrong are left to their shape problem."""
    located, problems = _parse(text, filename)
    if located is None:
        raise RulesError(problems)
    if not isinstance(located.data, dict):
        raise RulesError(problems + [problem(located, (), M.TOP_NOT_MAPPING())])
    spec, shape = _validate(BusinessSpec, located)
    problems += _not_at(shape, problems)
    workflow, graph = _resolve_workflow(spec, located, ctx,
                                        complete=not any(p.path[:1] == ("workflow",) for p in shape))
    problems += graph + _names(spec, located, ctx, expected_key)
    if workflow is not None and not graph:
        problems += _needs(spec, workflow, located, ctx)
    if problems:
        raise RulesError(_unique(problems))
    return spec, workflow


def _resolve_workflow(spec, located, ctx, complete=True):
    if spec.workflow is None or isinstance(spec.workflow, str) and spec.workflow in ctx.broken_workflows:
        return None, []   # not a name nor a mapping, or a shared workflow with problems of its own: reported there
    if isinstance(spec.workflow, str):
        if spec.workflow not in ctx.workflows:
            return None, [problem(located, ("workflow",), M.UNKNOWN_WORKFLOW(name=spec.workflow, known=join(sorted(ctx.workflows))))]
        wf = copy.deepcopy(ctx.workflows[spec.workflow])
    else:
        wf = copy.deepcopy(spec.workflow)
    problems = []
    overrides = spec.workflow_overrides if isinstance(spec.workflow_overrides, dict) else {}
    events = list(dict.fromkeys(t.event for t in (wf.transitions or []) if t is not None))
    for event, override in overrides.items():
        matches = [t for t in (wf.transitions or []) if t is not None and t.event == event]
        if not matches and complete:
            problems.append(problem(located, ("workflow_overrides", event), M.UNKNOWN_EVENT(event=event, known=join(events))))
        if override is None:
            continue   # not a mapping: its shape problem is reported (a half-valid one applies its valid keys)
        problems += _removals(override, matches, located, event)
        for t in matches:
            removed = set(override.remove or [])
            for key in ("guards", "effects"):
                if getattr(override, key) is None:
                    setattr(t, key, [n for n in getattr(t, key) if n not in removed])
            for key, value in override.model_dump(exclude_none=True, exclude={"remove"}).items():
                setattr(t, key, getattr(override, key) if key in ("label", "wait") else value)
            if override.to is not None and override.target_guards is None:
                # Narrowing the targets drops the shared workflow's guards for the targets removed.
                t.target_guards = {k: v for k, v in t.target_guards.items() if k in t.to}
    shared = isinstance(spec.workflow, str)
    graph = check_graph(wf, located, () if shared else ("workflow",), complete=complete or shared)
    if graph and shared:
        graph = [_at_override(g, wf, overrides, located) for g in graph]
    return wf, problems + graph


def _removals(override, shared, located, event):
    """An override adds to the shared transition: a guard or effect it leaves out must be named under
    `remove` (an override that drops fees_paid by accident would let unpaid cases through)."""
    out, path = [], ("workflow_overrides", event)
    had = {key: [n for t in shared for n in getattr(t, key)] for key in ("guards", "effects")}
    removed = list(override.remove or [])
    for key in ("guards", "effects"):
        given = getattr(override, key)
        if given is None:
            continue
        dropped = [n for n in dict.fromkeys(had[key]) if n not in given and n not in removed]
        if dropped:
            out.append(problem(located, path + (key,), M.OVERRIDE_DROPS(names=join(dropped))))
    known = list(dict.fromkeys(had["guards"] + had["effects"]))
    for n in removed:
        if shared and n not in known:
            out.append(problem(located, path + ("remove",), M.REMOVE_NOT_THERE(name=n, known=join(known) or M.NONE_FOUND())))
    return out


def _at_override(g, wf, overrides, located):
    """A problem found in a shared workflow after applying this business's overrides is this file's:
    point at the override key that caused it (workflow_overrides.<event>.<key>) or, when no single
    key did (e.g. a state no longer reached), at the line of workflow_overrides with the shared
    workflow's own key path."""
    path = g.path or ()
    if len(path) >= 3 and path[0] == "transitions" and isinstance(path[1], int) and path[1] < len(wf.transitions):
        event, key = wf.transitions[path[1]].event, path[2]
        override = overrides.get(event)
        if override is not None and getattr(override, key, None) is not None:
            return problem(located, ("workflow_overrides", event, key) + tuple(path[3:]), g.message)
    return dataclasses.replace(g, line=located.line_of(("workflow_overrides",)))


def _names(spec, located, ctx, expected_key):
    """Every name a business file uses must exist. Parts whose shape is wrong are None and skipped."""
    out = []
    vocab = ctx.vocabularies
    data = located.data

    def need(cond, path, message):
        if not cond:
            out.append(problem(located, path, message))

    def raw(*path):
        """The file's own value at path (before validation), or None."""
        node = data
        for part in path:
            if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def good(items):
        return [(i, x) for i, x in enumerate(items or []) if x is not None]

    if expected_key is not None and spec.key is not None:
        need(spec.key == expected_key, ("key",), M.KEY_NOT_FILE_NAME(key=spec.key, expected=expected_key))
    for attr, vocab_name, entry in (("category", "categories", M.UNKNOWN_CATEGORY),
                                    ("registration_type", "registration_types", M.UNKNOWN_REGISTRATION_TYPE)):
        value, codes = getattr(spec, attr), [v.code for v in vocab.get(vocab_name, [])]
        if value is not None:
            need(value in codes, (attr,), entry(name=value, known=join(codes)))
    for i, r in good(spec.applicants):
        need(r in KNOWN_ROLES, ("applicants", i), M.UNKNOWN_ROLE(name=r, known=join(sorted(KNOWN_ROLES))))
    if spec.lookup_record is not None:
        kind = registry.RECORDS.get(spec.lookup_record)
        need(kind is not None, ("lookup_record",),
             M.UNKNOWN_LOOKUP_RECORD(name=spec.lookup_record, known=join(sorted(registry.RECORDS))))
        lookup_whole = spec.lookup is not None and all(k is not None and isinstance(k.field, str) for k in spec.lookup)
        if kind is not None and lookup_whole:
            fields = {k.field for k in spec.lookup}
            need(fields == set(kind.fields), ("lookup",),
                 M.LOOKUP_KEYS(record=spec.lookup_record, needed=join(kind.fields), given=join(sorted(fields))))
    for i, k in good(spec.lookup):
        need(not isinstance(k.validator, str) or k.validator in validators.REGISTRY, ("lookup", i, "validator"),
             M.UNKNOWN_VALIDATOR(name=k.validator, known=join(sorted(validators.REGISTRY))))
    for section, table in (("unit_checks", registry.UNIT_CHECKS), ("case_checks", registry.CASE_CHECKS)):
        for i, c in good(getattr(spec, section)):
            if c.check is not None:
                need(c.check in table, (section, i, "check"), M.UNKNOWN_CHECK(name=c.check, known=join(sorted(table))))
            if getattr(c, "acknowledge", None) is not None:
                need(c.acknowledge in KNOWN_ROLES, (section, i, "acknowledge"),
                     M.UNKNOWN_ROLE(name=c.acknowledge, known=join(sorted(KNOWN_ROLES))))
    form = spec.form
    # A per-unit field may depend on a field asked once for the case (only_when: {mortgage_kind: ...}).
    case_written = [f.get("field") if isinstance(f, dict) else None for f in (raw("form", "case") or [])]
    for section in ("case", "per_unit"):
        fields = getattr(form, section, None) if form is not None else None
        if fields is None:
            continue
        # Names as written, broken fields included: a reference to a field whose own shape is
        # wrong is not an unknown field.
        written = [f.get("field") if isinstance(f, dict) else None for f in (raw("form", section) or [])]
        for i, f in good(fields):
            path = ("form", section, i)
            need(f.field is None or written.count(f.field) == 1, path + ("field",), M.FIELD_TWICE(name=f.field))
            need(f.vocabulary is None or f.vocabulary in vocab, path + ("vocabulary",),
                 M.UNKNOWN_VOCABULARY(name=f.vocabulary, known=join(sorted(vocab))))
            need(f.validator is None or f.validator in validators.REGISTRY, path + ("validator",),
                 M.UNKNOWN_VALIDATOR(name=f.validator, known=join(sorted(validators.REGISTRY))))
            if f.default is not None and f.type is not None:
                wrong = _default_problem(f, vocab)
                need(wrong is None, path + ("default",), wrong)
            for other, value in (f.required_when or {}).items():
                need(other in written, path + ("required_when",), M.REQUIRED_WHEN_UNKNOWN(name=other))
                target = next((g for g in fields if g is not None and g.field == other), None)
                if target is not None and target.type == "choice" and target.vocabulary in vocab:
                    codes = [v.code for v in vocab[target.vocabulary]]
                    need(str(value) in codes, path + ("required_when",), M.REQUIRED_WHEN_VALUE(
                        value=value, vocab=target.vocabulary, name=other, known=join(codes)))
            if f.prefill and section == "per_unit" and spec.lookup_record in registry.RECORDS:
                need(*_prefill_problem(f.prefill, spec.lookup_record, path + ("prefill",)))
            for other in (f.only_when or {}):
                need(other in written or other in case_written, path + ("only_when",), M.ONLY_WHEN_UNKNOWN(name=other))
            if f.earliest is not None:
                need(_is_date(f.earliest), path + ("earliest",), M.NOT_A_DATE_VALUE(given=M.given(f.earliest)))
            for key in ("earliest", "years_ahead", "max_years_after"):
                if getattr(f, key) is not None and f.type is not None:
                    need(f.type == "date", path + (key,), M.DATE_RULE_NOT_DATE(key=key))
            if f.max_years_after is not None:
                need(f.after is not None, path + ("max_years_after",), M.MAX_YEARS_NEEDS_AFTER())
            if f.after:
                target = next((g for g in fields if g is not None and g.field == f.after), None)
                # A target whose own shape (or type) is wrong is reported for that; saying it is not
                # a date field as well would mislead.
                if target is None and f.after not in written or target is not None and target.type is not None:
                    need(target is not None and target.type == "date", path + ("after",), M.AFTER_NOT_DATE(name=f.after))
    parties = getattr(form, "parties", None) if form is not None else None
    for role, p in (parties or {}).items() if isinstance(parties, dict) else ():
        if p is not None:
            need(p.validator is None or p.validator in validators.REGISTRY, ("form", "parties", role, "validator"),
                 M.UNKNOWN_VALIDATOR(name=p.validator, known=join(sorted(validators.REGISTRY))))
            id_types = [i.code for i in vocab.get("id_types", [])]
            for i, code in enumerate(p.id_types or []):
                need(code in id_types, ("form", "parties", role, "id_types", i),
                     M.EXPECTED_ONE_OF(expected=join(id_types), given=M.given(code)))
            others = [r for r in parties if r != role]
            need(p.same_as is None or p.same_as in others, ("form", "parties", role, "same_as"),
                 M.EXPECTED_ONE_OF(expected=join(others), given=M.given(p.same_as)))
    keys = [m.get("key") if isinstance(m, dict) else None for m in (raw("materials") or [])]
    for i, m in good(spec.materials):
        if m.key is not None:
            need(keys.count(m.key) == 1, ("materials", i, "key"), M.MATERIAL_TWICE(key=m.key))
        if m.accept is not None:
            need(bool(m.accept), ("materials", i, "accept"), M.NO_ACCEPTED_TYPE())
    return out + fees.problems(spec, located, vocab) + applicants.problems(spec, located)


def _needs(spec, wf, located, ctx):
    """What the effects and guards of the resolved workflow need of this business: typed
    effect_options, the party roles and per-unit fields they act on, and their order (an issue
    effect after the register effect that writes what it issues)."""
    out = []
    form = spec.form
    roles = sorted((form.parties or {}) if form is not None and isinstance(form.parties, dict) else {})
    fields = [f.field for f in ((form.per_unit or []) if form is not None else []) if f is not None]
    options = spec.effect_options if isinstance(spec.effect_options, dict) else {}
    overrides = spec.workflow_overrides if isinstance(spec.workflow_overrides, dict) else {}
    shared = isinstance(spec.workflow, str)

    def where(i, t, key):
        if shared:
            if getattr(overrides.get(t.event), key, None) is not None:
                return ("workflow_overrides", t.event, key)
            return ("workflow",)
        return ("workflow", "transitions", i, key)

    used = [(i, t, name) for i, t in enumerate(wf.transitions) for name in t.effects if name in registry.EFFECT_SPECS]
    takes = {}
    for _i, _t, name in used:
        takes.update(registry.EFFECT_SPECS[name].options)
    for key, value in options.items():
        if key not in takes:
            out.append(problem(located, ("effect_options", key),
                               M.UNKNOWN_OPTION(name=key, known=join(sorted(takes)) or M.NONE_FOUND())))
            continue
        option = takes[key]
        if option.kind == "role" and value not in roles:
            out.append(problem(located, ("effect_options", key), M.OPTION_NOT_ROLE(name=value, known=join(roles))))
        elif option.kind == "field" and value not in fields:
            out.append(problem(located, ("effect_options", key), M.OPTION_NOT_FIELD(name=value, known=join(fields))))
        elif option.kind == "code":
            codes = [v.code for v in ctx.vocabularies.get(option.vocabulary, [])]
            if str(value) not in codes:
                out.append(problem(located, ("effect_options", key),
                                   M.OPTION_NOT_CODE(name=value, vocab=option.vocabulary, known=join(codes))))
    for i, t, name in used:
        effect = registry.EFFECT_SPECS[name]
        # A role option given is checked above; one left out acts on its default role.
        needed = list(effect.roles) + [o.default for k, o in effect.options.items() if o.kind == "role" and k not in options]
        for role in dict.fromkeys(needed):
            if role not in roles:
                out.append(problem(located, where(i, t, "effects"),
                                   M.EFFECT_NEEDS_ROLE(effect=name, role=role, known=join(roles) or M.NONE_FOUND())))
    for i, t in enumerate(wf.transitions):
        for name in dict.fromkeys(t.guards + [g for names in t.target_guards.values() for g in names]):
            for need in (registry.GUARD_NEEDS[name](ctx) if name in registry.GUARD_NEEDS else []):
                if need.kind == "field" and need.name not in fields:
                    out.append(problem(located, where(i, t, "guards"),
                                       M.GUARD_NEEDS_FIELD(guard=name, name=need.name, source=need.source)))
                elif need.kind == "role" and need.name not in roles:
                    out.append(problem(located, where(i, t, "guards"),
                                       M.GUARD_NEEDS_ROLE(guard=name, role=need.name, source=need.source)))
    out += _section_problems(spec, wf, located, roles)
    return out + [problem(located, path, message) for path, message in _order(wf, where)]


def _section_problems(spec, wf, located, roles):
    """A guard that reads a business key (declaration, contract_filing) and that key go together, and the
    fields and roles the key names exist."""
    out = []
    used = {g for t in wf.transitions for g in t.guards + [x for names in t.target_guards.values() for x in names]}
    for guard, section in registry.GUARD_SECTIONS.items():
        declared = getattr(spec, section, None) is not None
        if guard in used and not declared:
            out.append(problem(located, ("workflow_overrides",) if isinstance(spec.workflow, str) else ("workflow",),
                               M.GUARD_NEEDS_SECTION(guard=guard, section=section)))
        elif declared and guard not in used:
            out.append(problem(located, (section,), M.SECTION_NEEDS_GUARD(section=section, guard=guard)))
    form = spec.form
    filing = spec.contract_filing
    if filing is not None:
        section = "per_unit" if filing.per_unit else "case"
        fields = [f.field for f in ((getattr(form, section) or []) if form is not None else []) if f is not None]
        if filing.field not in fields:
            out.append(problem(located, ("contract_filing", "field"),
                               M.SECTION_FIELD(name=filing.field, section=f"form.{section}",
                                               known=join(fields) or M.NONE_FOUND())))
        for key in ("buyer_role", "seller_role"):
            value = getattr(filing, key)
            if value is not None and value not in roles:
                out.append(problem(located, ("contract_filing", key),
                                   M.SECTION_ROLE(name=value, known=join(roles) or M.NONE_FOUND())))
    if spec.utilities and spec.batch:
        # One transfer request per utility and case: it names the case's one unit.
        out.append(problem(located, ("utilities",), M.UTILITIES_NOT_BATCH()))
    if spec.declaration is not None:
        parties = form.parties if form is not None and isinstance(form.parties, dict) else {}
        for i, role in enumerate(spec.declaration.roles or []):
            if role not in roles:
                out.append(problem(located, ("declaration", "roles", i),
                                   M.SECTION_ROLE(name=role, known=join(roles) or M.NONE_FOUND())))
            elif parties.get(role) is not None and not parties[role].confirm:
                # The declaration is signed with the confirmation code: a role that never confirms never signs.
                out.append(problem(located, ("declaration", "roles", i), M.DECLARATION_NO_CONFIRM(role=role)))
    return out


def _stage(name):
    spec = registry.EFFECT_SPECS.get(name)
    return spec.stage if spec is not None else None


def _order(wf, where):
    """An issue effect runs after a register effect: later in the same transition, or in a transition
    that no case can reach without passing one (otherwise _issue finds no record and issues nothing)."""
    out = []
    initial = wf.initial
    before, todo = {initial}, [initial]   # states a case reaches with nothing recorded yet
    while todo:
        node = todo.pop()
        for t in wf.transitions:
            if node in t.from_ and not any(_stage(n) == "record" for n in t.effects):
                for n in t.to + ([t.wait.state] if t.wait is not None else []):
                    if n not in before:
                        before.add(n)
                        todo.append(n)
    recorders = sorted({n for t in wf.transitions for n in t.effects if _stage(n) == "record"})
    for i, t in enumerate(wf.transitions):
        for k, name in enumerate(t.effects):
            if _stage(name) != "issue":
                continue
            later = [n for n in t.effects[k + 1:] if _stage(n) == "record"]
            if later:
                out.append((where(i, t, "effects"), M.ISSUE_BEFORE_RECORD(effect=name, record=later[0])))
            elif not any(_stage(n) == "record" for n in t.effects[:k]):
                early = next((n for n in t.from_ if n in before), None)
                if early is not None:
                    out.append((where(i, t, "effects"), M.ISSUE_WITHOUT_RECORD(
                        effect=name, state=early, known=join(recorders) or M.NONE_FOUND())))
    return out


def _prefill_problem(name, record, path):
    """(ok, path, message) for a prefill: a column of the model of the record the lookup finds."""
    model = registry.RECORDS[record].model
    if model is None:
        return False, path, M.PREFILL_NO_RECORD(record=record, name=name)
    columns = sorted(c.key for c in sa_inspect(model).column_attrs if not c.key.endswith("_id") and c.key != "id")
    return name in columns, path, M.PREFILL_UNKNOWN(name=name, record=record, known=join(columns))


def load_directory(rules_dir):
    """Check every file under rules/ (the tables of checks, guards and effects are filled by the
    package, which imports them before anything is loaded): returns (Context, {key: (filename, text)})
    or raises RulesError."""
    rules_dir = Path(rules_dir)
    ctx, problems = build_context(_shared_sources(rules_dir))
    files = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name == "vocabularies.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        try:
            spec, _workflow = parse_business(text, _display(path), ctx, expected_key=path.stem)
            ctx.parts_of[path.stem] = ctx.parts_for(spec)
        except RulesError as exc:
            problems += exc.problems
        files[path.stem] = (_display(path), text)
    if problems:
        raise RulesError(problems)
    return ctx, files


__all__ = ["RulesError", "Problem", "Context", "parse_business", "load_directory", "build_context", "digest",
           "load_tax_file", "format_path", "Located"]
