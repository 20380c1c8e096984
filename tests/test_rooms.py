"""Rooms a newcomer can read: no module of the application over 700 lines, no function over
80 (the database migrations, written once and never read again, excepted)."""

import ast
from pathlib import Path

import innonet

SOURCE = Path(innonet.__file__).parent
MOST_MODULE_LINES = 700
MOST_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return [p for p in sorted(SOURCE.rglob("*.py")) if "migrations" not in p.relative_to(SOURCE).parts]


def too_long(path: Path) -> list[str]:
    """What in the file is over its limit, as ``name (lines)``."""
    text = path.read_text(encoding="utf-8")
    found = [f"the module ({text.count(chr(10))} lines)"] if text.count("\n") > MOST_MODULE_LINES else []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MOST_FUNCTION_LINES:
                found.append(f"{node.name} ({length} lines)")
    return found


def test_no_module_or_function_is_over_its_limit():
    over = {str(p.relative_to(SOURCE)): found for p in modules() if (found := too_long(p))}
    assert not over, f"split these along what changes together: {over}"


def test_the_check_finds_a_long_function_and_a_long_module(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MOST_FUNCTION_LINES))
    path = tmp_path / "long.py"
    path.write_text(f"def long():\n{body}\n\n\ndef short():\n    return 1\n", encoding="utf-8")
    assert too_long(path) == [f"long ({MOST_FUNCTION_LINES + 1} lines)"]
    path.write_text("x = 1\n" * (MOST_MODULE_LINES + 1), encoding="utf-8")
    assert too_long(path) == [f"the module ({MOST_MODULE_LINES + 1} lines)"]
    assert modules() and all(p.suffix == ".py" for p in modules())
