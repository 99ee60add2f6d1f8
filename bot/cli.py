"""`ccert-bot` command line: one entry point for every way the bot runs.

Each subcommand is a small function; heavy imports happen inside them so
`ccert-bot check-config` stays instant and does not need Slack tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.inventory import Inventory, InventoryError, load_inventory, missing_environment
from bot.settings import Settings, describe_settings_error, load_settings


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        for line in describe_settings_error(exc):
            print(f"error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def _config_or_exit(args: argparse.Namespace) -> tuple[Settings, Inventory]:
    """Settings and a valid inventory, or exit 2 listing every problem: a bad inventory never starts the bot."""
    settings = _settings_or_exit()
    try:
        return settings, load_inventory(Path(args.inventory) if args.inventory else settings.inventory)
    except InventoryError as exc:
        print(f"error: the inventory is not valid:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run on one event loop; Ctrl-C is a normal way to stop, not an error."""
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate settings and inventory, print every problem, exit non-zero on any."""
    problems: list[str] = []
    warnings: list[str] = []
    settings: Settings | None = None
    try:
        settings = load_settings()
    except ValidationError as exc:
        problems.extend(describe_settings_error(exc))
    if args.inventory:
        path = Path(args.inventory)
    elif settings is not None:
        path = settings.inventory
    else:  # settings are broken, but the inventory can still be checked
        path = Path(os.environ.get("CCERT_INVENTORY") or "inventory.yaml")
    inventory = None
    try:
        inventory = load_inventory(path)
    except InventoryError as exc:
        problems.extend(str(p) for p in exc.problems)
    if inventory is not None:
        for var in missing_environment(inventory):
            warnings.append(f"environment variable {var} is not set (named in {path} credentials)")
    if settings is not None and settings.ssh_strict_host_keys:
        known = settings.ssh_known_hosts or Path("~/.ssh/known_hosts").expanduser()
        if not known.exists():
            warnings.append(
                f"known_hosts file {known} does not exist: every controller will be refused "
                "(set CCERT_SSH_KNOWN_HOSTS, or CCERT_SSH_STRICT_HOST_KEYS=false to accept any key)"
            )
    for line in problems:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    if problems:
        print(f"{len(problems)} problem(s) found; fix them before starting the bot.")
        return 1
    assert inventory is not None
    print(
        f"ok: {path}: {len(inventory.sites)} site(s), {len(inventory.controllers())} controller(s)"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulator import cli as simulator_cli

    return _run_async(simulator_cli.run(args))


def cmd_status(args: argparse.Namespace) -> int:
    from bot.fleet.status_cli import run_status

    settings, inventory = _config_or_exit(args)
    return _run_async(run_status(args.site, inventory, settings, as_json=args.json))


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulated demo site + console in one process."""
    from bot.demo import run_demo

    return _run_async(run_demo(time_scale=args.time_scale))


def cmd_console(args: argparse.Namespace) -> int:
    """The console twin against the real inventory."""
    from bot.runtime import run_console_bot

    settings, inventory = _config_or_exit(args)
    return _run_async(run_console_bot(inventory, settings, user=args.as_user))


def cmd_manifest(args: argparse.Namespace) -> int:
    """Print the Slack app manifest: paste it into api.slack.com/apps → Create New App."""
    from bot.slack.manifest import dump_manifest

    print(dump_manifest(args.format))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Start the bot: Slack (Socket Mode or HTTP), scheduled checks and digest, on one asyncio loop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("asyncssh", "scrapli", "apscheduler.executors.default"):
        # one line per SSH channel event would drown what the bot itself says
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings, inventory = _config_or_exit(args)
    return _run_async(_run_bot(settings, inventory, args.host))


async def _run_bot(settings: Settings, inventory: Inventory, host: str) -> int:
    from bot.chat.notifier import ConsoleNotifier
    from bot.runtime import Runtime
    from bot.slack.app import SlackConfigError, build_app
    from bot.slack.notifier import SlackNotifier
    from bot.slack.transport import serve
    from bot.store import Store

    store = await Store.open(settings.db)
    try:
        runtime = Runtime(inventory, settings, store, ConsoleNotifier(sys.stderr))
        try:
            slack = build_app(settings, runtime.dispatcher)
        except SlackConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        runtime.use_notifier(SlackNotifier(slack.client))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await runtime.start()
        try:
            await serve(slack, settings, host=host, stop=stop)
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

    check = sub.add_parser("check-config", help="validate settings and the inventory, list every problem")
    _add_inventory_option(check)
    check.set_defaults(func=cmd_check_config)

    status = sub.add_parser("status", help="read a site's controllers once and print the CSCwd80290 verdict")
    status.add_argument("site", help="site name from the inventory, or 'all'")
    status.add_argument("--json", action="store_true", help="print JSON (schema in README)")
    _add_inventory_option(status)
    status.set_defaults(func=cmd_status)

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
