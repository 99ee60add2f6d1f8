"""Two `ccert-bot run` processes on one PostgreSQL database: the leader dies or is cut off in
the middle of an approved time-back, and the standby finishes the story.

Everything is real: two bot processes, a simulated AireOS controller over SSH (in this test's
process, so its command log is the device's own record of who typed what, and when), the fake
Slack Web API over HTTP, a throwaway PostgreSQL server. Each bot logs in with its own account
(`bot-a`, `bot-b`), so the command log tells them apart.

The request is made on the standby and voted on both, the way a load balancer spreads Slack's
requests; the leader drives the run. Then:

* **SIGKILL at the clock-back step**: the leader dies the moment `config time manual` reaches
  the controller (the device has changed, the bot never heard back). The standby takes the
  lead within `CCERT_LEADER_TIMEOUT_SECONDS`, recovers the run as after a crash, and the
  controller ends with NTP exactly as recorded and a current clock; one alert in the channel;
  the next check runs.
* **Partition**: the leader's lock session is terminated by the server (`pg_terminate_backend`)
  while the run waits for the APs. The old leader stops acting within the timeout, and the
  command log shows no line from it once the new leader has the lead.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from bot.simulator import Controller as SimController
from bot.simulator.command_log import CommandRecord
from bot.slack.modals import TEXT_ACTION, TEXT_BLOCK
from bot.store import remediation as q
from tests.remediation.remediation_helpers import clock_is_current, device_problems, eventually, ntp_config
from tests.support import slack_signing
from tests.support.bot_process import SECRET, BotProcess, bot_process, free_port, run_env
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site
from tests.support.slack_bot import opened_form, request_message

pytestmark = pytest.mark.slow

TOKEN = "xoxb-failover-token"
T = 5.0  # CCERT_LEADER_TIMEOUT_SECONDS: a standby acts about T/5 + T/2 after the leader is gone
REQUESTER, ALICE, BOB = "U0CARLA", "U0ALICE", "U0BOB"
ACCOUNTS = {"bot-a": "pass-a", "bot-b": "pass-b"}


@dataclass
class Pair:
    """The two instances, and what the story needs around them."""

    site: SimulatedSite
    slack: FakeSlack
    a: BotProcess
    b: BotProcess
    url: str
    channel: str

    @property
    def wlc(self) -> SimController:
        return self.site.sim.controllers["wlc-1"]


def _env(pair_site: SimulatedSite, slack: FakeSlack, tmp_path: Path, url: str, name: str) -> dict[str, str]:
    return run_env(
        pair_site,
        slack,
        tmp_path,
        free_port(),
        SIM_USER=name,
        SIM_PASS=ACCOUNTS[name],
        CCERT_DB=url,
        CCERT_INSTANCE=name,
        CCERT_LEADER_TIMEOUT_SECONDS=str(T),
        CCERT_STUCK_AFTER_MINUTES="0",  # stuck (and alerted) at the first check
        CCERT_CHECK_INTERVAL_MINUTES="0.1",  # a check every 6 s
        CCERT_APPROVERS=f"{REQUESTER},{ALICE},{BOB}",
        CCERT_PLAYBOOK_WAIT_MINUTES="2",
        CCERT_PLAYBOOK_POLL_SECONDS="0.5",
        CCERT_SHUTDOWN_GRACE_SECONDS="5",
    )


@asynccontextmanager
async def two_bots(tmp_path: Path, url: str, **controller: Any) -> AsyncIterator[Pair]:
    """`bot-a` started first and leading, then `bot-b` as its standby."""
    entry = aireos("wlc-1", accounts=ACCOUNTS, **controller)
    async with FakeSlack(token=TOKEN) as slack, simulated_site(tmp_path, entry) as site:
        channel = site.inventory.sites["site-t"].channel
        async with bot_process("bot-a", _env(site, slack, tmp_path, url, "bot-a"), tmp_path) as a:
            await eventually(a.leading_since, timeout=30, what="bot-a leads")
            async with bot_process("bot-b", _env(site, slack, tmp_path, url, "bot-b"), tmp_path) as b:
                await eventually(b.lead, timeout=30, what="bot-b answers as a standby")
                try:
                    yield Pair(site, slack, a, b, url, channel)
                except BaseException:
                    print("--- bot-a ---\n" + a.log_tail() + "\n--- bot-b ---\n" + b.log_tail())
                    raise


async def _send(bot: BotProcess, request: slack_signing.SignedRequest) -> str:
    async with aiohttp.ClientSession() as http:
        status, text = await request.post(http, bot.url + "/slack/events")
    assert status == 200, (bot.name, status, text)
    return text


async def _vote(pair: Pair, clicked_on: BotProcess, submitted_on: BotProcess, user: str, request_id: int) -> None:
    """`user` clicks Approve on one instance; the form's submission reaches the other (a load
    balancer owes the bot no stickiness)."""
    found = request_message(pair.slack)
    assert found is not None
    trigger = slack_signing.unique_trigger_id()
    click = slack_signing.block_actions(
        SECRET,
        "remediation_approve",
        str(request_id),
        user_id=user,
        channel_id=pair.channel,
        message_ts=found[1],
        trigger_id=trigger,
        response_url=pair.slack.response_url(),
    )
    await _send(clicked_on, click)
    view = await opened_form(pair.slack, trigger, timeout=10)
    values = slack_signing.form_values(TEXT_BLOCK, TEXT_ACTION, "checked the APs")
    await _send(submitted_on, slack_signing.view_submission(SECRET, view, values, user_id=user, user_name=user))


async def _approve_on_both(pair: Pair) -> int:
    """Request on the standby, one vote through each instance; the request's id."""
    await eventually(lambda: len(_alerts(pair)) == 1, timeout=30, what="the first check's alert")
    command = slack_signing.slash_command(
        SECRET,
        "remediate site-t wlc-1",
        user_id=REQUESTER,
        channel_id=pair.channel,
        response_url=pair.slack.response_url(),
    )
    await _send(pair.b, command)
    request_id, _ = await eventually(lambda: request_message(pair.slack), timeout=20, what="the request message")
    await _vote(pair, pair.a, pair.b, ALICE, request_id)
    await _vote(pair, pair.b, pair.a, BOB, request_id)
    return int(request_id)


