"""The package's shape, as ARCHITECTURE.md states it: imports flow one way, no import cycle,
no long module without a stated reason.

The layer table is read from ARCHITECTURE.md itself (rows ``| N | module, module | job |``), so
the document and the rule cannot drift apart. A module may import its own layer or an earlier
one, never a later one. A new top-level module or package must be added to the table.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nasbook"
DOC = ROOT / "ARCHITECTURE.md"
MAX_LINES = 500


def layer_table() -> dict:
    """``{top-level module name: layer number}`` from ARCHITECTURE.md's layer table."""
    layers = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|([^|]+)\|", line)
        if m:
            for name in re.findall(r"`([\w.]+)`", m.group(2)):
                layers[name.split(".")[0]] = int(m.group(1))
    return layers


def top_name(module: str) -> str:
    """``nasbook.explain.search`` -> ``explain``; ``nasbook`` -> ``nasbook``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def source_files():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path, *, module_level_only=False):
    """The nasbook modules ``path`` imports (anywhere in the file, or at module level only),
    as (imported module, line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_of(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    nodes = tree.body if module_level_only else ast.walk(tree)
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "nasbook"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "nasbook":
                continue
            if module == "nasbook":  # from nasbook import rundir, trials
                out += [(f"nasbook.{a.name}", node.lineno) for a in node.names]
            else:
                out.append((module, node.lineno))
    return out


def test_the_layer_table_is_there_and_lists_the_coming_modules():
    layers = layer_table()
    assert layers["config"] < layers["space"] == layers["strategies"] < layers["search"]
    assert layers["search"] == layers["rundir"] <= layers["results"] < layers["explain"]
    assert layers["explain"] < layers["bench"] < layers["oneshot"] < layers["plot"]
    assert layers["plot"] == layers["widgets"] < layers["report"] <= layers["cli"]


def test_every_module_has_a_layer():
    layers = layer_table()
    names = {top_name(module_of(p)) for p in source_files()} - {"nasbook"}
    missing = sorted(names - set(layers))
    assert not missing, (f"add {missing} to the layer table of ARCHITECTURE.md (which layer, "
                         f"and the module's one job)")


def test_imports_flow_one_way():
    layers = layer_table()
    layers.setdefault("nasbook", layers["data"])  # the package root exposes config and data only
    wrong = []
    for path in source_files():
        source = top_name(module_of(path))
        if source == "nasbook":
            continue
        for module, line in imports(path):
            target = top_name(module)
            if target in layers and layers[target] > layers[source]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({source}, layer "
                             f"{layers[source]}) imports {module} (layer {layers[target]})")
    assert not wrong, "imports that run against the data flow:\n" + "\n".join(wrong)


def test_within_the_search_layer_results_never_import_the_search():
    for name in ("rundir.py", "results.py", "trials.py"):
        targets = {m for m, _ in imports(PACKAGE / name)}
        assert not targets & {"nasbook.search", "nasbook.runner", "nasbook.progress"}, name
    assert not {m for m, _ in imports(PACKAGE / "rundir.py")} & {"nasbook.results",
                                                                 "nasbook.trials"}


def test_no_import_cycle_between_modules():
    """Module-level imports between nasbook's files form no cycle (function-level imports are
    lazy, and the layer rule above already keeps them from running back up)."""
    files = {module_of(p): p for p in source_files()}
    graph = {}
    for name, path in files.items():
        targets = set()
        for module, _ in imports(path, module_level_only=True):
            # ``from nasbook.space import x`` needs nasbook.space (its __init__) first
            while module not in files and "." in module:
                module = module.rpartition(".")[0]
            if module in files and module != name:
                targets.add(module)
        graph[name] = targets
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_no_module_is_long_without_a_reason():
    text = DOC.read_text(encoding="utf-8")
    assert "## Long modules" in text
    text = text.split("## Long modules", 1)[1].split("\n## ", 1)[0]  # that section only
    long = []
    for path in source_files():
        n = len(path.read_text(encoding="utf-8").splitlines())
        rel = str(path.relative_to(ROOT))
        if n > MAX_LINES and f"`{rel}`" not in text:
            long.append(f"{rel} ({n} lines)")
    assert not long, (f"modules over {MAX_LINES} lines: split them, or say why in "
                      f"ARCHITECTURE.md's 'Long modules' section: {long}")


def test_the_search_function_reads_as_the_algorithm():
    tree = ast.parse((PACKAGE / "search.py").read_text(encoding="utf-8"))
    search = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "search")
    assert search.end_lineno - search.lineno + 1 < 80


def test_no_module_hides_a_function():
    import nasbook as nb

    assert type(nb.explain.surrogate).__name__ == "module"
    assert callable(nb.explain.search.surrogate)
    for package in (nb.explain, nb.plot, nb.widgets):
        for name in package.__all__:
            assert type(getattr(package, name)).__name__ != "module", (package.__name__, name)
