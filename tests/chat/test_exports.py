"""The CSV exports: rows as the controllers said them, streamed, and safe to open in Excel."""

from __future__ import annotations

import asyncio
import csv
import gc
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.chat import commands, exports
from bot.chat.reply import Reply
from bot.domain.models import AccessPoint, ControllerSnapshot, ErrorKind, SnapshotError
from bot.domain.verdict import SiteVerdict, evaluate_controller
from bot.fleet.service import SiteReport
from bot.inventory import Site
from bot.store import APState
from bot.store.remediation import AuditEntry
from tests.chat.chat_stubs import inventory

TAKEN = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
MODELS = ("AIR-CAP3702I-E-K9", "AIR-AP1852I-E-K9", "C9120AXI-E", "AIR-CAP2702I-E-K9", "NOT-A-MODEL")


@pytest.fixture(autouse=True)
def no_leftover_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Temporary files go to the test's folder, so a test sees any it leaves behind."""
    monkeypatch.setattr(exports.tempfile, "tempdir", str(tmp_path))
    yield tmp_path


def report(site: str, *snapshots: ControllerSnapshot) -> SiteReport:
    base = inventory().sites.get(site)
    controllers = base.controllers if base is not None else ()
    verdicts = [evaluate_controller(s) for s in snapshots]
    return SiteReport(Site(site, None, controllers), list(snapshots), SiteVerdict.from_verdicts(site, verdicts))


def snapshot(name: str, aps: list[AccessPoint], **fields: object) -> ControllerSnapshot:
    options: dict[str, object] = {
        "platform": "aireos",
        "host": "192.0.2.11",
        "taken_at": TAKEN,
        "site": "site-a",
        "software_version": "8.10.162.0",
        "aps": aps,
        "aps_read": True,
        "declared_ap_count": len(aps),
    }
    options.update(fields)
    return ControllerSnapshot(name=name, **options)  # type: ignore[arg-type]


def synthetic_aps(count: int) -> list[AccessPoint]:
    return [
        AccessPoint(
            f"AP-{i:05d}",
            model=MODELS[i % len(MODELS)],
            ip=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
            image_version="8.5.182.0",
            state="Downloading" if i % 7 == 0 else "Registered",
        )
        for i in range(count)
    ]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_formula_cells_get_a_quote_and_control_characters_go() -> None:
    assert exports.csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    for start in "=+-@":
        assert exports.csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert exports.csv_cell("\t=1") == "'=1", "a tab start is marked and the tab removed"
    assert exports.csv_cell("\rcmd") == "'cmd"
    assert exports.csv_cell("AP\x1b[31m-1\u202e") == "AP[31m-1", "escape and bidi override removed"
    assert exports.csv_cell("\x00=1") == "'=1", "a formula hiding behind a control character is still caught"
    assert exports.csv_cell("AP3702-1") == "AP3702-1"
    assert exports.csv_cell(None) == ""
    assert exports.csv_cell("line 1\nline 2") == "line 1line 2"
    assert exports.csv_cell("line 1\r\nline 2", keep_newlines=True) == "line 1\nline 2"


def test_rows_are_the_snapshot_aps_with_the_advisory_words(tmp_path: Path) -> None:
    aps = [
        AccessPoint("=cmd|' /C calc'!A0", model="AIR-CAP3702I-E-K9", image_version="8.5.182.0", state="Downloading"),
        AccessPoint("AP1852-1", model="AIR-AP1852I-E-K9", image_version="8.10.162.0", state="Registered"),
        AccessPoint("AP-odd", model=None, state=None),
    ]
    file = exports.write_fleet_csv([report("site-a", snapshot("wlc-a1", aps))], {})
    rows = read_csv(file.path)
    assert file.rows == 3 and len(rows) == 3
    assert list(rows[0]) == list(exports.FLEET_COLUMNS)
    first = rows[0]
    assert first["ap_name"] == "'=cmd|' /C calc'!A0", "a device name shaped like a formula is defused"
    assert first["site"] == "site-a" and first["controller"] == "wlc-a1"
    assert first["affected"] == "affected" and first["state"] == "Downloading"
    assert first["image"] == "8.5.182.0" and first["controller_software"] == "8.10.162.0"
    assert "8.10.183.0" in first["fixed_release"]
    assert first["checked_at"] == "2026-12-02T15:30:00+00:00"
    assert first["controller_read"] == "complete"
    assert first["state_since"] == "", "no database, no earlier check: blank, never the read time"
    assert rows[1]["affected"] == "not affected"
    assert rows[2]["affected"] == "unknown model" and rows[2]["model"] == "" and rows[2]["state"] == ""


