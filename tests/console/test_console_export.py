"""The console twin of the exports: the CSV is written to `CCERT_EXPORT_DIR` and its path printed."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from bot.chat import exports
from bot.chat.reply import Reply, ReplyFile
from bot.console.repl import save_files
from bot.runtime import run_console_bot
from tests.support.simulated_site import aireos, iosxe, simulated_site


@pytest.fixture(autouse=True)
def export_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exports-tmp"
    folder.mkdir()
    monkeypatch.setattr(exports.tempfile, "tempdir", str(folder))
    return folder


async def test_export_writes_the_file_and_prints_its_path(tmp_path: Path, export_temp: Path) -> None:
    target = tmp_path / "out" / "exports"  # created when missing
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2"), export_dir=target) as site:
        out = io.StringIO()
        code = await run_console_bot(
            site.inventory, site.settings, site.environ, io.StringIO("/ccert export site-t\n"), out
        )
    text = out.getvalue()
    assert code == 0
    match = re.search(r"rows written to (\S+\.csv)", text)
    assert match, text
    path = Path(match.group(1))
    assert path.parent == target.resolve() and path.name.startswith("ccert-export-site-t-")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    served = sorted((name, ap.name, ap.state) for name, wlc in site.sim.controllers.items() for ap in wlc.aps.values())
    assert sorted((r["controller"], r["ap_name"], r["state"]) for r in rows) == served
    assert f"{len(rows)} APs exported to CSV" in text
    assert list(export_temp.iterdir()) == [], "moved, not copied"


def _file(folder: Path, name: str = "x.csv") -> ReplyFile:
    path = folder / f"tmp-{name}"
    path.write_text("a\n1\n", encoding="utf-8")
    return ReplyFile(filename=name, title="T", path=path, rows=1)


def test_a_file_of_the_same_name_is_never_overwritten(tmp_path: Path, export_temp: Path) -> None:
    (tmp_path / "x.csv").write_text("keep me", encoding="utf-8")
    lines = save_files(Reply(title="r", files=(_file(export_temp),)), tmp_path)
    assert (tmp_path / "x.csv").read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "x-2.csv").exists() and str((tmp_path / "x-2.csv").resolve()) in lines[0]


def test_a_folder_that_cannot_be_written_is_said_and_the_temp_file_goes(tmp_path: Path, export_temp: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    lines = save_files(Reply(title="r", files=(_file(export_temp),)), blocker / "sub")
    assert lines[0].startswith("❗ could not write x.csv")
    assert list(export_temp.iterdir()) == []
