"""Everything a command would use, checked before it starts: the one place that says "not yet".

`ccert-bot check-config` prints this report; `run`, `console` and `status`
run the very same checks for what they need and refuse with the same
messages, before anything is created on disk (no database file, no socket,
no SSH session). Problems are collected, not raised one at a time: an
operator fixing a first setup wants every mistake in one pass, each with the
file and line to edit when there is a file.

What is checked, by what the command needs (`Need`):

* `.env` (readable, UTF-8, every line `NAME=value`) and every setting's
  grammar (pydantic), named `.env:LINE` when the value came from the file;
* the inventory (YAML, schema, names), non-UTF-8 included, and every
  credential variable a controller uses, at the inventory line naming it;
* the database's directory, the known_hosts file under strict host keys;
* console and run: `CCERT_ACCESS` and `CCERT_APPROVERS` grammar, the
  playbooks, loaded and validated exactly as a remediation run loads them;
* run: the Slack credentials the chosen mode needs (Socket Mode when
  `SLACK_APP_TOKEN` is set, else HTTP), all missing ones at once.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from bot.chat.access import AccessPolicy, AccessSpecError
from bot.chat.commands import COMMANDS
from bot.controllers.platforms import registry
from bot.controllers.session import known_hosts_file
from bot.domain.approvals import ApprovalPolicy
from bot.environment import ENV_FILE, EnvFile, EnvFileError, merged_environ, origin, read_env_file
from bot.inventory import Inventory, InventoryError
from bot.inventory_file import load_inventory, missing_environment
from bot.remediation.playbook_loader import PlaybookError, default_playbook_dir, playbook_for
from bot.settings import Settings
from bot.store.pg import describe_url, is_postgres_url


class Need(IntEnum):
    """How much a command uses, in increasing order: each level checks what the ones below do."""

    KEYS = 0  # settings, inventory (known-hosts: no login, and no known_hosts file yet)
    STATUS = 1  # + credentials, host keys
    CONSOLE = 2  # + access rules, approvers, playbooks, database
    RUN = 3  # + Slack credentials for the chosen mode


@dataclass
class Report:
    """The outcome of the checks: what the command may use, or why it must not start."""

    need: Need
    settings: Settings | None = None
    inventory: Inventory | None = None
    inventory_path: Path | None = None
    environ: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.settings is not None and self.inventory is not None


def check(
    need: Need,
    *,
    inventory: Path | None = None,
    env_file: Path = ENV_FILE,
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Run every check `need` calls for; never raises for a configuration problem."""
    process = dict(os.environ if environ is None else environ)
    report = Report(need)
    try:
        dotenv = read_env_file(env_file)
    except EnvFileError as exc:
        report.problems.extend(str(exc).splitlines())
        dotenv = EnvFile(env_file)
    report.environ = merged_environ(dotenv, process)
    report.settings = _settings(report, dotenv, process)
    settings = report.settings

    path = inventory or (
        settings.inventory if settings else Path(report.environ.get("CCERT_INVENTORY") or "inventory.yaml")
    )
    report.inventory_path = path
    try:
        report.inventory = load_inventory(path)
    except InventoryError as exc:
        report.problems.extend(str(p) for p in exc.problems)
    if report.inventory is not None and need >= Need.STATUS:
        report.problems.extend(str(p) for p in missing_environment(report.inventory, report.environ))

    if settings is not None:
        if need >= Need.STATUS:
            _host_keys(report, settings)
        if need >= Need.CONSOLE:
            _database(report, settings)
            _access(report, settings, dotenv, process)
            _approvers(report, settings, dotenv, process)
            _playbooks(report, settings, dotenv, process)
        if need >= Need.RUN:
            _slack(report, settings)
    return report


def _settings(report: Report, dotenv: EnvFile, process: Mapping[str, str]) -> Settings | None:
    """Settings from the process environment then the file already read (never re-read from disk)."""
    try:
        # `_env_file=None`: the values of `.env` come in through `report.environ`, so a
        # problem in the file is reported once, with its line, and never as a traceback.
        return _with_environ(report.environ)
    except ValidationError as exc:
        for item in exc.errors():
            name = ".".join(str(p) for p in item["loc"]) or "settings"
            message = str(item["msg"]).removeprefix("Value error, ")
            report.problems.append(f"{origin(name, dotenv, process)}: {name}: {message}")
        return None


def _with_environ(environ: Mapping[str, str]) -> Settings:
    """Build Settings from exactly `environ` (pydantic-settings reads os.environ otherwise)."""
    names = {f.alias for f in Settings.model_fields.values() if f.alias}
    values: dict[str, Any] = {name: environ[name] for name in names if name in environ}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _host_keys(report: Report, settings: Settings) -> None:
    if not settings.ssh_strict_host_keys:
        report.warnings.append("CCERT_SSH_STRICT_HOST_KEYS=false: controller host keys are not checked")
        return
    known = known_hosts_file(settings.ssh_known_hosts)
    if not known.exists():
        report.warnings.append(
            f"known_hosts file {known} does not exist: every controller will be refused "
            "(collect the keys with `ccert-bot known-hosts --write FILE` and set CCERT_SSH_KNOWN_HOSTS)"
        )
    elif not os.access(known, os.R_OK):
        report.problems.append(f"{known}: cannot read the known_hosts file (CCERT_SSH_KNOWN_HOSTS)")