def _alerts(pair: Pair) -> list[dict[str, Any]]:
    return [
        m
        for m in pair.slack.channel_history(pair.channel)
        if (m.get("metadata") or {}).get("event_type") == "ccert_alert" and not m.get("thread_ts")
    ]


async def _status(url: str, request_id: int) -> str:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT status FROM remediation_requests WHERE id = %s", [request_id])
        row = await cursor.fetchone()
    return str(row[0]) if row else ""


async def _final_status(url: str, request_id: int, timeout: float) -> str:
    async def final() -> str | None:
        status = await _status(url, request_id)
        return status if status in q.FINAL_REQUEST else None

    return str(await eventually(final, timeout=timeout, interval=0.25, what=f"request {request_id} ends"))


async def _checks(bot: BotProcess) -> float:
    return (await bot.metric("ccert_checks_total")) or 0.0


def _lines(records: list[CommandRecord]) -> list[str]:
    return [r.line for r in records]


async def test_sigkill_at_the_clock_back_step_the_standby_restores_ntp_exactly(
    tmp_path: Path, postgres_url: str
) -> None:
    async with two_bots(tmp_path, postgres_url) as pair:
        wlc = pair.wlc
        before = ntp_config(wlc)
        killed_at: list[float] = []

        def kill_at_clock_back(entry: CommandRecord) -> None:
            if entry.login == "bot-a" and entry.line.startswith("config time manual") and not killed_at:
                pair.a.kill()  # before the controller has even answered
                killed_at.append(entry.at)

        wlc.command_log.watch = kill_at_clock_back
        request_id = await _approve_on_both(pair)
        await eventually(lambda: bool(killed_at), timeout=60, what="bot-a reaches the clock-back step")
        assert wlc.running.ntp_servers == [] and not clock_is_current(wlc), "the kill caught the time-back midway"

        since = await eventually(pair.b.leading_since, timeout=3 * T, what="bot-b takes the lead")
        took = since.timestamp() - killed_at[0]
        assert 0 < took < T, f"bot-b acted {took:.2f} s after the kill (CCERT_LEADER_TIMEOUT_SECONDS={T:g})"

        status = await _final_status(pair.url, request_id, timeout=120)
        checks_at_takeover = await _checks(pair.b)
        await eventually(lambda: _more_checks(pair.b, checks_at_takeover), timeout=30, what="bot-b runs the next check")

        assert device_problems(wlc, before) == [], status
        assert ntp_config(wlc) == before and clock_is_current(wlc)
        assert len(_alerts(pair)) == 1, [m.get("text") for m in _alerts(pair)]
        assert len([c for c in pair.slack.calls_to("chat.postMessage") if _is_request(c.body)]) == 1
        # Whatever bot-a typed, it typed before it died; bot-b put the controller back.
        assert all(r.at <= killed_at[0] for r in wlc.command_log.by("bot-a"))
        assert any(
            line.startswith("config time ntp server 1 192.0.2.123") for line in _lines(wlc.command_log.by("bot-b"))
        )
        _, request_ts = request_message(pair.slack) or (0, "")
        thread = [
            json.dumps(c.body) for c in pair.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == request_ts
        ]
        assert any("after bot-a stopped (bot-b leads now and takes it over)" in m for m in thread), thread
        assert await pair.b.stop() == 0, pair.b.log_tail()


