"""Every import points down the layers of ``innonet.domains.LAYERS``; every table and job
kind is reachable from ``innonet.domains.DOMAINS``; the docs show both as the code has them.

Every import in ``src/innonet`` is read, those inside functions too: a unit is a top-level
package (``organisations``, ``jobs`` …) or module (``app``, ``cli``, ``db``, ``web`` …).
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import innonet
from innonet.domains import DOMAINS, LAYERS

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


def units(source: Path = SOURCE) -> set[str]:
    """The top-level packages and modules of innonet."""
    return {path.stem for path in source.glob("*.py") if path.name != "__init__.py"} | {
        path.name for path in source.iterdir() if path.is_dir() and any(path.rglob("*.py"))}


def upward(edges, layers) -> list[str]:
    """Each import of a unit in its own row or a row above, with where it is."""
    row = {unit: index for index, units_of_row in enumerate(layers) for unit in units_of_row}
    return [f"{a} -> {b} at {where[0]}" for (a, b), where in sorted(edges.items()) if row[b] >= row[a]]


def test_every_unit_has_one_place_in_the_layers():
    placed = [unit for row in LAYERS for unit in row]
    assert sorted(placed) == sorted(set(placed)), "a unit in two rows"
    assert set(placed) == units(), {"not placed": units() - set(placed), "no such unit": set(placed) - units()}


def test_every_import_points_down_the_layers():
    edges = import_graph()
    assert ("app", "web") in edges and ("organisations", "db") in edges  # it reads imports
    assert upward(edges, LAYERS) == []


def test_an_upward_import_is_found_with_where_it_is(tmp_path):
    """The checker itself: an import inside a function, up or sideways, is reported."""
    package = tmp_path / "innonet"
    (package / "one").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one" / "__init__.py").write_text("")
    (package / "one" / "service.py").write_text("from innonet.two import helper\n")
    (package / "two.py").write_text("def helper():\n    from innonet.one import service\n")
    (package / "three.py").write_text("from . import two\n")
    edges = import_graph(package)
    assert edges == {("one", "two"): ["innonet/one/service.py:1"],
                     ("two", "one"): ["innonet/two.py:2"], ("three", "two"): ["innonet/three.py:1"]}
    assert units(package) == {"one", "two", "three"}
    assert upward(edges, [("two",), ("one", "three")]) == ["two -> one at innonet/two.py:2"]
    assert upward(edges, [("one", "two", "three")]) == [
        "one -> two at innonet/one/service.py:1", "three -> two at innonet/three.py:1",
        "two -> one at innonet/two.py:2"]


def test_the_docs_show_the_layers_as_declared():
    """docs/development.md draws the layers top-down, one row per line: unit names (``app.py``,
    ``jobs/``) then, after three spaces or more, what the row does."""
    text = (SOURCE.parents[1] / "docs" / "development.md").read_text()
    block = text.split("## Layers", 1)[1].split("```", 2)[1]
    rows = [line.split("   ", 1)[0].split() for line in block.strip().splitlines()]
    shown = [sorted(name.removesuffix(".py").removesuffix("/") for name in row) for row in rows]
    assert shown == [sorted(row) for row in reversed(LAYERS)]


TABLE = re.compile(r"""__tablename__\s*=\s*["']([a-z_]+)["']""")
JOB_KIND = re.compile(r"""^(?:[A-Z_]+_JOB)\s*=\s*["']([a-z_.]+)["']""", re.MULTILINE)


def declared(pattern: re.Pattern) -> dict[str, str]:
    """What the source declares (tables, job kinds) -> the module that declares it."""
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" not in path.parts:
            for name in pattern.findall(path.read_text()):
                found[name] = str(path.relative_to(SOURCE))
    return found


def test_every_table_and_job_kind_is_reachable_from_the_domains():
    """A new module of tables or jobs that no domain names would be missing from migrations,
    backups or the worker: the list is loaded in a process of its own, as a worker does."""
    script = ("import json; from innonet.db import Base; from innonet.worker import load_job_kinds; "
              "from innonet.jobs.service import kind_names; load_job_kinds(); "
              "print(json.dumps([sorted(Base.metadata.tables), kind_names()]))")
    tables, kinds = json.loads(subprocess.run([sys.executable, "-c", script], check=True,
                                              capture_output=True, text=True).stdout)
    assert len(tables) > 60 and len(kinds) > 15
    tables_declared, kinds_declared = declared(TABLE), declared(JOB_KIND)
    assert {name: where for name, where in tables_declared.items() if name not in tables} == {}
    assert {name: where for name, where in kinds_declared.items() if name not in kinds} == {}
    assert set(tables) == set(tables_declared) and set(kinds) == set(kinds_declared)


def test_the_docs_name_every_table_and_job_kind():
    docs = SOURCE.parents[1] / "docs"
    model, development = (docs / "model.md").read_text(), (docs / "development.md").read_text()
    assert [name for name in declared(TABLE) if f"| {name} |" not in model] == []
    assert [name for name in declared(JOB_KIND) if f"`{name}`" not in development] == []


def test_the_domains_name_only_modules_that_exist():
    for domain in DOMAINS:
        for part in ("tables", "api", "views", "commands", "jobs"):
            value = getattr(domain, part)
            for name in [value] if isinstance(value, str) else list(value or ()):
                path = SOURCE / f"{name.replace('.', '/')}.py"
                assert path.exists(), f"{domain.name}.{part}: no module innonet.{name}"


def test_no_two_template_folders_hold_a_page_of_the_same_name():
    """Templates are found by name across every domain's folder: a second file of the same
    name would silently render the first one's page."""
    names: dict[str, list[str]] = {}
    for path in sorted(SOURCE.glob("templates/*.html")) + sorted(SOURCE.glob("*/templates/*.html")):
        names.setdefault(path.name, []).append(str(path.relative_to(SOURCE)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
