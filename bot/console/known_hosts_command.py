"""`ccert-bot known-hosts [--site SITE] [--write FILE]`: trust the controllers' SSH host keys on purpose.

With strict host keys (the default) a fresh machine refuses every
controller. This fetches each controller's host key without logging in,
prints the SHA256 fingerprints for the operator to compare with the
controllers' consoles, and, only with `--write FILE`, records them. An
existing file is merged, never rewritten: known keys stay once, new hosts are
appended, and a host whose key *differs* from the one on file is refused and
reported (re-keyed controller, or a man-in-the-middle), because overwriting it
silently is exactly what strict host keys exist to prevent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.controllers.host_keys import (
    Conflict,
    FetchedKey,
    HostKeyFetchError,
    KnownHostsFileError,
    MergeResult,
    Target,
    check_known_hosts,
    fetch_host_key,
    merge_known_hosts,
    pinned_algorithms,
    stored_keys,
)
from bot.controllers.session import known_hosts_file
from bot.inventory import Controller, Inventory
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", help="only this site's controllers (default: every controller in the inventory)")
    parser.add_argument(
        "--write",
        metavar="FILE",
        help="add the fetched keys to this known_hosts file (created if missing; existing entries are kept, "
        "a changed key is refused). Without it nothing is written.",
    )


@dataclass(frozen=True)
class Outcome:
    controller: Controller
    fetched: FetchedKey | None = None
    error: HostKeyFetchError | None = None


def endpoint(host: str, port: int) -> str:
    """`host:port` as an engineer types it (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def fetch_all(
    controllers: list[Controller], settings: Settings, pinned: dict[tuple[str, int], list[str]]
) -> list[Outcome]:
    """Every controller at once, bounded like a poll: one slow or dead controller delays nobody."""
    limit = asyncio.Semaphore(settings.max_concurrency)

    async def one(controller: Controller) -> Outcome:
        async with limit:
            try:
                fetched = await fetch_host_key(
                    controller.host,
                    controller.port,
                    timeout=settings.ssh_timeout_seconds,
                    algorithms=pinned.get((controller.host, controller.port), ()),
                )
            except HostKeyFetchError as exc:
                return Outcome(controller, error=exc)
        return Outcome(controller, fetched=fetched)

    return list(await asyncio.gather(*(one(c) for c in controllers)))


def _select(inventory: Inventory, site: str | None) -> list[Controller] | None:
    if site is None or site == "all":
        return inventory.controllers()
    chosen = inventory.site(site)
    return list(chosen.controllers) if chosen is not None else None


def _read_existing(path: Path) -> tuple[str, bool]:
    """The file's text (undecodable bytes kept as-is through surrogateescape) and whether it existed."""
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape"), True
    except FileNotFoundError:
        return "", False


def _rows(outcomes: list[Outcome], result: MergeResult | None) -> list[list[str]]:
    status: dict[str, str] = {}
    if result is not None:
        status.update({t.name: "new" for t in result.added})
        status.update({t.name: "already known" for t in result.known})
        status.update({c.target.name: "REVOKED" if c.revoked else "KEY DIFFERS" for c in result.conflicts})
    rows = []
    for outcome in outcomes:
        c = outcome.controller
        if outcome.fetched is None:
            assert outcome.error is not None
            rows.append([c.name, endpoint(c.host, c.port), f"failed: {outcome.error.reason}"])
        else:
            key = outcome.fetched.key
            row = [c.name, endpoint(c.host, c.port), key.algorithm, key.fingerprint]
            if c.name in status:
                row.append(status[c.name])
            rows.append(row)
    return rows


def _print_table(rows: list[list[str]], out: TextIO) -> None:
    """Aligned on name and endpoint (always present); the rest follows, so a failure reason reads as one line."""
    widths = [max((len(r[i]) for r in rows), default=0) for i in (0, 1)]
    key_width = max((len(r[2]) for r in rows if len(r) > 3), default=0)
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        if len(row) > 3:
            cells += [row[2].ljust(key_width), *row[3:]]
        else:
            cells += row[2:]
        out.write("  ".join(cells).rstrip() + "\n")


def _conflict_warning(conflict: Conflict, path: Path) -> str:
    t = conflict.target
    lines = [f"warning: {t.name} ({endpoint(t.host, t.port)}) presents {t.key.algorithm} {t.key.fingerprint}"]
    if conflict.revoked:
        lines.append(f"  but {path} marks that key @revoked:")
    else:
        lines.append(f"  but {path} trusts a different key for it:")
    for stored in conflict.stored:
        host_field = stored.text.split()[1 if stored.text.startswith("@") else 0]
        lines.append(f"    line {stored.line_number}: {host_field} {stored.key.algorithm} {stored.key.fingerprint}")
        if t.port != 22 and "]:" not in host_field and not host_field.startswith("|"):
            lines.append("      (a plain-host entry also applies to other ports that have no [host]:port entry)")
    if conflict.revoked:
        lines.append("  Someone decided this key must not be trusted: it was not written.")
    else:
        lines.append(
            "  Either the controller was re-keyed or replaced, or something between you and it is answering\n"
            "  instead (man-in-the-middle). Compare the fingerprint with the controller's console; if the change\n"
            "  is expected, delete the line(s) above and run this command again. Nothing was written for it."
        )
    return "\n".join(lines)


def _kex_warning(outcome: Outcome, existing: str, path: Path) -> str | None:
    """A pinned key type the controller no longer offers is a key change too, not just a failed connection."""
    c = outcome.controller
    stored = stored_keys(existing, c.host, c.port)
    if not stored:
        return None
    held = "".join(f"\n    line {s.line_number}: {s.key.algorithm} {s.key.fingerprint}" for s in stored)
    return (
        f"warning: {c.name} ({endpoint(c.host, c.port)}) offers no host key of the type {path} holds for it:{held}\n"
        "  Its keys changed (re-keyed, replaced, new software) or something else is answering: check the\n"
        "  controller's console; if expected, delete the line(s) and run this command again."
    )


def _open_target_file(path: Path, err: TextIO) -> str | None:
    """The current text of the --write file ("" if new), or None after saying why it cannot be used.

    Checked before any connection: a file the bot's SSH client would reject,
    or one we could not write, is better found before a 300-controller scan.
    """
    try:
        existing, existed = _read_existing(path)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or type(exc).__name__}", file=err)
        return None
    if existed and not os.access(path, os.W_OK):
        print(f"error: {path} is not writable", file=err)
        return None
    try:
        check_known_hosts(existing)
    except KnownHostsFileError as exc:
        for problem in exc.problems:
            print(
                f"error: {path}:{problem.line_number}: {problem.message} (the bot's SSH client rejects "
                "this line too: fix or remove it)",
                file=err,
            )
        return None
    return existing


