"""Build hook: the wheel carries the top-level `playbooks/` as package data.

`playbooks/` stays at the project root because operators read and review it
there (and an editable install reads it in place); a normal install has no
project root, so the build copies the files into `bot/playbooks/` inside the
wheel, where `bot.remediation.playbook_loader.default_playbook_dir` finds them.
All other metadata lives in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PLAYBOOKS = ROOT / "playbooks"


class BuildPyWithPlaybooks(build_py):
    """`build_py` plus a copy of `playbooks/*.yaml` into the built `bot/playbooks/`."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads playbooks/ in the checkout
            return
        target = Path(self.build_lib) / "bot" / "playbooks"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(PLAYBOOKS.glob("*.yaml")):
            shutil.copyfile(source, target / source.name)


setup(cmdclass={"build_py": BuildPyWithPlaybooks})
