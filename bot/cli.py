"""`ccert-bot` command line: one entry point for every way the bot runs.

Each subcommand is a small function; heavy imports happen inside them so
`ccert-bot check-config` stays instant and does not need Slack tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.inventory import Inventory
from bot.preflight import Need, Report
from bot.preflight import check as preflight
from bot.settings import Settings, describe_settings_error


def _preflight_or_exit(args: argparse.Namespace, need: Need) -> Report:
    """Every check `need` calls for, or exit 2 listing every problem: nothing starts, nothing is created."""
    report = preflight(need, inventory=Path(args.inventory) if getattr(args, "inventory", None) else None)
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if not report.ok:
        for line in report.problems:
            print(f"error: {line}", file=sys.stderr)
        print(f"{len(report.problems)} problem(s) found; `ccert-bot check-config` lists them too.", file=sys.stderr)
        raise SystemExit(2)
    return report


def _run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run on one event loop; Ctrl-C is a normal way to stop, not an error."""
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 0


NEEDS = {"run": Need.RUN, "console": Need.CONSOLE, "status": Need.STATUS}


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate everything the chosen command would use, print every problem, exit 1 on any."""
    report = preflight(NEEDS[args.for_command], inventory=Path(args.inventory) if args.inventory else None)
    for line in report.problems:
        print(f"error: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    if not report.ok:
        print(f"{len(report.problems)} problem(s) found; fix them before starting the bot.")
        return 1
    assert report.inventory is not None
    print(
        f"ok: {report.inventory_path}: {len(report.inventory.sites)} site(s), "
        f"{len(report.inventory.controllers())} controller(s), ready for `ccert-bot {args.for_command}`"
        + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    )
    if report.settings is not None:
        from bot.store.leader_lock import lead_summary

        print(f"store: {lead_summary(report.settings.db, password=report.settings.db_password_text)['text']}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulator import cli as simulator_cli

    return _run_async(simulator_cli.run(args))


def cmd_status(args: argparse.Namespace) -> int:
    from bot.console.status_command import run_status

    report = _preflight_or_exit(args, Need.STATUS)
    assert report.settings is not None and report.inventory is not None
    return _run_async(
        run_status(args.site, report.inventory, report.settings, as_json=args.json, environ=report.environ)
    )


def cmd_known_hosts(args: argparse.Namespace) -> int:
    """Fetch the controllers' SSH host keys, print fingerprints, merge them into --write FILE."""
    from bot.console.known_hosts_command import run_known_hosts

    report = _preflight_or_exit(args, Need.KEYS)
    assert report.settings is not None and report.inventory is not None
    return _run_async(run_known_hosts(args, report.inventory, report.settings))


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulated demo site + console in one process."""
    from bot.chat.access import AccessSpecError
    from bot.demo import run_demo

    try:
        return _run_async(run_demo(time_scale=args.time_scale))
    except ValidationError as exc:  # a bad `.env` in this folder: the demo reads it too
        for line in describe_settings_error(exc):
            print(f"error: {line}", file=sys.stderr)
        return 2
    except AccessSpecError as exc:
        print(f"error: {exc} (from the environment or .env)", file=sys.stderr)
        return 2


def cmd_console(args: argparse.Namespace) -> int:
    """The console twin against the real inventory."""
    from bot.runtime import run_console_bot

    report = _preflight_or_exit(args, Need.CONSOLE)
    assert report.settings is not None and report.inventory is not None
    return _run_async(run_console_bot(report.inventory, report.settings, report.environ, user=args.as_user))


def cmd_manifest(args: argparse.Namespace) -> int:
    """Print the Slack app manifest: paste it into api.slack.com/apps → Create New App."""
    from bot.slack.manifest import PLACEHOLDER_HOST, dump_manifest, request_url

    socket_mode = args.mode == "socket"
    if args.url and socket_mode:
        print("error: --url is for --mode http (Socket Mode needs no public URL)", file=sys.stderr)
        return 2
    try:
        url = request_url(args.url) if args.url else None
    except ValueError as exc:
        print(f"error: --url {exc}", file=sys.stderr)
        return 2
    print(dump_manifest(args.format, socket_mode=socket_mode, url=url), end="")
    if not socket_mode and url is None:
        print(
            f"note: replace {PLACEHOLDER_HOST} with the bot's public host name, or pass --url "
            "https://HOST/slack/events",
            file=sys.stderr,
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Start the bot: Slack (Socket Mode or HTTP), scheduled checks and digest, on one asyncio loop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("asyncssh", "scrapli", "apscheduler.executors.default"):
        # one line per SSH channel event would drown what the bot itself says
        logging.getLogger(chatty).setLevel(logging.WARNING)
    report = _preflight_or_exit(args, Need.RUN)
    assert report.settings is not None and report.inventory is not None
    return _run_async(_run_bot(report.settings, report.inventory, args.host, report.environ))


async def _run_bot(settings: Settings, inventory: Inventory, host: str, environ: Mapping[str, str]) -> int:
    from bot.console.notifier import ConsoleNotifier
    from bot.runtime import Runtime
    from bot.slack.app import SlackConfigError, build_app
    from bot.slack.notifier import SlackNotifier
    from bot.slack.transport import serve
    from bot.store import Store

    store = await Store.open(settings.db, password=settings.db_password_text)
    try:
        runtime = Runtime(inventory, settings, store, ConsoleNotifier(sys.stderr), environ)
        try:
            slack = build_app(settings, runtime.dispatcher)
        except SlackConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        runtime.use_notifier(SlackNotifier(slack.client))
        runtime.on_change(slack.home.changed)  # the App Home follows requests and checks
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await runtime.start()
        try:
            await serve(slack, settings, host=host, stop=stop, observability=runtime.observability)
        finally:
            await runtime.stop()
            await slack.aclose(grace=5.0)
    finally:
        await store.close()
    return 0


def _add_inventory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inventory", help="inventory YAML (default: $CCERT_INVENTORY or inventory.yaml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccert-bot",
        description="Find and fix Cisco CSCwd80290 (IOS APs stuck Downloading) across wireless controllers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check-config", help="validate everything `run` (or --for COMMAND) would use, list every problem"
    )
    check.add_argument(
        "--for",
        dest="for_command",
        choices=tuple(NEEDS),
        default="run",
        help="check what this command needs (default: run, which needs everything)",
    )
    _add_inventory_option(check)
    check.set_defaults(func=cmd_check_config)

    status = sub.add_parser("status", help="read a site's controllers once and print the CSCwd80290 verdict")
    status.add_argument("site", help="site name from the inventory, or 'all'")
    status.add_argument("--json", action="store_true", help="print JSON (schema in README)")
    _add_inventory_option(status)
    status.set_defaults(func=cmd_status)

    keys = sub.add_parser("known-hosts", help="fetch the controllers' SSH host keys, print fingerprints, --write them")
    from bot.console import known_hosts_command

    known_hosts_command.add_arguments(keys)
    _add_inventory_option(keys)
    keys.set_defaults(func=cmd_known_hosts)

    simulate = sub.add_parser("simulate", help="serve simulated AireOS / 9800 controllers over SSH")
    from bot.simulator import cli as simulator_cli

    simulator_cli.add_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    run = sub.add_parser("run", help="start the bot (Slack Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT)")
    run.add_argument("--host", default="0.0.0.0", help="HTTP listen address (default 0.0.0.0)")
    _add_inventory_option(run)
    run.set_defaults(func=cmd_run)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest (one paste creates the app)")
    manifest.add_argument("--format", choices=("yaml", "json"), default="yaml")
    manifest.add_argument(
        "--mode",
        choices=("socket", "http"),
        default="socket",
        help="socket: the bot connects out with SLACK_APP_TOKEN (no public URL); "
        "http: Slack calls --url (default: socket)",
    )
    manifest.add_argument("--url", help="HTTP mode: the public https URL of /slack/events")
    manifest.set_defaults(func=cmd_manifest)

    demo = sub.add_parser("demo", help="the simulator's demo site and the console in one process")
    demo.add_argument("--time-scale", type=float, default=60.0, help="simulated seconds per real second")
    demo.set_defaults(func=cmd_demo)

    console = sub.add_parser("console", help="type /ccert commands in the terminal against the real inventory")
    console.add_argument("--as", dest="as_user", default="console", help="act as this user ID")
    _add_inventory_option(console)
    console.set_defaults(func=cmd_console)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
