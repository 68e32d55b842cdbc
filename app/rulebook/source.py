"""YAML reading that remembers where every value came from.

Rules are edited by configurators, so an error must point at a line they can find: we compose the
YAML node tree ourselves and record the line of each key path, like Home Assistant's loader.
"""
import yaml

# Keys YAML 1.1 silently turns into booleans: `on:` becomes True. We refuse them as keys.
_BOOL_WORDS = {"on", "off", "yes", "no", "y", "n", "true", "false"}


class SourceProblem(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


class Located:
    """Plain data from one YAML document plus the line of each key path (1-based)."""

    def __init__(self, data, lines, filename):
        self.data, self.lines, self.filename = data, lines, filename

    def line_of(self, path):
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, path):
        return f"{self.filename}, line {self.line_of(path)}"


def format_path(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def problem(located, path, message):
    """The one message shape every rules error uses: file, line, key path, what is wrong."""
    return f"{located.filename}, line {located.line_of(path)}: {format_path(path)}: {message}"


def load(text, filename):
    """Parse YAML text; syntax errors, duplicate keys and boolean keys become SourceProblem."""
    loader = yaml.SafeLoader(text)
    problems = []
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SourceProblem([f"{filename}, line {line}: YAML syntax error: {exc.problem or exc}"]) from None
    finally:
        loader.dispose()
    lines = {}
    if node is None:
        raise SourceProblem([f"{filename}, line 1: the file is empty"])

    def build(n, path):
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                line = key_node.start_mark.line + 1
                if key is None:
                    problems.append(f"{filename}, line {line}: {format_path(path)}: keys must be plain words")
                    continue
                if key_node.tag != "tag:yaml.org,2002:str" and key.lower() in _BOOL_WORDS and key_node.style is None:
                    problems.append(f"{filename}, line {line}: {format_path(path + (key,))}: the bare key '{key}' "
                                    "is read as a boolean by YAML; quote it or choose another word")
                    continue
                if key in out:
                    problems.append(f"{filename}, line {line}: {format_path(path + (key,))}: duplicate key '{key}'")
                    continue
                lines[path + (key,)] = line
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        constructor = yaml.SafeLoader("")
        try:
            return constructor.construct_object(n, deep=True)
        finally:
            constructor.dispose()

    data = build(node, ())
    if problems:
        raise SourceProblem(problems)
    return Located(data, lines, filename)
