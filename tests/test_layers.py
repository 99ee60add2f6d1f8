"""No import runs up the layers: the import-linter contract in pyproject.toml holds over `bot/`.

The layers (top to bottom) and why each sits where it does are in `[tool.importlinter]`;
this test is what makes a drift fail the suite (a function-level import counts too, so a
cycle cannot be hidden inside a function again). The second test proves the contract bites:
a copy of the tree with one upward import is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with `tree`'s pyproject.toml, finding `tree`'s own `bot` package first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-c", LINT], cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_no_import_runs_up_the_layers() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    settings = tmp_path / "bot" / "settings.py"
    settings.write_text(settings.read_text() + "\n\ndef _upward() -> None:\n    import bot.chat.dispatch  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "bot.settings -> bot.chat.dispatch" in result.stdout
