"""The wheel an operator installs carries everything the bot reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_playbooks_as_package_data(tmp_path: Path) -> None:
    """A non-editable install has no project root: `playbooks/` must travel inside the package."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("ccert_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for source in sorted((ROOT / "playbooks").glob("*.yaml")):
            packaged = f"bot/playbooks/{source.name}"
            assert packaged in names, f"{packaged} is not in the wheel"
            assert archive.read(packaged) == source.read_bytes()
        for data in (
            "bot/domain/data/advisory.yaml",
            "bot/syslog/signatures.yaml",
            "bot/controllers/platforms/iosxe/changes.yaml",
            "bot/simulator/scenarios/demo.yaml",
        ):
            assert data in names