async def test_a_leader_cut_off_from_the_database_sends_nothing_once_the_standby_leads(
    tmp_path: Path, postgres_url: str
) -> None:
    # The APs take ~10 s to download: the run is waiting for them when the leader is cut off.
    async with two_bots(tmp_path, postgres_url, download_seconds=6000) as pair:
        wlc = pair.wlc
        before = ntp_config(wlc)
        clock_back: list[float] = []
        wlc.command_log.watch = lambda e: clock_back.append(e.at) if e.line.startswith("config time manual") else None
        request_id = await _approve_on_both(pair)
        await eventually(lambda: clock_back, timeout=60, what="bot-a sets the clock back")
        # bot-a is in the wait step: it reads the APs well after the clock went back (the
        # scheduled checks read them too, but the run's verify step comes within milliseconds).
        await eventually(
            lambda: any(
                r.line.startswith("show ap summary") and r.at > clock_back[0] + 0.5 for r in wlc.command_log.by("bot-a")
            ),
            timeout=20,
            what="bot-a polls the APs",
        )

        cut_at = time.time()
        assert await _terminate_leader_session(pair.url, "bot-a") == 1
        since = await eventually(pair.b.leading_since, timeout=3 * T, what="bot-b takes the lead")
        status = await _final_status(pair.url, request_id, timeout=120)

        from_a = wlc.command_log.by("bot-a")
        last_a = max(r.at for r in from_a)
        assert last_a < since.timestamp(), (
            f"bot-a typed {from_a[-1].line!r} {last_a - since.timestamp():.2f} s after bot-b took the lead"
        )
        assert last_a - cut_at < T, f"bot-a went on for {last_a - cut_at:.2f} s after its session was cut"
        assert all(r.at >= since.timestamp() for r in wlc.command_log.by("bot-b") if r.at > cut_at)
        lead_a = await eventually(lambda: _standby(pair.a), timeout=T, what="bot-a says it no longer leads")
        assert lead_a["leader"] in ("bot-b", None)
        assert status == "succeeded", status
        assert device_problems(wlc, before) == [] and clock_is_current(wlc)
        assert all(ap.state == "Registered" for ap in wlc.aps.values())
        assert len(_alerts(pair)) == 1
        assert (await pair.a.lead() or {}).get("leading") is False  # it stays a standby: bot-b holds the lock


async def _more_checks(bot: BotProcess, than: float) -> bool:
    return await _checks(bot) > than


async def _standby(bot: BotProcess) -> dict[str, Any] | None:
    lead = await bot.lead()
    return lead if lead is not None and lead.get("leading") is False else None


def _is_request(body: dict[str, Any]) -> bool:
    return not body.get("thread_ts") and any(
        e.get("action_id") == "remediation_approve"
        for block in body.get("blocks", [])
        if block.get("type") == "actions"
        for e in block.get("elements", [])
    )


async def _terminate_leader_session(url: str, instance: str) -> int:
    """What a network partition does to the leader's lock session, done by the server: end it."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [f"ccert-bot/{instance}/leader"],
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
