"""How long does the controller spend set back when Slack is slow?

The time-back window (the `config time manual` command to the NTP restore, as the audit
trail stamps them) should not depend on Slack at all. This runs the real stack twice per
round (signed HTTP clicks into the Bolt app, the fake Slack Web API on loopback, a simulated
AireOS controller over SSH, a real SQLite file): once with Slack answering at once (the
anchor) and once with every Web API call answering `--delay` seconds late from the first vote
on. It prints the window, the run (first vote to the request's end) and how long the thread
took to catch up after the run, with the slow/healthy ratio of the window.

Usage: python benchmarks/slow_slack_timeback.py [--delay 20] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.approvals import RequestStatus  # noqa: E402
from tests.remediation.remediation_helpers import FAST_PARAMS, FAST_RETRY, eventually  # noqa: E402
from tests.support.simulated_site import aireos  # noqa: E402
from tests.support.slack_bot import slack_bot  # noqa: E402

REQUESTER, ALICE, BOB = "U0CARLA", "U0ALICE", "U0BOB"
DONE = {RequestStatus.SUCCEEDED, RequestStatus.FAILED, RequestStatus.NEEDS_ATTENTION}


async def one_run(folder: Path, delay: float) -> dict[str, float]:
    folder.mkdir()
    async with slack_bot(folder, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        config = h.runtime.remediation.config
        h.runtime.remediation.config = dataclasses.replace(config, param_overrides=FAST_PARAMS, retry=FAST_RETRY)
        await h.command("remediate site-t wlc-1", user=REQUESTER)

        await eventually(lambda: h.request_message() is not None, timeout=30)
        found = h.request_message()
        assert found is not None
        request_id, ts = found
        if delay:
            h.slack.delays["*"] = delay
        started = time.monotonic()
        for user in (ALICE, BOB):
            await h.vote("remediation_approve", request_id, user, ts)  # click, then submit the form

        async def finished() -> bool:
            return (await h.runtime.remediation.request_view(request_id)).status in DONE

        await eventually(finished, timeout=3600)
        run = time.monotonic() - started
        chat = getattr(h.runtime.remediation, "chat", None)  # absent before the chat queue
        caught_up = time.monotonic()
        if chat is not None:
            await chat.idle(timeout=3600)
        catch_up = time.monotonic() - caught_up
        commands = [(e.at, e.text) for e in await h.runtime.remediation.audit(request_id) if e.kind == "command"]
        clock_set = next(at for at, text in commands if text.startswith("config time manual"))
        restored = next(at for at, text in commands if text.startswith("config time ntp server"))
        h.slack.delays.clear()
        return {"window": (restored - clock_set).total_seconds(), "run": run, "catch_up": catch_up}


async def main(delay: float, rounds: int) -> None:
    print(f"time-back window with Slack answering {delay:g} s late (every Web API call), {rounds} round(s)")
    print(f"{'round':>5}  {'slack':>8}  {'window s':>9}  {'run s':>7}  {'thread catch-up s':>17}  {'window ratio':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            healthy = await one_run(Path(tmp) / f"healthy-{n}", 0.0)
            slow = await one_run(Path(tmp) / f"slow-{n}", delay)
            for label, result in (("healthy", healthy), (f"{delay:g} s", slow)):
                ratio = result["window"] / healthy["window"]
                print(
                    f"{n:>5}  {label:>8}  {result['window']:>9.2f}  {result['run']:>7.1f}  "
                    f"{result['catch_up']:>17.1f}  {ratio:>11.2f}x"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=20.0, help="seconds every Web API answer is late")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.delay, args.rounds))
