"""`ccert-bot run` stopped while an alert post is in flight (Slack answering late) and started
again: exactly one alert message in the channel, and it is the one later updated and resolved.

Real processes (SIGTERM, SIGKILL), the fake Slack Web API over HTTP, a simulated AireOS
controller over SSH, one SQLite file shared by the two lives of the bot.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from tests.remediation.remediation_helpers import eventually
from tests.support.bot_process import BotProcess, bot_process, free_port, run_env
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site

TOKEN = "xoxb-run-faults-token"
SLOW_POST_SECONDS = 6.0


def _env(site: SimulatedSite, slack: FakeSlack, tmp_path: Path) -> dict[str, str]:
    # Stuck at the first check, and a check every 3 s, so the story fits in a test.
    return run_env(
        site,
        slack,
        tmp_path,
        free_port(),
        CCERT_STUCK_AFTER_MINUTES="0",
        CCERT_CHECK_INTERVAL_MINUTES="0.05",
        CCERT_SHUTDOWN_GRACE_SECONDS="20",
    )


def _alerts(slack: FakeSlack, channel: str) -> list[dict]:
    return [m for m in slack.channel_history(channel) if (m.get("metadata") or {}).get("event_type") == "ccert_alert"]


async def _checks_done(bot: BotProcess, count: int, timeout: float = 30) -> None:
    """Wait until the bot's /metrics count `count` finished checks."""

    async def done() -> bool:
        return ((await bot.metric("ccert_checks_total")) or 0) >= count

    await eventually(done, timeout=timeout, what=f"{count} finished check(s)")


def _time_back(site: SimulatedSite) -> None:
    """What the playbook does, done by hand on the simulator: the APs download and register."""
    wlc = site.sim.controllers["wlc-1"]
    for server in list(wlc.running.ntp_servers):
        wlc.delete_aireos_ntp_server(server.index)
    wlc.set_clock(datetime(2022, 12, 2, tzinfo=UTC))


async def _story(tmp_path: Path, stop: signal.Signals) -> tuple[FakeSlack, str, bytes]:
    async with FakeSlack(token=TOKEN) as slack, simulated_site(tmp_path, aireos("wlc-1")) as site:
        channel = site.inventory.sites["site-t"].channel
        env = _env(site, slack, tmp_path)
        slack.delays["chat.postMessage"] = SLOW_POST_SECONDS
        async with bot_process("first", env, tmp_path) as first:
            await slack.wait_for("chat.postMessage", 1, timeout=30)
            await asyncio.sleep(1.0)  # one second into Slack's six
            first.process.send_signal(stop)
            await asyncio.wait_for(first.process.wait(), timeout=40)
            first_err = first.log_path.read_bytes()
        assert len(_alerts(slack, channel)) == 1  # in the channel, whether or not the bot heard back
        slack.delays.clear()
        async with bot_process("second", env, tmp_path) as second:
            await _checks_done(second, 1)
            _time_back(site)
            await eventually(  # the alert is resolved in place, and its thread says so
                lambda: (
                    any("resolved" in str(c.body).lower() for c in slack.calls_to("chat.update"))
                    and any(
                        "resolved" in str(c.body).lower()
                        for c in slack.calls_to("chat.postMessage")
                        if c.body.get("thread_ts")
                    )
                ),
                timeout=60,
            )
            # The edit and the thread note are two outbox rows, delivered one after the other;
            # a SIGTERM between them would leave the note for the next start (not lost), which
            # is not what this story is about.
            second.process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(second.process.wait(), timeout=40)
            assert code == 0, second.log_tail()
    return slack, channel, first_err


async def test_sigterm_while_the_alert_post_is_in_flight_lets_it_finish(tmp_path: Path) -> None:
    slack, channel, err = await _story(tmp_path, signal.SIGTERM)
    log = err.decode()
    assert "CancelledError" not in log and "Traceback" not in log, log[-3000:]
    (alert,) = _alerts(slack, channel)
    assert len([c for c in slack.calls_to("chat.postMessage") if not c.body.get("thread_ts")]) == 1
    _assert_updated_and_resolved(slack, alert)
    # The grace let the post finish: the restart had nothing to look for.
    assert slack.calls_to("conversations.history") == []


async def test_sigkill_while_the_alert_post_is_in_flight_is_adopted_on_restart(tmp_path: Path) -> None:
    slack, channel, _ = await _story(tmp_path, signal.SIGKILL)
    (alert,) = _alerts(slack, channel)
    _assert_updated_and_resolved(slack, alert)
    assert slack.calls_to("conversations.history"), "the restart looked for the post the kill cut short"


def _assert_updated_and_resolved(slack: FakeSlack, alert: dict) -> None:
    edits = [c for c in slack.calls_to("chat.update") if c.body.get("ts") == alert["ts"]]
    assert edits and all(c.body.get("ts") == alert["ts"] for c in slack.calls_to("chat.update"))
    assert "resolved" in str(edits[-1].body).lower()
    notes = [m for (_, _), m in slack.messages.items() if m.get("thread_ts") == alert["ts"]]
    assert any("resolved" in m["text"].lower() for m in notes)
