"""The layers: ``knowledge`` (data) < ``tutor`` (lessons, models, commands) < ``ui``.

A lower layer never imports a higher one, not even inside a function: the imports of every
module are read with ``ast``, so the test fails on the line that breaks the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"knowledge": ("tutor", "ui"), "tutor": ("ui",)}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a Python file."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def layer_violations(package: str, banned: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {top}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, top in imported_packages(path) if top in banned]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(package):
    assert layer_violations(package, FORBIDDEN[package]) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from tutor import runtime\n    import ui.resources\n")
    assert imported_packages(module) == [(2, "tutor"), (3, "ui")]
