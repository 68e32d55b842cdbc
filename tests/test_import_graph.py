"""The import graph of app/, models/ and views/, built from their source with `ast` (nothing is
imported): app/ has no import cycle, and the engine package app/rulebook imports app modules only at
the top of its files (a function-level import is how a cycle used to be hidden)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "models", "views")
ENGINE = "app.rulebook"


def _modules():
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _targets(module, path, node):
    """The project modules an import statement names: a submodule when it is one, else its package."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:   # `import a.b.c` of an attribute: the module that holds it
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def _imports():
    """[(importer, imported, line, function-level?)] for every import of a project module."""
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges += [(module, target, node.lineno, id(node) in inner)
                          for target in _targets(module, path, node) if target != module]
    return edges


def _cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {}
    for a, b, _line, _inner in edges:
        graph.setdefault(a, set()).add(b)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read_from_source():
    """The reader finds what is there: the engine's known imports, top-level and function-level."""
    edges = {(a, b, inner) for a, b, _line, inner in _imports()}
    assert ("app.rulebook.workflow", "app.rulebook.registry", False) in edges        # from . import registry
    assert ("app.rulebook.loader", "app.rulebook.schema", False) in edges           # from .schema import ...
    assert ("app.services.tax", "app.rulebook.loader", False) in edges              # absolute, a name of a module
    assert ("app", "app.rulebook", True) in edges   # the app factory's imports inside create_app are seen as such
    assert _cycles([("x", "y", 1, False), ("y", "z", 1, False), ("z", "x", 1, True)]) == [["x", "y", "z"]]


def test_app_has_no_import_cycle():
    """No cycle among app/ modules, whether the imports are at the top of a file or inside a function."""
    edges = [e for e in _imports() if e[0].split(".")[0] == "app" and e[1].split(".")[0] == "app"]
    assert _cycles(edges) == []


def test_the_engine_imports_app_modules_only_at_the_top():
    offenders = [f"{a} line {line}: {b}" for a, b, line, inner in _imports()
                 if inner and (a == ENGINE or a.startswith(ENGINE + "."))]
    assert offenders == []


def test_the_engine_is_one_package():
    """The workflow lives with the rulebook; nothing imports it from its old place."""
    assert "app.rulebook.workflow" in MODULES and "app.services.workflow" not in MODULES
    assert [e for e in _imports() if e[1] == "app.services.workflow"] == []
