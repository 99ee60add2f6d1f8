"""Exports through Slack: signed slash commands in, `files_upload_v2` against the fake Web API out.

The uploaded CSV is parsed and compared with what the simulated controllers serve
(their own AP tables), never with numbers written down here.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.chat import exports
from bot.chat.reply import Reply
from bot.domain.ap_models import classify_model
from bot.domain.software_fix import recommended_release
from bot.slack.delivery import Destination, Messenger
from bot.store import ap_state
from tests.remediation.remediation_helpers import eventually
from tests.support.fake_slack import UploadedFile
from tests.support.simulated_site import aireos, iosxe
from tests.support.slack_bot import CHANNEL, SlackBotHarness, slack_bot

ALICE, BOB, CARLA = "U0ALICE", "U0BOB", "U0CARLA"


@pytest.fixture(autouse=True)
def export_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bot's temporary CSV files go to a folder of the test's, to show none is left behind."""
    folder = tmp_path / "exports-tmp"
    folder.mkdir()
    monkeypatch.setattr(exports.tempfile, "tempdir", str(folder))
    return folder


def parse(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def simulated_rows(h: SlackBotHarness, *, affected_only: bool = False) -> list[tuple[str, ...]]:
    """(controller, AP, model, state, image, software) as the simulated controllers hold them.
    A 9800 prints the short model name in `show ap summary`, AireOS the full PID."""
    rows = []
    for name, wlc in h.site.sim.controllers.items():
        for ap in wlc.aps.values():
            if affected_only and not ap.ios_based:
                continue
            model = ap.short_model if wlc.platform == "iosxe" else ap.model
            rows.append((name, ap.name, model, ap.state, ap.image, wlc.version))
    return sorted(rows)


def exported_rows(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return sorted(
        (r["controller"], r["ap_name"], r["model"], r["state"], r["image"], r["controller_software"]) for r in rows
    )


async def one_upload(h: SlackBotHarness, count: int = 1) -> UploadedFile:
    await h.slack.wait_for("files.completeUploadExternal", count, timeout=20)
    shared = h.slack.uploaded_files()
    assert len(shared) == count
    return shared[-1]


def message_with(h: SlackBotHarness, words: str) -> dict[str, object]:
    found = [c for c in h.slack.calls_to("chat.postMessage") if words in json.dumps(c.body)]
    assert found, f"no message with {words!r}"
    return found[-1].response


async def test_export_uploads_every_ap_of_the_site_as_the_controllers_serve_them(
    tmp_path: Path, export_temp: Path
) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as h:
        await h.runtime.checker.run_check()  # the checks' memory gives `state_since`
        status, body, elapsed = await h.command("export site-t")
        assert status == 200 and elapsed < 3
        assert "exporting the APs of site-t" in json.dumps(body)
        upload = await one_upload(h)
        rows = parse(upload.data or b"")
        stored = {
            name: {s.ap_name: s for s in await h.runtime.store.read(ap_state.ap_states, name)}
            for name in ("wlc-1", "wlc-2")
        }

    # The three steps of files_upload_v2, as Slack sees them.
    [asked] = h.slack.calls_to("files.getUploadURLExternal")
    assert asked.body["filename"] == upload.filename and int(asked.body["length"]) == len(upload.data or b"")
    assert [c.body["file_id"] for c in h.slack.calls_to("file_upload")] == [upload.file_id]
    [completed] = h.slack.calls_to("files.completeUploadExternal")
    assert completed.body["files"] == [{"id": upload.file_id, "title": upload.title}]
    # Shared in the channel, in the thread of the message that says what the file holds.
    message = message_with(h, "exported to CSV")
    assert upload.channel == CHANNEL and upload.thread_ts == message["ts"]
    assert upload.filename.startswith("ccert-export-site-t-") and upload.filename.endswith(".csv")
    assert upload.initial_comment == f"{upload.title} ({len(rows)} rows)"
    assert f"{len(rows)} APs exported" in json.dumps(message)

    assert list(rows[0]) == list(exports.FLEET_COLUMNS)
    assert exported_rows(rows) == simulated_rows(h)
    for row in rows:
        wlc = h.site.sim.controllers[row["controller"]]
        ap = wlc.aps[row["ap_name"]]
        model = classify_model(row["model"])
        assert model.at_risk == ap.ios_based, row
        assert row["affected"] == exports.AFFECTED_WORDS[model.category]
        assert row["site"] == "site-t" and row["controller_read"] == "complete"
        assert row["fixed_release"] == recommended_release(wlc.platform, wlc.version).text
        assert datetime.fromisoformat(row["checked_at"]).utcoffset() is not None
        known = stored[row["controller"]][row["ap_name"]]
        assert known.state == row["state"], "the simulated APs stay in their state: the check saw the same"
        assert row["state_since"] == known.state_since.isoformat(timespec="seconds")
    assert list(export_temp.iterdir()) == [], "the temporary file is deleted after the upload"


async def test_export_affected_keeps_only_affected_models(tmp_path: Path, export_temp: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as h:
        await h.command("export site-t --affected")
        upload = await one_upload(h)
        rows = parse(upload.data or b"")
    assert exported_rows(rows) == simulated_rows(h, affected_only=True)
    assert len(rows) < sum(len(w.aps) for w in h.site.sim.controllers.values()), "something was left out"
    assert {r["affected"] for r in rows} <= {"affected", "likely affected"}
    assert all(r["state_since"] == "" for r in rows), "no check ran: no time is made up"
    assert "-affected-" in upload.filename
    assert list(export_temp.iterdir()) == []


async def test_audit_export_uploads_the_request_audit(tmp_path: Path, export_temp: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={CARLA}") as h:
        await h.command("remediate site-t wlc-1", user=CARLA)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        found = h.request_message()
        assert found is not None
        request_id, _ = found
        await h.command(f"audit {request_id} --export", user=ALICE)
        upload = await one_upload(h)
        rows = parse(upload.data or b"")
        entries = await h.runtime.remediation.audit(request_id)
    assert entries, "a request is audited from its creation"
    assert [(r["id"], r["kind"], r["text"]) for r in rows] == [(str(e.id), e.kind, e.text) for e in entries]
    assert all(r["request_id"] in ("", str(request_id)) for r in rows)
    assert upload.filename.startswith(f"ccert-audit-{request_id}-")
    assert upload.channel == CHANNEL
    assert list(export_temp.iterdir()) == []


async def test_audit_export_elsewhere_is_refused_and_says_where(tmp_path: Path, export_temp: Path) -> None:
    """Plain `audit` is private; its CSV goes only to the request's own channel, never to
    whatever channel `--export` was typed in."""
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={CARLA}") as h:
        await h.command("remediate site-t wlc-1", user=CARLA)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        found = h.request_message()
        assert found is not None
        request_id, _ = found
        await h.command(f"audit {request_id} --export", user=ALICE, channel="C0GENERAL")

        def refusals() -> list[str]:
            return [
                json.dumps(c.body)
                for c in h.slack.calls_to("chat.postEphemeral")
                if c.body.get("user") == ALICE and "only in" in json.dumps(c.body)
            ]

        await eventually(lambda: bool(refusals()), timeout=10)
    assert f"<#{CHANNEL}>" in refusals()[0]
    assert h.slack.calls_to("files.getUploadURLExternal") == []
    assert list(export_temp.iterdir()) == []


async def test_audit_without_export_stays_private_and_uploads_nothing(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={CARLA}") as h:
        await h.command("remediate site-t wlc-1", user=CARLA)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        found = h.request_message()
        assert found is not None
        await h.command(f"audit {found[0]}", user=ALICE)
        await eventually(
            lambda: any(
                "Audit of time-back request" in json.dumps(c.body) for c in h.slack.calls_to("chat.postEphemeral")
            )
        )
    assert h.slack.calls_to("files.getUploadURLExternal") == []


@pytest.mark.parametrize("method", ["files.getUploadURLExternal", "files.completeUploadExternal"])
async def test_missing_files_write_scope_gets_words_not_a_traceback(
    tmp_path: Path, export_temp: Path, method: str
) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1")) as h:
        h.slack.fail_next(method, error="missing_scope")
        await h.command("export site-t")
        await h.slack.wait_for(method, timeout=20)

        def notes() -> list[str]:
            return [json.dumps(c.body) for c in h.slack.calls_to("chat.postEphemeral") if c.body.get("user") == ALICE]

        await eventually(lambda: any("files:write" in n for n in notes()), timeout=10)
        note = next(n for n in notes() if "files:write" in n)
    assert "ccert-export-site-t-" in note and "reinstall" in note
    assert "Traceback" not in note and "SlackApiError" not in note
    assert "Something went wrong" not in json.dumps([c.body for c in h.slack.calls])
    assert h.slack.uploaded_files() == []
    assert message_with(h, "exported to CSV"), "the message itself was posted"
    assert list(export_temp.iterdir()) == [], "the temporary file is deleted when the upload fails too"


async def test_a_controller_that_cannot_be_read_is_named_never_dropped(tmp_path: Path, export_temp: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as h:
        h.site.sim.controllers["wlc-2"].faults.refuse_connections = True
        await h.command("export site-t")
        upload = await one_upload(h)
        rows = parse(upload.data or b"")
        message = json.dumps(message_with(h, "exported to CSV"))
    served = [r for r in simulated_rows(h) if r[0] == "wlc-1"]
    assert exported_rows(rows) == served and served
    assert "wlc-2" in message and "unreachable" in message and "none of its APs are in the file" in message
    assert "1 controller not read completely" in message
    assert upload.initial_comment == f"{upload.title} ({len(rows)} rows)"
    assert list(export_temp.iterdir()) == []


class RecordingClient:
    """Just enough of `AsyncWebClient` for `Messenger.post`: what `files_upload_v2` was given."""

    def __init__(self) -> None:
        self.uploads: list[dict[str, Any]] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        return {"channel": kwargs["channel"], "ts": "1700000000.000100"}

    async def files_upload_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.uploads.append(kwargs)
        return {"ok": True}


async def test_the_upload_is_read_in_a_worker_thread_and_sent_as_bytes(
    export_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """slack_sdk given a path reads the file on the event loop; the bot gives it the bytes,
    read in a worker thread, with the file's name, and still deletes the file afterwards."""
    readers: list[threading.Thread] = []
    read_bytes = Path.read_bytes

    def recording_read_bytes(self: Path) -> bytes:
        readers.append(threading.current_thread())
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", recording_read_bytes)
    file = exports.write_audit_csv(7, [])
    expected = file.path.read_bytes()
    readers.clear()
    client = RecordingClient()
    await Messenger(client).post(  # type: ignore[arg-type]
        Reply(title="audit", files=(file,)), Destination(user_id=ALICE, channel_id=CHANNEL)
    )
    [upload] = client.uploads
    assert isinstance(upload["file"], bytes) and upload["file"] == expected
    assert upload["filename"] == file.filename and upload["channel"] == CHANNEL
    assert readers and all(t is not threading.main_thread() for t in readers), "never read on the event loop"
    assert list(export_temp.iterdir()) == [], "deleted after the upload"