def _database(report: Report, settings: Settings) -> None:
    if is_postgres_url(settings.db):
        _postgres(report, settings.db)
        return
    if settings.db == ":memory:":
        return
    folder = Path(settings.db).expanduser().resolve().parent
    if not folder.is_dir():
        report.problems.append(f"CCERT_DB: the folder {folder} does not exist (create it, or point CCERT_DB elsewhere)")
    elif not os.access(folder, os.W_OK):
        report.problems.append(f"CCERT_DB: the folder {folder} is not writable by this user")


def _postgres(report: Report, url: str) -> None:
    """A URL psycopg can use, without its password in it (the password belongs in CCERT_DB_PASSWORD)."""
    shown = describe_url(url)
    try:
        parts = conninfo_to_dict(url)
        int(parts.get("port") or 5432)
    except (psycopg.Error, ValueError, TypeError):
        # psycopg's message may quote the URL, password and all: only the safe form is shown.
        report.problems.append(f"CCERT_DB: {shown} is not a PostgreSQL URL this bot can use")
        return
    if parts.get("password"):
        report.warnings.append(
            f"CCERT_DB ({shown}) carries a password: put it in CCERT_DB_PASSWORD (or ~/.pgpass) and out of the URL"
        )


def _access(report: Report, settings: Settings, dotenv: EnvFile, process: Mapping[str, str]) -> None:
    try:
        AccessPolicy.parse(settings.access)
    except AccessSpecError as exc:
        message = str(exc).removeprefix("CCERT_ACCESS: ")
        hint = _did_you_mean(message)
        report.problems.append(f"{origin('CCERT_ACCESS', dotenv, process)}: CCERT_ACCESS: {message}{hint}")


def _did_you_mean(message: str) -> str:
    """`'remediat' is not a /ccert command` → ` (did you mean 'remediate'?)`."""
    if "is not a /ccert command" not in message:
        return ""
    word = message.split("'")[1] if message.count("'") >= 2 else ""
    close = difflib.get_close_matches(word, list(COMMANDS), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (commands: {', '.join(sorted(COMMANDS))})"


def _approvers(report: Report, settings: Settings, dotenv: EnvFile, process: Mapping[str, str]) -> None:
    where = origin("CCERT_APPROVERS", dotenv, process)
    try:
        approvers = ApprovalPolicy.parse_approvers(settings.approvers)
    except ValueError as exc:
        report.problems.append(
            f"{where}: CCERT_APPROVERS: {exc} (use Slack member IDs like U0123ABCD or user-group IDs like "
            "S0456EFGH: a profile's ⋮ menu → Copy member ID)"
        )
        return
    if not approvers:
        report.warnings.append("CCERT_APPROVERS is empty: remediation requests will be refused")
    elif len(approvers) < settings.required_approvals:
        report.warnings.append(
            f"CCERT_APPROVERS names {len(approvers)} approver(s) but CCERT_REQUIRED_APPROVALS is "
            f"{settings.required_approvals}: no request can be approved unless a user group supplies the rest"
        )


def _playbooks(report: Report, settings: Settings, dotenv: EnvFile, process: Mapping[str, str]) -> None:
    directory = settings.playbook_dir or default_playbook_dir()
    if not directory.is_dir():
        if settings.playbook_dir:
            report.problems.append(
                f"{origin('CCERT_PLAYBOOK_DIR', dotenv, process)}: CCERT_PLAYBOOK_DIR: "
                f"{directory} is not a folder (unset it to use the playbooks shipped with the bot)"
            )
        else:
            report.problems.append(
                f"{directory}: the shipped playbooks are missing: reinstall ccert-bot, or set CCERT_PLAYBOOK_DIR"
            )
        return
    for platform in registry.names():
        try:
            playbook_for(platform, directory)
        except PlaybookError as exc:
            report.problems.extend(str(p) for p in exc.problems)


def _slack(report: Report, settings: Settings) -> None:
    def present(value: object) -> bool:
        getter = getattr(value, "get_secret_value", None)
        return bool(getter and getter().strip())

    socket_mode = present(settings.slack_app_token)
    mode = "Socket Mode (SLACK_APP_TOKEN is set)" if socket_mode else "HTTP mode (SLACK_APP_TOKEN is not set)"
    needed = ["SLACK_BOT_TOKEN"] + ([] if socket_mode else ["SLACK_SIGNING_SECRET"])
    values = {"SLACK_BOT_TOKEN": settings.slack_bot_token, "SLACK_SIGNING_SECRET": settings.slack_signing_secret}
    missing = [name for name in needed if not present(values[name])]
    if missing:
        report.problems.append(
            f"{mode} needs {' and '.join(missing)}: {'it is' if len(missing) == 1 else 'they are'} not set"
        )
    prefixes = {
        "SLACK_BOT_TOKEN": ("xoxb-", settings.slack_bot_token, "the Bot User OAuth Token"),
        "SLACK_APP_TOKEN": ("xapp-", settings.slack_app_token, "an app-level token"),
    }
    for name, (prefix, secret, what) in prefixes.items():
        if present(secret) and not secret.get_secret_value().strip().startswith(prefix):  # type: ignore[union-attr]
            # Never echo the value: only say what shape was expected.
            report.problems.append(f"{name} does not start with '{prefix}': use {what}")
