"""Reading and checking rules: vocabularies, shared workflows and business files.

Every problem names file, line and key path, and all problems are collected before failing, so a
configurator fixes a file in one pass (Home Assistant's habit).
"""
import copy
from pathlib import Path

from pydantic import ValidationError

from app import roles as role_names
from app import validators

from . import registry
from .schema import BusinessSpec, VocabItem, Workflow
from .source import Located, SourceProblem, format_path, load, problem


class RulesError(Exception):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("Invalid rules:\n" + "\n".join(f"  - {p}" for p in self.problems))


KNOWN_ROLES = {role_names.ADMIN, role_names.REVIEWER, role_names.INSTITUTION_ADMIN, role_names.OPERATOR,
               role_names.CONFIGURATOR, role_names.PUBLIC}


def _real_path(data, loc):
    """Drop pydantic's union/type tags from an error location, keeping real keys and indexes."""
    out, node = [], data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str) and part[:1].islower():
            out.append(part)   # a missing key: name it, the line is its parent's
    return tuple(out)


def _pydantic_problems(exc, located, base=()):
    out = []
    for err in exc.errors():
        path = base + _real_path(located.data if not base else _at(located.data, base), err["loc"])
        if err["type"] == "extra_forbidden":
            message = f"unknown key '{path[-1]}'"
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            message = err["msg"].removeprefix("Value error, ")
        out.append(problem(located, path, message))
    return list(dict.fromkeys(out))


def _at(data, path):
    for part in path:
        data = data[part]
    return data


def _parse(text, filename):
    try:
        return load(text, filename), []
    except SourceProblem as exc:
        return None, exc.problems


def load_vocabularies(path):
    path = Path(path)
    located, problems = _parse(path.read_text(encoding="utf-8"), _display(path))
    vocabs = {}
    if located is None:
        return vocabs, problems
    if not isinstance(located.data, dict):
        return vocabs, [problem(located, (), "expected a mapping of vocabulary names to lists")]
    for name, items in located.data.items():
        if not isinstance(items, list):
            problems.append(problem(located, (name,), "expected a list of {code, name}"))
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
                problems.append(problem(located, (name, i, "code"), f"duplicate code '{vi.code}'"))
            seen.add(vi.code)
            vocabs[name].append(vi)
    return vocabs, problems


def check_graph(wf, located, base):
    """One initial state, known states, nothing leaves a final state, all reachable, no dead ends."""
    out = []
    initials = [n for n, s in wf.states.items() if s.initial]
    if len(initials) != 1:
        out.append(problem(located, base + ("states",), f"exactly one initial state needed, found {initials or 'none'}"))
    for i, t in enumerate(wf.transitions):
        for key, names in (("from", t.from_), ("to", t.to)):
            for n in names:
                if n not in wf.states:
                    out.append(problem(located, base + ("transitions", i, key),
                                       f"unknown state '{n}' (known: {', '.join(wf.states)})"))
        for n in t.from_:
            if n in wf.states and wf.states[n].final:
                out.append(problem(located, base + ("transitions", i, "from"), f"final state '{n}' cannot have an outgoing transition"))
        for r in t.roles:
            if r not in KNOWN_ROLES:
                out.append(problem(located, base + ("transitions", i, "roles"), f"unknown role '{r}' (known: {', '.join(sorted(KNOWN_ROLES))})"))
        for target, names in t.target_guards.items():
            if target not in t.to:
                out.append(problem(located, base + ("transitions", i, "target_guards", target),
                                   f"'{target}' is not a target of this transition (targets: {', '.join(t.to)})"))
            for n in names:
                if n not in registry.GUARDS:
                    out.append(problem(located, base + ("transitions", i, "target_guards", target),
                                       f"unknown guard '{n}' (known: {', '.join(sorted(registry.GUARDS))})"))
        for kind, names, table in (("guards", t.guards, registry.GUARDS), ("effects", t.effects, registry.EFFECTS)):
            for n in names:
                if n not in table:
                    out.append(problem(located, base + ("transitions", i, kind), f"unknown {kind[:-1]} '{n}' (known: {', '.join(sorted(table))})"))
    for name, s in wf.states.items():
        if s.executor and s.executor != "applicant" and s.executor not in KNOWN_ROLES:
            out.append(problem(located, base + ("states", name, "executor"), f"unknown executor '{s.executor}'"))
    if out or len(initials) != 1:
        return out
    reach, todo = set(initials), list(initials)
    while todo:
        node = todo.pop()
        for t in wf.transitions:
            if node in t.from_:
                for n in t.to:
                    if n not in reach:
                        reach.add(n)
                        todo.append(n)
    for name, s in wf.states.items():
        if name not in reach:
            out.append(problem(located, base + ("states", name), f"state '{name}' cannot be reached from '{initials[0]}'"))
        elif not s.final and not any(name in t.from_ for t in wf.transitions):
            out.append(problem(located, base + ("states", name), f"state '{name}' is a dead end: not final and nothing leaves it"))
    return out


