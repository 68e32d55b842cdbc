"""YAML reading that remembers where every value came from.

Rules are edited by configurators, so an error must point at a line they can find: we compose the
YAML node tree ourselves and record the line of each key path, like Home Assistant's loader.
A duplicate key, a bare boolean word or a complex key is reported and left out, and reading goes
on, so the rest of the file is still checked in the same pass; only a syntax error or an empty file
stops here.
"""
import yaml
from flask_babel import lazy_gettext as _l

from . import messages as M
from .messages import Entry, Problem, format_path  # noqa: F401  (format_path is part of this module's API)

# Rules are typed by people, and the console takes text from the browser: a document is capped in
# bytes and in nodes, and anchors/aliases are refused outright, all before any structure is built.
# An alias makes one node appear many times, so nine nested lists of nine aliases ("billion
# laughs") expand to 9**9 values, and an alias inside its own anchor recurses without end. No rules
# file needs them (shared parts live in rules/workflows/ and vocabularies.yaml instead).
MAX_BYTES = 256 * 1024
MAX_NODES = 20000
NO_ANCHORS = Entry(_l("YAML anchors and aliases (&name, *name) are not allowed; write the values out"))
TOO_LARGE = Entry(_l("the document is larger than %(kb)d KB"))
TOO_MANY_NODES = Entry(_l("the document has more than %(n)d nodes (keys, values and list items)"))


class _Refused(yaml.MarkedYAMLError):
    """Raised by _StrictLoader; carries the catalogue message and where it was found."""

    def __init__(self, message, mark):
        super().__init__(problem=message.render(False), problem_mark=mark)
        self.message = message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchor and alias events while composing, and counts the nodes."""

    def __init__(self, stream):
        super().__init__(stream)
        self._nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(NO_ANCHORS(), event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(TOO_MANY_NODES(n=MAX_NODES), event.start_mark)
        return super().compose_node(parent, index)

# Keys YAML 1.1 silently turns into booleans: `on:` becomes True. We refuse them as keys.
_BOOL_WORDS = {"on", "off", "yes", "no", "y", "n", "true", "false"}


class SourceProblem(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(p.english() for p in problems))
        self.problems = problems


class Located:
    """Plain data from one YAML document plus the line of each key path (1-based), and the
    problems found while reading it (keys left out)."""

    def __init__(self, data, lines, filename, problems=()):
        self.data, self.lines, self.filename = data, lines, filename
        self.problems = list(problems)

    def line_of(self, path):
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def problem(located, path, message):
    """The one shape every rules error has: file, line, key path, what is wrong (a catalogue Message)."""
    path = tuple(path)
    return Problem(located.filename, located.line_of(path), path, message)


# PyYAML's own wording for the mistakes people make most, in words a configurator knows.
_YAML_PROBLEMS = (
    ("found character '\\t'", M.YAML_TAB),
    ("mapping values are not allowed", M.YAML_COLON),
    ("expected <block end>", M.YAML_INDENT),
    ("expected <block mapping start>", M.YAML_INDENT),
    ("found unexpected end of stream", M.YAML_UNCLOSED_QUOTE),
    ("expected ',' or ']'", M.YAML_UNCLOSED_BRACKET),
    ("expected ',' or '}'", M.YAML_UNCLOSED_BRACKET),
    ("could not find expected ':'", M.YAML_NO_COLON),
)


def _syntax_message(exc):
    detail = str(exc.problem or exc)
    for needle, entry in _YAML_PROBLEMS:
        if needle in detail:
            return M.YAML_SYNTAX(detail=entry())
    return M.YAML_SYNTAX(detail=detail)


def load(text, filename):
    """Parse YAML text. A syntax error or an empty file raises SourceProblem; duplicate, boolean and
    complex keys are left out of the data and listed in Located.problems."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise SourceProblem([Problem(filename, 0, None, TOO_LARGE(kb=MAX_BYTES // 1024))])
    loader = _StrictLoader(text)
    problems = []
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = exc.message if isinstance(exc, _Refused) else _syntax_message(exc)
        raise SourceProblem([Problem(filename, line, None, message)]) from None
    finally:
        loader.dispose()
    lines = {}
    if node is None:
        raise SourceProblem([Problem(filename, 1, None, M.EMPTY_FILE())])

    def build(n, path):
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                line = key_node.start_mark.line + 1
                if key is None:
                    problems.append(Problem(filename, line, path, M.KEY_NOT_PLAIN()))
                    continue
                if key_node.tag != "tag:yaml.org,2002:str" and key.lower() in _BOOL_WORDS and key_node.style is None:
                    problems.append(Problem(filename, line, path + (key,), M.BOOLEAN_KEY(key=key)))
                    continue
                if key in out:
                    problems.append(Problem(filename, line, path + (key,), M.DUPLICATE_KEY(key=key)))
                    continue
                lines[path + (key,)] = line
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        constructor = yaml.SafeLoader("")
        try:
            return constructor.construct_object(n, deep=True)
        except (yaml.YAMLError, ValueError) as exc:   # e.g. an impossible date such as 2025-02-30
            message = M.NOT_A_DATE(value=n.value) if n.tag == "tag:yaml.org,2002:timestamp" else \
                M.YAML_SYNTAX(detail=str(getattr(exc, "problem", None) or exc))
            problems.append(Problem(filename, n.start_mark.line + 1, path, message))
            return n.value   # the text as written; checks of this key defer to the problem above
        finally:
            constructor.dispose()

    data = build(node, ())
    return Located(data, lines, filename, problems)
