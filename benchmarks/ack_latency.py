"""How fast does `/ccert` answer Slack while the real work hangs?

Slack drops a slash command that is not acknowledged within 3 s. This starts
the real HTTP front door on 127.0.0.1 (Bolt app, signature check, listener,
renderer) against the fake Slack Web API, makes every follow-up hang, and
sends signed `/ccert status site-a` requests, first one at a time and then in
bursts. It prints median / p99 / max ack latency beside the 3000 ms limit.

Two dispatchers:

* `--dispatcher hang` (default): a dispatcher whose follow-up never returns.
* `--dispatcher real`: the real `build_dispatcher` and handlers, with site-a's
  controllers being TCP listeners that accept and never speak SSH (the
  simulator's `hang_on_connect` fault), so each follow-up is a real poll
  stuck in the SSH handshake.

Usage: python benchmarks/ack_latency.py [--requests 200] [--concurrency 1,50] [--dispatcher real]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.chat.reply import Caller, CommandResult, Reply  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.transport import start_http_server  # noqa: E402
from tests.support import slack_signing  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402

SLACK_LIMIT_MS = 3000.0
SECRET = "benchmark-signing-secret"


class HangingDispatcher:
    """Acks at once; the follow-up waits forever (until shutdown cancels it)."""

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        async def never() -> Reply:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        return CommandResult(ack=Reply(title="", text=f"Checking `{text}`…", ephemeral=True), follow_up=never)

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        return await self.dispatch(action_id, caller)


class SilentControllers:
    """TCP listeners that accept and never send an SSH banner."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self, count: int) -> list[int]:
        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)

        ports = []
        for _ in range(count):
            server = await asyncio.start_server(hold, "127.0.0.1", 0)
            self.servers.append(server)
            ports.append(int(server.sockets[0].getsockname()[1]))
        return ports

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        for server in self.servers:
            server.close()
            await server.wait_closed()


def real_dispatcher(ports: list[int], settings: Any) -> Any:
    from bot.chat.dispatch import build_dispatcher
    from bot.inventory import parse_inventory

    controllers = "\n".join(
        f"      - {{name: wlc-a{i}, host: 127.0.0.1, port: {p}, platform: aireos, credentials: lab}}"
        for i, p in enumerate(ports, start=1)
    )
    env = {"BENCH_USER": "admin", "BENCH_PASS": "bench"}
    text = (
        textwrap.dedent("""\
        sites:
          site-a:
            channel: C0SITEA
            controllers:
        """)
        + controllers
        + "\ncredentials:\n  lab: {username_env: BENCH_USER, password_env: BENCH_PASS}\n"
    )
    return build_dispatcher(parse_inventory(text, environ=env), settings, env)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def run_round(
    session: aiohttp.ClientSession, url: str, fake: FakeSlack, requests: int, concurrency: int
) -> tuple[list[float], int]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0

    async def one(i: int) -> None:
        nonlocal failures
        request = slack_signing.slash_command(
            SECRET, "status site-a", user_id=f"U{i:07d}", response_url=fake.response_url(f"r{i}")
        )
        async with gate:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(10):
                    async with session.post(url, data=request.body, headers=request.headers) as response:
                        await response.read()
                        ok = response.status == 200
            except TimeoutError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            if not ok:
                failures += 1

    await asyncio.gather(*(one(i) for i in range(requests)))
    return latencies, failures


async def main(args: argparse.Namespace) -> int:
    async with FakeSlack(token="xoxb-benchmark") as fake:
        settings = load_settings(
            _env_file=None,
            slack_bot_token=fake.token,
            slack_signing_secret=SECRET,
            slack_app_token=None,
            slack_api_url=fake.api_url,
            ssh_timeout_seconds=600.0,
            ssh_strict_host_keys=False,
            max_concurrency=2000,
        )
        silent = SilentControllers()
        if args.dispatcher == "real":
            dispatcher: Any = real_dispatcher(await silent.start(args.controllers), settings)
        else:
            dispatcher = HangingDispatcher()
        bot = build_app(settings, dispatcher)
        await bot.warm_up()
        server = await start_http_server(bot, host="127.0.0.1", port=0)
        print(
            f"ack latency: {args.requests} signed `/ccert status site-a` per round, dispatcher={args.dispatcher}"
            + (f" ({args.controllers} hanging controllers)" if args.dispatcher == "real" else "")
        )
        print(
            f"{'concurrency':>11} {'median ms':>10} {'p99 ms':>8} {'max ms':>8} {'failed':>6} "
            f"{'hung follow-ups':>15}  limit"
        )
        worst = 0.0
        try:
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                for concurrency in args.concurrency:
                    latencies, failures = await run_round(session, server.url, fake, args.requests, concurrency)
                    p99 = percentile(latencies, 99)
                    worst = max(worst, p99)
                    print(
                        f"{concurrency:>11} {statistics.median(latencies):>10.1f} {p99:>8.1f} "
                        f"{max(latencies):>8.1f} {failures:>6} {len(bot.tasks):>15}  {SLACK_LIMIT_MS:.0f} ms"
                    )
        finally:
            await server.stop()
            await silent.stop()
        verdict = "within" if worst < SLACK_LIMIT_MS else "OVER"
        print(f"worst p99 {worst:.1f} ms: {verdict} Slack's {SLACK_LIMIT_MS:.0f} ms ack limit")
        return 0 if worst < SLACK_LIMIT_MS else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per round (default 200)")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 50],
        help="comma-separated in-flight limits, one round each (default 1,50)",
    )
    parser.add_argument("--dispatcher", choices=["hang", "real"], default="hang")
    parser.add_argument("--controllers", type=int, default=2, help="hanging controllers in site-a (real only)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 5000:
        parser.error("--requests must be between 1 and 5000")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
