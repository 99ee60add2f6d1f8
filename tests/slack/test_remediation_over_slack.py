"""The full remediation story through Slack: signed requests in, the fake Web API out,
simulated controllers changed for real and put back exactly as they were."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

from bot.domain.alerts import AlertKind
from bot.domain.approvals import RequestStatus
from bot.store import alerts
from tests.remediation.remediation_helpers import FAST_PARAMS, FAST_RETRY, device_problems, eventually, ntp_config
from tests.support.simulated_site import aireos
from tests.support.slack_bot import SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB, MALLORY = "U0CARLA", "U0ALICE", "U0BOB", "U0MALLORY"


def _request_message(h: SlackBotHarness) -> tuple[int, str]:
    """The request id and ts of the message that carries the Approve/Reject buttons."""
    found = h.request_message()
    if found is None:
        raise AssertionError("no request message with an Approve button")
    return found


def _ephemerals_to(h: SlackBotHarness, user: str) -> list[str]:
    return [json.dumps(c.body) for c in h.slack.calls_to("chat.postEphemeral") if c.body.get("user") == user]


async def _vote(h: SlackBotHarness, action: str, request_id: int, user: str, ts: str, text: str | None = None) -> str:
    """Click Approve/Reject, submit the form it opens with `text`; the answer the voter sees."""
    before = len(_ephemerals_to(h, user))
    status, answer, elapsed = await h.vote(action, request_id, user, ts, text)
    assert status == 200 and elapsed < 3 and not answer, answer  # the form closed
    await eventually(lambda: len(_ephemerals_to(h, user)) > before, timeout=10)
    return _ephemerals_to(h, user)[-1]


async def test_stuck_site_to_verified_fix_through_slack(tmp_path: Path) -> None:
    async with slack_bot(
        tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}", stuck_after_minutes=30
    ) as h:
        config = h.runtime.remediation.config
        h.runtime.remediation.config = dataclasses.replace(config, param_overrides=FAST_PARAMS, retry=FAST_RETRY)
        wlc = h.site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        checker = h.runtime.checker
        await checker.run_check()
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
            await checker.run_check()
            alert = await h.runtime.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
            assert alert is not None and alert.slack_ts is not None

        # The alert's button and the command are the same request.
        status, _, elapsed = await h.click("timeback_request", "site-t/wlc-1", REQUESTER, alert.slack_ts)
        assert status == 200 and elapsed < 3
        await eventually(lambda: bool(_button_values(h)), timeout=15)
        request_id, ts = _request_message(h)
        message = json.dumps(h.slack.calls_to("chat.postMessage")[-1].body)
        assert "config time ntp delete 1" in message and "config time manual 12/02/22 00:00:00" in message
        assert "CAP3702I.4CD4" in message

        own = await _vote(h, "remediation_approve", request_id, REQUESTER, ts)
        assert "your own request" in own
        stranger = await _vote(h, "remediation_approve", request_id, MALLORY, ts, "looks right to me")
        assert "approver" in stranger.lower()
        first = await _vote(h, "remediation_approve", request_id, ALICE, ts, "checked the APs")
        assert "counted" in first and "Still needed: 1" in first
        again = await _vote(h, "remediation_approve", request_id, ALICE, ts)
        assert "counts once" in again
        await _vote(h, "remediation_approve", request_id, BOB, ts)

        async def finished() -> bool:
            view = await h.runtime.remediation.request_view(request_id)
            return view.status in {RequestStatus.SUCCEEDED, RequestStatus.FAILED, RequestStatus.NEEDS_ATTENTION}

        await eventually(finished, timeout=60, interval=0.2)
        view = await h.runtime.remediation.request_view(request_id)
        assert view.status is RequestStatus.SUCCEEDED

        assert all(ap.state == "Registered" for ap in wlc.aps.values())
        assert ntp_config(wlc) == before
        assert device_problems(wlc, before) == []
        assert not wlc.unsaved_changes

        # The next check sees the APs registered: the alert is resolved in place.
        outcome = await checker.run_check()
        assert [type(d).__name__ for d in outcome.decisions] == ["ResolveAlert"]

        updates = [json.dumps(c.body) for c in h.slack.calls_to("chat.update") if c.body.get("ts") == ts]
        assert any("<@U0ALICE>" in u for u in updates), "the request message shows who approved"
        thread = [c.body for c in h.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts]
        assert thread, "run events go into the request's thread"
        audit = await h.runtime.remediation.audit(request_id)
        kinds = [entry.kind for entry in audit]
        text = json.dumps([dataclasses.asdict(e) for e in audit], default=str)
    assert kinds[0] == "request" and kinds.count("vote") == 5
    for command in (
        "config time ntp delete 1",
        "config time manual",
        "config time ntp server 1 192.0.2.123",
        "save config",
    ):
        assert command in text
    assert "s3cret" not in text  # the controller's NTP key never reaches the audit trail


async def test_refusals_over_slack(tmp_path: Path) -> None:
    # CARLA asks without being an approver, so CCERT_ACCESS names her (and ALICE, who asks too).
    async with slack_bot(
        tmp_path,
        aireos("wlc-1"),
        approvers=f"{ALICE},{BOB}",
        approval_ttl_minutes=1,
        access=f"remediate={REQUESTER},{ALICE}",
    ) as h:
        await h.command("remediate site-t wlc-1", user=REQUESTER)
        await eventually(lambda: bool(_button_values(h)), timeout=15)
        request_id, ts = _request_message(h)
        status, _, _ = await h.command("remediate site-t", user=ALICE)
        assert status == 200
        await eventually(
            lambda: (
                any("only one request or run per controller" in e for e in _ephemerals_to(h, ALICE))
                or any("only one request" in str(c.body) for c in h.slack.calls_to("chat.postMessage"))
            ),
            timeout=15,
        )

        rejected = await _vote(h, "remediation_reject", request_id, BOB, ts, "another request is due")
        assert "reject" in rejected.lower()
        late = await _vote(h, "remediation_approve", request_id, ALICE, ts)
        assert "rejected" in late.lower()

        await h.command("remediate site-t wlc-1", user=REQUESTER)
        await eventually(lambda: len(set(_button_values(h))) == 2, timeout=15)
        second_id = max(int(v) for v in _button_values(h))
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=True):
            await h.runtime.expire_requests()
            expired = await _vote(h, "remediation_approve", second_id, ALICE, ts)
        assert "expired" in expired.lower()
        view = await h.runtime.remediation.request_view(second_id)
        assert view.status is RequestStatus.EXPIRED
        assert h.site.sim.controllers["wlc-1"].running.ntp_servers, "nothing was changed"


def _button_values(h: SlackBotHarness) -> list[str]:
    values: list[str] = []
    for call in h.slack.calls_to("chat.postMessage"):
        for block in call.body.get("blocks", []):
            if block.get("type") == "actions":
                values += [e["value"] for e in block["elements"] if e.get("action_id") == "remediation_approve"]
    return values


async def test_not_yet_valid_from_an_ap_goes_into_the_request_thread(tmp_path: Path) -> None:
    import socket

    async with slack_bot(
        tmp_path,
        aireos("wlc-1"),
        approvers=f"{ALICE},{BOB}",
        syslog_listen="udp://127.0.0.1:0",
        access=f"remediate={REQUESTER}",
    ) as h:
        await h.runtime.checker.run_check()  # the syslog receiver learns the APs from the snapshots
        await h.command("remediate site-t wlc-1", user=REQUESTER)
        await eventually(lambda: bool(_button_values(h)), timeout=15)
        _, ts = _request_message(h)
        assert h.runtime.syslog is not None
        line = (
            "<11>Dec  2 00:00:01 CAP3702I.4CD4 *Dec 2 00:00:01.001: %PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID: "
            "Certificate chain validation has failed. The certificate (SN: 1A2B) is not yet valid "
            "Validity period starts on 02:29:13 UTC Dec 6 2022"
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(line.encode(), ("127.0.0.1", h.runtime.syslog.port("udp")))

        def in_thread() -> list[str]:
            return [json.dumps(c.body) for c in h.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts]

        await eventually(lambda: any("NOT YET VALID" in m for m in in_thread()), timeout=10)
    note = next(m for m in in_thread() if "NOT YET VALID" in m)
    assert "CAP3702I.4CD4" in note and "wlc-1" in note


async def test_dry_run_button_shows_every_command_and_changes_nothing(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}") as h:
        wlc = h.site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        status, _, elapsed = await h.click("timeback_dry_run", "site-t/wlc-1", ALICE)
        assert status == 200 and elapsed < 3
        await eventually(lambda: any("config time manual" in e for e in _ephemerals_to(h, ALICE)), timeout=15)
        shown = next(e for e in _ephemerals_to(h, ALICE) if "config time manual" in e)
        assert "config time ntp delete 1" in shown and "save config" in shown
        assert _button_values(h) == [], "a dry run creates no request"
        assert ntp_config(wlc) == before and wlc.clock_source == "ntp"
