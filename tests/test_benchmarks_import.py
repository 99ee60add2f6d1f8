"""Every `bot` (or test-support) name a benchmark imports exists: the benchmarks are run by
hand, not by the suite, so a rename in `bot/` would otherwise break them silently (issue 14
moved many)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

#: The project's own packages: a benchmark may use the test support (the fakes, the simulated
#: site), and a rename there would break it as silently as one in `bot/`.
PROJECT = {"bot", "tests"}
BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def _bot_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of every `from bot... import name` and `import bot...` (and the same
    for `tests`), at any depth."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
            found.extend((node.lineno, node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] in PROJECT)
    return found


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_every_bot_name_a_benchmark_imports_exists(path: Path) -> None:
    missing = []
    for line, module, name in _bot_imports(path):
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{path.name}:{line}: {module} ({exc})")
            continue
        if name is not None and not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{path.name}:{line}: {module} has no {name}")
    assert missing == []


def test_the_benchmarks_are_found() -> None:
    assert len(BENCHMARKS) >= 5 and all(_bot_imports(p) for p in BENCHMARKS)
