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
    lead = None
    if report.ok and report.settings is not None and args.for_command in ("run", "console"):
        from bot.store.leader_lock import lead_summary

        # The commands that keep state need their store: one that cannot be reached is a problem.
        lead = lead_summary(report.settings.db, password=report.settings.db_password_text)
        if not lead["reachable"]:
            report.problems.append(f"CCERT_DB: {lead['text']}")
            print(f"error: CCERT_DB: {lead['text']}")
    if not report.ok:
        print(f"{len(report.problems)} problem(s) found; fix them before starting the bot.")
        return 1
    assert report.inventory is not None
    print(
        f"ok: {report.inventory_path}: {len(report.inventory.sites)} site(s), "
        f"{len(report.inventory.controllers())} controller(s), ready for `ccert-bot {args.for_command}`"
        + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    )
    if lead is not None:
        print(f"store: {lead['text']}")
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


def _db_settings() -> Settings | int:
    """Settings for the `db` commands (environment and `.env`), or the exit code after printing why not."""
    from bot.settings import load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        for line in describe_settings_error(exc):
            print(f"error: {line}", file=sys.stderr)
        return 2


def _describe_target(target: str) -> str:
    """How the `db` commands name a store: the URL without its password, or the file's full path."""
    from bot.store.pg import describe_url, is_postgres_url

    if is_postgres_url(target):
        try:
            return f"PostgreSQL {describe_url(target)}"
        except ValueError:  # e.g. a port that is not a number; the driver's error says more
            return "PostgreSQL (a URL that cannot be read)"
    return f"SQLite file {Path(target).expanduser().resolve()}"


def _db_failures() -> tuple[type[BaseException], ...]:
    """What a `db` command reports in one line: the drivers' errors, a refused schema or copy
    (`SchemaError`, `StoreCopyError`: RuntimeErrors), the file system's, and a URL that cannot
    be read (a ValueError from the URL parser, e.g. a port that is not a number)."""
    from bot.store.sql import DatabaseError

    return (*DatabaseError, RuntimeError, OSError, ValueError)


def _secrets(password: str | None, *targets: str) -> list[str]:
    """Every password a `db` command holds: CCERT_DB_PASSWORD and any written into a URL."""
    from urllib.parse import urlsplit

    found = [password] if password else []
    for target in targets:
        try:
            in_url = urlsplit(target).password
        except ValueError:
            in_url = None
        if in_url:
            found.append(in_url)
    return found


def _db_error(what: str, error: BaseException, secrets: list[str]) -> int:
    """One line for a refusal or an unreachable database (never a traceback, never a password)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = "; ".join(lines) or type(error).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    print(f"error: {what}: {text}", file=sys.stderr)
    return 1


def cmd_db_migrate(args: argparse.Namespace) -> int:
    """Bring a store (CCERT_DB or --db) to this version's schema; say what was applied."""
    from bot.store.db import connect, migrate, schema_version

    settings = _db_settings()
    if isinstance(settings, int):
        return settings
    target = args.db or settings.db
    password = settings.db_password_text
    name = _describe_target(target)
    try:
        db = connect(target, password=password)
        try:
            applied = migrate(db)
            version = schema_version(db)
        finally:
            db.close()
    except _db_failures() as exc:
        return _db_error(f"cannot migrate {name}", exc, _secrets(password, target))
    print(f"store: {name}")
    print(f"schema version: {version}")
    if applied:
        print(f"applied now: {', '.join(str(v) for v in applied)}")
    else:
        print("already up to date")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Copy every row of one store (--from) into a new, empty one (--to): SQLite to PostgreSQL or back."""
    from bot.store.copy import check_destination_empty, check_source_version, copy_store, same_target
    from bot.store.db import connect, migrate
    from bot.store.pg import describe_url, is_postgres_url

    settings = _db_settings()
    if isinstance(settings, int):
        return settings
    password = settings.db_password_text
    source_target, dest_target = args.source, args.dest
    source_name, dest_name = _describe_target(source_target), _describe_target(dest_target)
    if same_target(source_target, dest_target):
        print(f"error: --from and --to are the same store ({source_name})", file=sys.stderr)
        return 1
    if not is_postgres_url(source_target) and not Path(source_target).expanduser().is_file():
        print(f"error: the source {source_name} does not exist", file=sys.stderr)
        return 1
    new_file = not is_postgres_url(dest_target) and not Path(dest_target).expanduser().exists()
    step = f"cannot read the source {source_name}"
    try:
        source = connect(source_target, read_only=True, password=password)
        try:
            check_source_version(source, source_name)
            step = f"cannot open the destination {dest_name}"
            dest = connect(dest_target, password=password)
            try:
                check_destination_empty(dest, dest_name)  # before migrating it: a refusal changes nothing
                migrate(dest)
                step = f"cannot copy {source_name} to {dest_name}"
                result = copy_store(source, dest)
            finally:
                dest.close()
        finally:
            source.close()
    except _db_failures() as exc:
        if new_file:
            _remove_new_file(Path(dest_target).expanduser())
        return _db_error(step, exc, _secrets(password, source_target, dest_target))
    width = max((len(t) for t in result.tables), default=5)
    print(f"copied {source_name} to {dest_name}:")
    for table, rows in result.tables.items():
        print(f"  {table:<{width}}  {rows:>10}")
    print(f"  {'total':<{width}}  {result.total:>10}")
    if is_postgres_url(dest_target):
        shown = describe_url(dest_target)
        print(
            f"next: stop using {source_name}; set CCERT_DB={shown}"
            + (" (with the URL's query options)" if "?" in dest_target else "")
            + " and CCERT_DB_PASSWORD, then start the bot"
        )
    else:
        print(f"next: set CCERT_DB={Path(dest_target).expanduser().resolve()}, then start the bot")
    return 0


def _remove_new_file(path: Path) -> None:
    """A destination file this command created for a copy that failed goes again (with its WAL)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


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

    db = sub.add_parser("db", help="the store: migrate it, or copy it to another database (SQLite <-> PostgreSQL)")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_migrate = db_sub.add_parser("migrate", help="apply the missing schema migrations, print the version")
    db_migrate.add_argument("--db", help="a SQLite file or a postgresql:// URL (default: $CCERT_DB or ccert.db)")
    db_migrate.set_defaults(func=cmd_db_migrate)
    db_copy = db_sub.add_parser(
        "copy", help="copy every row into a new, empty store (e.g. SQLite to PostgreSQL); password: $CCERT_DB_PASSWORD"
    )
    db_copy.add_argument("--from", dest="source", required=True, help="the store to read: a SQLite file or a URL")
    db_copy.add_argument("--to", dest="dest", required=True, help="the empty store to fill: a SQLite file or a URL")
    db_copy.set_defaults(func=cmd_db_copy)
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