def load_workflow(path):
    path = Path(path)
    located, problems = _parse(path.read_text(encoding="utf-8"), _display(path))
    if located is None:
        return None, problems
    try:
        wf = Workflow.model_validate(located.data)
    except ValidationError as exc:
        return None, _pydantic_problems(exc, located)
    problems = check_graph(wf, located, ())
    return (None if problems else wf), problems


def _display(path):
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name != "rules" else f"rules/{path.name}"


class Context:
    """What a business file is checked against: vocabularies and shared workflows."""

    def __init__(self, vocabularies, workflows):
        self.vocabularies, self.workflows = vocabularies, workflows


def parse_business(text, filename, ctx, expected_key=None):
    """Validate one business file's text; returns (BusinessSpec, resolved Workflow) or raises RulesError."""
    located, problems = _parse(text, filename)
    if located is None:
        raise RulesError(problems)
    if not isinstance(located.data, dict):
        raise RulesError([problem(located, (), "expected a mapping at the top of the file")])
    try:
        spec = BusinessSpec.model_validate(located.data)
    except ValidationError as exc:
        raise RulesError(_pydantic_problems(exc, located)) from None
    workflow, problems = _resolve_workflow(spec, located, ctx)
    problems += _names(spec, located, ctx, expected_key)
    if problems:
        raise RulesError(problems)
    return spec, workflow


def _resolve_workflow(spec, located, ctx):
    if isinstance(spec.workflow, str):
        if spec.workflow not in ctx.workflows:
            return None, [problem(located, ("workflow",), f"unknown workflow '{spec.workflow}' (known: {', '.join(sorted(ctx.workflows))})")]
        wf = copy.deepcopy(ctx.workflows[spec.workflow])
    else:
        wf = copy.deepcopy(spec.workflow)
    problems = []
    for event, override in spec.workflow_overrides.items():
        matches = [t for t in wf.transitions if t.event == event]
        if not matches:
            problems.append(problem(located, ("workflow_overrides", event),
                                    f"the workflow has no event '{event}' (known: {', '.join(dict.fromkeys(t.event for t in wf.transitions))})"))
        for t in matches:
            for key, value in override.model_dump(exclude_none=True).items():
                setattr(t, key, getattr(override, key) if key == "label" else value)
            if override.to is not None and override.target_guards is None:
                # Narrowing the targets drops the shared workflow's guards for the targets removed.
                t.target_guards = {k: v for k, v in t.target_guards.items() if k in t.to}
    graph = check_graph(wf, located, ("workflow",) if not isinstance(spec.workflow, str) else ())
    # Problems in a shared workflow caused by an override are reported at the override.
    if graph and isinstance(spec.workflow, str):
        graph = [g.replace(f"{located.filename}, line 1: ", f"{located.where(('workflow_overrides',))}: ", 1) for g in graph]
    return wf, problems + graph