def _append(path: Path, existing: str, result: MergeResult, err: TextIO) -> bool:
    """Append only what the merge added: other lines, mode, owner and symlinks stay as they are."""
    assert result.text.startswith(existing)  # merging only ever appends
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:
            handle.write(result.text[len(existing) :].encode("utf-8", "surrogateescape"))
    except OSError as exc:
        print(f"error: cannot write {path}: {exc.strerror or type(exc).__name__}", file=err)
        return False
    return True


def _warnings(result: MergeResult, failed: list[Outcome], existing: str, path: Path) -> list[str]:
    warnings = [_conflict_warning(c, path) for c in result.conflicts]
    for outcome in failed:
        if outcome.error is not None and outcome.error.kind == "kex":
            warning = _kex_warning(outcome, existing, path)
            if warning is not None:
                warnings.append(warning)
    return warnings


def _summary(
    path: Path | None, result: MergeResult | None, fetched: int, failed: list[Outcome], settings: Settings
) -> list[str]:
    lines = []
    if path is None or result is None:
        if fetched:
            lines.append(f"nothing written: use --write FILE to save these keys ({fetched} fetched)")
    elif result.added:
        kept = f" ({len(result.known)} already there)" if result.known else ""
        lines.append(f"wrote {len(result.added)} new entr{'y' if len(result.added) == 1 else 'ies'} to {path}{kept}")
    else:
        there = f": {len(result.known)} key(s) already there" if result.known else ""
        lines.append(f"nothing written to {path}{there}")
    if result is not None and result.conflicts:
        names = ", ".join(c.target.name for c in result.conflicts)
        lines.append(f"{len(result.conflicts)} key(s) differ from {path} and were not written: {names}")
    if failed:
        lines.append(f"{len(failed)} controller(s) failed: {', '.join(o.controller.name for o in failed)}")
    if path is not None and result is not None and (result.added or result.known):
        bot_file = known_hosts_file(settings.ssh_known_hosts)
        if path.resolve() != bot_file.resolve():
            lines.append(f"note: the bot reads {bot_file}; set CCERT_SSH_KNOWN_HOSTS={path} to use this file")
        if not settings.ssh_strict_host_keys:
            lines.append("note: CCERT_SSH_STRICT_HOST_KEYS is false, so the bot does not check these keys yet")
    return lines


async def run_known_hosts(
    args: argparse.Namespace,
    inventory: Inventory,
    settings: Settings,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """0: every key fetched and (with --write) known or written; 1: a controller failed or a key differs; 2: usage."""
    out = out or sys.stdout
    err = err or sys.stderr
    site: str | None = getattr(args, "site", None)
    controllers = _select(inventory, site)
    if controllers is None:
        known = ", ".join(sorted(inventory.sites)) or "none"
        print(f"error: no site '{site}' in the inventory (known: {known})", file=err)
        return 2
    if not controllers:
        print("no controllers in the inventory: nothing to fetch", file=out)
        return 0

    path = Path(args.write).expanduser() if getattr(args, "write", None) else None
    existing = ""
    pinned: dict[tuple[str, int], list[str]] = {}
    if path is not None:
        opened = _open_target_file(path, err)
        if opened is None:
            return 2
        existing = opened
        pinned = pinned_algorithms(existing, [(c.host, c.port) for c in controllers])

    outcomes = await fetch_all(controllers, settings, pinned)
    failed = [o for o in outcomes if o.fetched is None]
    targets = [
        Target(o.controller.name, o.controller.host, o.controller.port, o.fetched.key, o.fetched.addresses)
        for o in outcomes
        if o.fetched is not None
    ]
    result = merge_known_hosts(existing, targets) if path is not None else None
    _print_table(_rows(outcomes, result), out)
    if path is not None and result is not None:
        for warning in _warnings(result, failed, existing, path):
            print(warning, file=err)
        if result.added and not _append(path, existing, result, err):
            return 2
    for line in _summary(path, result, len(targets), failed, settings):
        print(line, file=out)
    return 1 if failed or (result is not None and result.conflicts) else 0