def test_state_since_only_while_the_ap_is_still_in_the_stored_state() -> None:
    aps = [
        AccessPoint("AP-a", model="AIR-CAP3702I-E-K9", state="Downloading"),
        AccessPoint("AP-b", model="AIR-CAP3702I-E-K9", state="Registered"),
        AccessPoint("AP-c", model="AIR-CAP3702I-E-K9", state="Registered"),
    ]
    since = TAKEN - timedelta(hours=3)
    states = {
        "wlc-a1": {
            "AP-a": APState("wlc-a1", "AP-a", " downloading ", since, TAKEN),
            "AP-b": APState("wlc-a1", "AP-b", "Downloading", since, TAKEN),
        }
    }
    rows = list(exports.fleet_rows([report("site-a", snapshot("wlc-a1", aps))], states))
    column = exports.FLEET_COLUMNS.index("state_since")
    assert [r[column] for r in rows] == ["2026-12-02T12:30:00+00:00", "", ""]


def test_affected_keeps_affected_and_likely_affected_models() -> None:
    aps = synthetic_aps(50)
    rows = list(exports.fleet_rows([report("site-a", snapshot("wlc-a1", aps))], {}, affected_only=True))
    expected = [ap.name for ap in aps if ap.model in ("AIR-CAP3702I-E-K9", "AIR-CAP2702I-E-K9")]
    assert [r[2] for r in rows] == expected and expected
    assert {r[4] for r in rows} <= {"affected", "likely affected"}


