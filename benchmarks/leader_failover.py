"""How long is the fleet without a leader when the leader dies?

Two `ccert-bot run` processes share one throwaway PostgreSQL database (a simulated AireOS
controller over SSH, the fake Slack Web API on loopback). Each trial SIGKILLs the instance
that leads and times, from the kill:

* **lock taken**: the standby's log line "took the leader lock" (it then waits T/2 before
  acting, so that a leader cut off from the database has stopped first);
* **acts**: the new leader's `/healthz` `since`, the moment it starts what only the leader
  runs (recovery of interrupted runs, the jobs, the approved-run pump).

The killed instance is started again as the new standby before the next trial, and each kill
comes at a random moment (uniform over T) so the standby's poll cycle is sampled fairly. The anchor
is the design bound, T/5 (the standby's poll) + T/2 (the grace), with T =
`CCERT_LEADER_TIMEOUT_SECONDS`; the numbers are printed as seconds and as fractions of T.

Usage: python benchmarks/leader_failover.py [--trials 10] [--timeout 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.remediation.remediation_helpers import eventually  # noqa: E402
from tests.support import postgres  # noqa: E402
from tests.support.bot_process import BotProcess, bot_process, free_port, run_env  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site  # noqa: E402

LOCK_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO bot\.jobs\.leadership: (\S+) took the leader lock"
)


def lock_taken_at(bot: BotProcess, after: float) -> float | None:
    """When `bot` last took the lock after `after` (its log's timestamps are local time)."""
    found = None
    for line in bot.log_tail(200_000).splitlines():
        match = LOCK_LINE.match(line)
        if match:
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if at >= after - 0.01:
                found = at
    return found


async def trials(count: int, timeout: float, folder: Path) -> list[tuple[float | None, float]]:
    results: list[tuple[float | None, float]] = []
    with postgres.running_server() as server:
        url = server.new_database()
        async with (
            FakeSlack(token="xoxb-failover-bench") as slack,
            simulated_site(folder, aireos("wlc-1")) as site,
            contextlib.AsyncExitStack() as stack,
        ):

            async def start(name: str) -> BotProcess:
                env = _env(site, slack, folder, url, name, timeout)
                bot = await stack.enter_async_context(bot_process(name, env, folder))
                try:
                    await eventually(bot.lead, timeout=30, what=f"{name} answers")
                except AssertionError:
                    sys.exit(f"{name} did not start:\n{bot.log_tail()}")
                return bot

            bots = {"bot-1": await start("bot-1")}
            await eventually(bots["bot-1"].leading_since, timeout=30, what="bot-1 leads")
            bots["bot-2"] = await start("bot-2")
            for trial in range(count):
                leading = [name for name, bot in bots.items() if await bot.leading_since()]
                assert len(leading) == 1, f"exactly one instance should lead, not {leading}"
                leader = leading[0]
                standby = next(name for name in bots if name != leader)
                # At a random moment of the standby's poll cycle: right after a restart its
                # cycle would start at the same offset every trial, and so would the numbers.
                await asyncio.sleep(random.uniform(0, timeout))
                killed_at = time.time()
                bots[leader].kill()
                since = await eventually(bots[standby].leading_since, timeout=3 * timeout, what="the standby leads")
                acts = since.timestamp() - killed_at
                taken = lock_taken_at(bots[standby], killed_at)
                lock = None if taken is None else taken - killed_at
                results.append((lock, acts))
                shown = "?" if lock is None else f"{lock:.2f}"
                print(f"trial {trial + 1}: lock taken {shown} s, acts {acts:.2f} s", flush=True)
                bots[leader] = await start(f"{leader}")  # the killed one comes back as the standby
    return results


def _env(site: SimulatedSite, slack: FakeSlack, folder: Path, url: str, name: str, timeout: float) -> dict[str, str]:
    return run_env(
        site,
        slack,
        folder,
        free_port(),
        CCERT_DB=url,
        CCERT_INSTANCE=name,
        CCERT_LEADER_TIMEOUT_SECONDS=str(timeout),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=15.0, help="CCERT_LEADER_TIMEOUT_SECONDS (T)")
    args = parser.parse_args()
    if not postgres.available():
        sys.exit(f"PostgreSQL 15 is needed ({postgres.PG_BIN}) or {postgres.URL_ENV}")
    with tempfile.TemporaryDirectory(prefix="ccert-failover-") as folder:
        results = asyncio.run(trials(args.trials, args.timeout, Path(folder)))
    t = args.timeout
    bound = t / 5 + t / 2
    acts = [a for _, a in results]
    locks = [lock for lock, _ in results if lock is not None]
    print(f"\nT = {t:g} s, {len(results)} trials; design bound T/5 + T/2 = {bound:.2f} s ({bound / t:.2f} T)")
    if locks:
        print(
            f"lock taken:  min {min(locks):.2f}  median {statistics.median(locks):.2f}  max {max(locks):.2f} s"
            f"   ({min(locks) / t:.2f}-{max(locks) / t:.2f} T)"
        )
    print(
        f"new leader acts: min {min(acts):.2f}  median {statistics.median(acts):.2f}  max {max(acts):.2f} s"
        f"   ({min(acts) / t:.2f}-{max(acts) / t:.2f} T; max/bound {max(acts) / bound:.2f})"
    )


if __name__ == "__main__":
    main()
