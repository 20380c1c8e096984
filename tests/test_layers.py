"""No import cycle between innonet's top-level packages and modules.

Every import in ``src/innonet`` is read, those inside functions too: a unit is a top-level
package (``organisations``, ``jobs`` …) or module (``app``, ``cli``, ``db``, ``web`` …). The
layers it keeps (docs/development.md): leaves (``config``, ``errors``, ``roles`` …) → ``db``
→ ``web``, ``terminal`` → the domains, each using only those below it → ``app``, ``cli``,
``worker`` above them all.
"""

import ast
from pathlib import Path

import pytest

import innonet

SOURCE = Path(innonet.__file__).parent


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "innonet" and len(parts) > 1 else None


def import_graph(source: Path = SOURCE) -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where (file:line), for every import between two units."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source.parent)
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        own = unit_of(module)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against this module's package
                    package = module.split(".")[: len(module.split(".")) - node.level
                                                  + (path.name == "__init__.py")]
                    base = ".".join(package + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for other in {unit_of(target) for target in targets} - {None, own}:
                if own and ((source / other).is_dir() or (source / f"{other}.py").exists()):
                    edges.setdefault((own, other), []).append(f"{relative}:{node.lineno}")
    return edges


def cycles(edges) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_packages_and_modules():
    edges = import_graph()
    assert ("app", "web") in edges and ("organisations", "db") in edges  # it reads imports
    groups = cycles(edges)
    evidence = [f"{a} -> {b} at {edges[(a, b)][0]}" for group in groups
                for a in group for b in group if (a, b) in edges]
    assert groups == [], "import cycles: " + "; ".join(evidence)


@pytest.mark.parametrize("low, high", [("db", "organisations"), ("web", "accounts"),
                                       ("terminal", "cli"), ("roles", "sharing")])
def test_the_lower_layers_know_nothing_of_those_above(low, high):
    edges = import_graph()
    assert (low, high) not in edges, edges.get((low, high))


def test_a_cycle_is_found_with_where_it_is(tmp_path):
    """The checker itself: a cycle through an import inside a function is reported."""
    package = tmp_path / "innonet"
    (package / "one").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one" / "__init__.py").write_text("")
    (package / "one" / "service.py").write_text("from innonet.two import helper\n")
    (package / "two.py").write_text("def helper():\n    from innonet.one import service\n")
    edges = import_graph(package)
    assert edges == {("one", "two"): ["innonet/one/service.py:1"],
                     ("two", "one"): ["innonet/two.py:2"]}
    assert cycles(edges) == [["one", "two"]]


def test_no_two_template_folders_hold_a_page_of_the_same_name():
    """Templates are found by name across every domain's folder: a second file of the same
    name would silently render the first one's page."""
    names: dict[str, list[str]] = {}
    for path in sorted(SOURCE.glob("templates/*.html")) + sorted(SOURCE.glob("*/templates/*.html")):
        names.setdefault(path.name, []).append(str(path.relative_to(SOURCE)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