def _names(spec, located, ctx, expected_key):
    out = []
    vocab = ctx.vocabularies

    def need(cond, path, message):
        if not cond:
            out.append(problem(located, path, message))

    if expected_key is not None:
        need(spec.key == expected_key, ("key",), f"key '{spec.key}' must match the file name '{expected_key}'")
    need(spec.category in {v.code for v in vocab.get("categories", [])}, ("category",),
         f"unknown category '{spec.category}' (vocabulary categories)")
    need(spec.registration_type in {v.code for v in vocab.get("registration_types", [])}, ("registration_type",),
         f"unknown registration type '{spec.registration_type}' (vocabulary registration_types)")
    for i, r in enumerate(spec.applicants):
        need(r in KNOWN_ROLES, ("applicants", i), f"unknown role '{r}'")
    kind = registry.RECORDS.get(spec.lookup_record)
    need(kind is not None, ("lookup_record",), f"unknown lookup record '{spec.lookup_record}' (known: {', '.join(sorted(registry.RECORDS))})")
    if kind is not None:
        fields = {k.field for k in spec.lookup}
        need(fields == set(kind.fields), ("lookup",),
             f"lookup by '{spec.lookup_record}' needs exactly the keys {', '.join(kind.fields)}, not {', '.join(sorted(fields))}")
    for i, k in enumerate(spec.lookup):
        need(k.validator is None or k.validator in validators.REGISTRY, ("lookup", i, "validator"),
             f"unknown validator '{k.validator}' (known: {', '.join(sorted(validators.REGISTRY))})")
    for section, table in (("unit_checks", registry.UNIT_CHECKS), ("case_checks", registry.CASE_CHECKS)):
        for i, c in enumerate(getattr(spec, section)):
            need(c.check in table, (section, i, "check"), f"unknown check '{c.check}' (known: {', '.join(sorted(table))})")
    for section in ("case", "per_unit"):
        fields = getattr(spec.form, section)
        names = [f.field for f in fields]
        for i, f in enumerate(fields):
            path = ("form", section, i)
            need(names.count(f.field) == 1, path + ("field",), f"field '{f.field}' is declared twice")
            need(f.vocabulary is None or f.vocabulary in vocab, path + ("vocabulary",),
                 f"unknown vocabulary '{f.vocabulary}' (known: {', '.join(sorted(vocab))})")
            need(f.validator is None or f.validator in validators.REGISTRY, path + ("validator",),
                 f"unknown validator '{f.validator}' (known: {', '.join(sorted(validators.REGISTRY))})")
            for other in (f.required_when or {}):
                need(other in names, path + ("required_when",), f"required_when refers to unknown field '{other}'")
            if f.after:
                need(f.after in names and fields[names.index(f.after)].type == "date", path + ("after",),
                     f"after must name a date field of the same form, not '{f.after}'")
    for role, p in spec.form.parties.items():
        need(p.validator is None or p.validator in validators.REGISTRY, ("form", "parties", role, "validator"),
             f"unknown validator '{p.validator}'")
    keys = [m.key for m in spec.materials]
    for i, m in enumerate(spec.materials):
        need(keys.count(m.key) == 1, ("materials", i, "key"), f"material key '{m.key}' is declared twice")
        need(bool(m.accept), ("materials", i, "accept"), "at least one accepted file type is needed")
    return out


def load_directory(rules_dir):
    """Check every file under rules/: returns (Context, {key: (filename, text)}) or raises RulesError."""
    registry.load_all()
    rules_dir = Path(rules_dir)
    problems = []
    vocabs, vp = load_vocabularies(rules_dir / "vocabularies.yaml")
    problems += vp
    workflows = {}
    for path in sorted((rules_dir / "workflows").glob("*.yaml")):
        wf, wp = load_workflow(path)
        problems += wp
        if wf is not None:
            workflows[path.stem] = wf
    ctx = Context(vocabs, workflows)
    files = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name == "vocabularies.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        try:
            parse_business(text, _display(path), ctx, expected_key=path.stem)
        except RulesError as exc:
            problems += exc.problems
        files[path.stem] = (_display(path), text)
    if problems:
        raise RulesError(problems)
    return ctx, files


__all__ = ["RulesError", "Context", "parse_business", "load_directory", "format_path", "Located"]