def _peak_while_writing(reports: list[SiteReport]) -> tuple[int, exports.ReplyFile]:
    gc.collect()
    tracemalloc.start()
    try:
        file = exports.write_fleet_csv(reports, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, file


def test_ten_thousand_aps_are_streamed_not_buffered() -> None:
    small_aps, aps = synthetic_aps(2_000), synthetic_aps(10_000)
    small = [report("site-a", snapshot("wlc-a1", small_aps))]
    large = [report("site-a", snapshot("wlc-a1", aps))]
    exports.write_fleet_csv(small, {}).discard()  # warm the advisory cache, the csv module, free lists
    small_peak, small_file = _peak_while_writing(small)
    peak, file = _peak_while_writing(large)
    size, small_size = file.path.stat().st_size, small_file.path.stat().st_size
    rows = read_csv(file.path)
    assert file.rows == 10_000 and [r["ap_name"] for r in rows] == [ap.name for ap in aps]
    assert set(rows[0]) == set(exports.FLEET_COLUMNS) and all(None not in r for r in rows)
    assert size > 1_000_000
    # Five times the APs, about the same memory: a list of the rows, or the CSV as one string,
    # would grow with the file (at least by the bytes it added).
    grew = peak - small_peak
    assert grew < (size - small_size) / 4, f"{small_size:,} → {size:,} bytes: peak {small_peak:,} → {peak:,}"


def test_a_controller_not_read_is_named_and_has_no_rows() -> None:
    down = snapshot(
        "wlc-a2",
        [],
        aps_read=False,
        declared_ap_count=None,
        software_version=None,
        errors=[SnapshotError(ErrorKind.UNREACHABLE, "connection refused")],
    )
    partly = snapshot(
        "wlc-a1",
        synthetic_aps(3),
        declared_ap_count=40,
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 3 of 40 APs")],
    )
    reports = [report("site-a", partly, down)]
    file = exports.write_fleet_csv(reports, {})
    rows = read_csv(file.path)
    assert {r["controller"] for r in rows} == {"wlc-a1"}
    assert all(r["controller_read"].startswith("incomplete") for r in rows)
    reply = exports.fleet_export_reply(reports, file)
    assert "wlc-a2" in reply.text and "unreachable" in reply.text and "none of its APs" in reply.text
    assert "wlc-a1" in reply.text and "read 3 of 40 APs" in reply.text and "the 3 APs it listed" in reply.text
    assert "2 controllers not read completely" in reply.title
    assert reply.files == (file,) and not reply.ephemeral


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    def rows() -> Iterator[tuple[str, ...]]:
        yield ("a",)
        raise RuntimeError("the generator broke")

    with pytest.raises(RuntimeError):
        exports.write_csv(("x",), rows(), name="t")
    assert list(tmp_path.iterdir()) == []


def test_audit_rows_keep_the_output_lines_and_defuse_formulas() -> None:
    entries = [
        AuditEntry(1, TAKEN, "vote", "approved", request_id=7, actor="U0ALICE"),
        AuditEntry(
            2,
            TAKEN + timedelta(seconds=5),
            "command",
            "config time ntp delete 1",
            run_id=3,
            controller="wlc-a1",
            step="note_ntp",
            data={"output": "=evil\r\nline two", "elapsed": 0.5},
        ),
    ]
    file = exports.write_audit_csv(7, entries)
    rows = read_csv(file.path)
    assert [r["id"] for r in rows] == ["1", "2"] and file.rows == 2
    assert rows[1]["output"] == "'=evil\nline two"
    assert rows[1]["data"] == '{"elapsed": 0.5}'
    assert rows[1]["run_id"] == "3" and rows[0]["request_id"] == "7"
    assert rows[0]["at"] == "2026-12-02T15:30:00+00:00"


def test_a_reply_with_files_is_never_ephemeral(tmp_path: Path) -> None:
    file = exports.write_audit_csv(1, [])
    with pytest.raises(ValueError):
        Reply(title="x", ephemeral=True, files=(file,))
    Reply(title="x", files=(file,)).discard_files()
    assert not file.path.exists()


def test_filenames_are_plain() -> None:
    assert exports.safe_filename("ccert-export", "site a/../x", "20261202T153000Z") == (
        "ccert-export-site_a_.._x-20261202T153000Z.csv"
    )


def test_a_fleet_message_lists_only_the_controllers_that_fell_short() -> None:
    snapshots = [snapshot(f"wlc-{i:02d}", synthetic_aps(2)) for i in range(exports.MAX_CONTROLLER_ROWS + 5)]
    down = snapshot(
        "wlc-down",
        [],
        aps_read=False,
        declared_ap_count=None,
        errors=[SnapshotError(ErrorKind.AUTH_FAILED, "login refused")],
    )
    reply = exports.fleet_export([report("site-a", *snapshots, down)], {})
    try:
        [section] = reply.sections
        assert section.table is not None and [r[0] for r in section.table.rows] == ["wlc-down"]
        assert "auth failed" in reply.text and f"{len(snapshots)} other controllers read completely" in reply.text
        assert reply.files[0].rows == 2 * len(snapshots)
    finally:
        reply.discard_files()


def test_a_formula_behind_spaces_or_in_full_width_signs_is_marked_too() -> None:
    """Spreadsheets skip leading spaces, and some read `＝` as `=`: those cells are formulas as well."""
    for start in "=+-@":
        assert exports.csv_cell(f" {start}1+1") == f"' {start}1+1"
        assert exports.csv_cell(f"\u00a0{start}1+1") == f"'\u00a0{start}1+1", "a no-break space before it"
    for full_width in "\uff1d\uff0b\uff0d\uff20":  # ＝ ＋ － ＠
        assert exports.csv_cell(f"{full_width}1+1") == f"'{full_width}1+1"
        assert exports.csv_cell(f"  {full_width}1+1") == f"'  {full_width}1+1"
    assert exports.csv_cell(" AP-1 ") == " AP-1 ", "a space before plain text is left alone"
    assert exports.csv_cell("AP\uff1d1") == "AP\uff1d1", "a full-width sign inside a name is no formula"


def test_affected_counts_the_rows_the_file_has_of_a_partly_read_controller() -> None:
    """With `--affected` a partly read controller's rows are fewer than the APs it listed: the
    message says the number in the file, and of how many."""
    aps = synthetic_aps(10)  # 3702, 1852, 9120, 2702, unknown: 4 of every 10 are affected or likely
    partly = snapshot(
        "wlc-a1", aps, declared_ap_count=40, errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 10 of 40 APs")]
    )
    reports = [report("site-a", partly)]
    reply = exports.fleet_export(reports, {}, affected_only=True)
    try:
        rows = read_csv(reply.files[0].path)
        assert len(rows) == reply.files[0].rows < len(aps)
        assert f"the file has {len(rows)} affected APs of the {len(aps)} it listed" in reply.text
        assert "the file has the 10 APs it listed" not in reply.text
    finally:
        reply.discard_files()
    everything = exports.fleet_export(reports, {})
    try:
        assert "the file has the 10 APs it listed" in everything.text
    finally:
        everything.discard_files()


async def test_a_cancelled_export_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Shutdown cancels a running export: the thread writing the CSV cannot be stopped, and
    its Reply reaches nobody, so the command itself deletes the file before the cancel goes on."""
    big = [report("site-a", snapshot("wlc-a1", synthetic_aps(15_000)))]

    async def read_sites(sites: list[str]) -> list[SiteReport]:
        return big

    ctx = SimpleNamespace(fleet=SimpleNamespace(read_sites=read_sites), store=None)
    task = asyncio.create_task(commands.export(ctx, ["site-a"], False))  # type: ignore[arg-type]
    for _ in range(1000):  # until the thread has started writing
        if list(tmp_path.glob("ccert-export-*.csv")):
            break
        await asyncio.sleep(0.005)
    assert list(tmp_path.glob("ccert-export-*.csv")), "the export started writing"
    assert not task.done(), "cancelled mid-write"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.glob("ccert-export-*.csv")) == []


async def test_a_cancelled_audit_export_leaves_no_temporary_file(tmp_path: Path) -> None:
    entries = [AuditEntry(i, TAKEN, "command", "show time " + "x" * 200, request_id=7) for i in range(40_000)]

    async def audit(request_id: int) -> list[AuditEntry]:
        return entries

    async def request_view(request_id: int) -> SimpleNamespace:
        return SimpleNamespace(id=request_id, channel="console", message_ts=None, requester="console")

    # spawn None: the console, where an audit export is always allowed (to the operator's disk).
    ctx = SimpleNamespace(remediation=SimpleNamespace(audit=audit, request_view=request_view), spawn=None)
    task = asyncio.create_task(commands.audit(ctx, 7, True))  # type: ignore[arg-type]
    for _ in range(1000):
        if list(tmp_path.glob("ccert-audit-*.csv")):
            break
        await asyncio.sleep(0.005)
    assert list(tmp_path.glob("ccert-audit-*.csv")) and not task.done(), "cancelled mid-write"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.glob("ccert-audit-*.csv")) == []


def _audit_ctx(user: str, channel: str | None, *, approvers: frozenset[str] = frozenset()) -> SimpleNamespace:
    """A Slack command's context (`spawn` set) as `_audit_export_refusal` reads it."""
    policy = SimpleNamespace(approvers=approvers)
    return SimpleNamespace(
        caller=SimpleNamespace(user_id=user, groups=()),
        channel=channel,
        spawn=lambda coro, name: None,
        remediation=SimpleNamespace(config=SimpleNamespace(policy=policy)),
    )


def test_an_audit_export_is_shared_only_in_the_request_channel() -> None:
    """The CSV holds every command and its output; plain `audit` is private, so the file goes
    only where the request and its run were already posted."""
    posted = SimpleNamespace(id=12, channel="C0CHANGES", message_ts="1.2", requester="U0CARLA")
    assert commands._audit_export_refusal(_audit_ctx("U0DAVE", "C0CHANGES"), posted) is None  # type: ignore[arg-type]
    refused = commands._audit_export_refusal(_audit_ctx("U0ALICE", "C0GENERAL"), posted)  # type: ignore[arg-type]
    assert refused is not None and refused.ephemeral and not refused.files
    assert "<#C0CHANGES>" in refused.title and "`/ccert audit 12 --export` in <#C0CHANGES>" in refused.text
    assert "`/ccert audit 12` shows you the trail here, privately" in refused.text


def test_an_audit_export_of_a_request_posted_nowhere_is_for_its_requester_and_approvers() -> None:
    home_made = SimpleNamespace(id=13, channel=None, message_ts=None, requester="U0CARLA")
    approvers = frozenset({"U0ALICE"})
    for user in ("U0CARLA", "U0ALICE"):
        ctx = _audit_ctx(user, "C0GENERAL", approvers=approvers)
        assert commands._audit_export_refusal(ctx, home_made) is None  # type: ignore[arg-type]
    refused = commands._audit_export_refusal(_audit_ctx("U0DAVE", "C0GENERAL", approvers=approvers), home_made)  # type: ignore[arg-type]
    assert refused is not None and refused.ephemeral and "requester or an approver" in refused.title
