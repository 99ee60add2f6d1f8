"""Benchmark: how big the store file gets, and how long a check takes to write, over many checks (not a test).

    python benchmarks/store_growth.py [--checks 1000] [--controllers 200] [--aps 50] [--interval-minutes 15]
                                      [--retention-days 3] [--mode both|before|after|postgresql|backends]
                                      [--postgres URL] [--seed 12]

A simulated clock: checks `--interval-minutes` apart from 2026-11-01 00:00 UTC, and the
housekeeping job's prune (`prune(now - retention)`, what `Runtime.housekeeping` runs) each
time the clock passes 03:17, with a short `--retention-days` so the retention is reached
within the run. The fleet is realistic: `--controllers` controllers of `--aps` APs each
(name, model, MAC, IP, image, state, retry count, location; a third of them affected
models), half IOS-XE 17.3.4 and half AireOS 8.10.183.0, ten per site. At each check a
controller changes one AP (Registered <-> Downloading, or a retry count) with probability
`--change-rate`, and with probability `--outage-rate` one controller is unreachable. The
same seed gives both runs the same story.

Two runs, each in a fresh file:

- after:  the store as it is (AP rows only when a controller's list changed, daily
  summaries, `auto_vacuum = INCREMENTAL` with an incremental vacuum after every prune);
- before: the same code with change-only storing turned off (`_shared_aps_owner` patched
  to share nothing: every check writes every AP row, as main did) and the file created
  without auto-vacuum and never vacuumed (`reclaim_space` patched out), as main's was.
  It still writes the daily summaries, so it is main plus that small cost: an emulation
  by patching, not a run of main's code.

`--mode postgresql` runs *after* on a PostgreSQL database instead of a file (issue 16: the
shared store of two instances); `--mode backends` runs *after* on both, SQLite first (the
anchor). The database is `--postgres URL` (emptied first: its tables are dropped), or by
default a throwaway PostgreSQL 15 the benchmark starts and stops itself
(`tests/support/postgres.py`). Its size is `pg_database_size`, with no WAL column.

Timed: `record_check` only (the whole transaction). Verdicts are computed beforehand,
once per distinct controller state (outside the clock); every affected AP Downloading
counts as stuck at once. Prints, every 100 checks, the file size (database and WAL),
the rows kept, and the median / p99 write time of those 100 checks; then a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlite_utils import Database  # noqa: E402

from bot.domain.models import (  # noqa: E402
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ControllerSnapshot,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import ControllerVerdict, DownloadWatch, evaluate_controller  # noqa: E402
from bot.store import CheckRun, CheckTrigger, checks, open_db, pruning  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
PRUNE_AT = timedelta(hours=3, minutes=17)  # the housekeeping job's time of day
AT_ONCE = DownloadWatch(stuck_after=timedelta(0))
MODELS = ("AIR-CAP3702I-E-K9", "C9120AXI-E", "C9130AXI-E")  # the first is affected
NTP = [
    NtpServer(address="10.0.0.123", config_line="ntp server 10.0.0.123"),
    NtpServer(address="10.0.1.123", config_line="ntp server 10.0.1.123"),
]
CERT = CertificateWindow(
    not_before=datetime(2019, 6, 3, 12, tzinfo=UTC),
    not_after=datetime(2039, 6, 3, 12, tzinfo=UTC),
    name="WLC_SSC",
    subject="CN=wlc",
)


@dataclass
class Controller:
    name: str
    site: str
    platform: Platform
    version: str
    aps: list[AccessPoint]
    generation: int = 0  # bumped at every AP change, the verdict cache's key


@dataclass
class Fleet:
    """The simulated fleet and its random story (one `random.Random`, so both runs see the same)."""

    controllers: list[Controller]
    rng: random.Random
    change_rate: float
    outage_rate: float
    verdicts: dict[tuple[str, int, bool], ControllerVerdict] = field(default_factory=dict)

    @classmethod
    def build(cls, args: argparse.Namespace) -> Fleet:
        controllers = []
        for c in range(args.controllers):
            iosxe = c % 2 == 0
            aps = [
                AccessPoint(
                    name=f"AP-{c:03d}-{i:02d}",
                    model=MODELS[i % 3],
                    mac=f"00:1a:{c // 256:02x}:{c % 256:02x}:00:{i:02x}",
                    ip=f"10.{c // 256}.{c % 256}.{i + 10}",
                    image_version="17.3.4.30" if iosxe else "8.10.183.0",
                    state="Registered",
                    retry_count=0,
                    location=f"Building {c % 7}, floor {i % 4}",
                )
                for i in range(args.aps)
            ]
            controllers.append(
                Controller(
                    f"wlc-{c:03d}",
                    f"site-{c // 10:02d}",
                    Platform.IOSXE if iosxe else Platform.AIREOS,
                    "17.3.4" if iosxe else "8.10.183.0",
                    aps,
                )
            )
        return cls(controllers, random.Random(args.seed), args.change_rate, args.outage_rate)

    def _change_one_ap(self, controller: Controller) -> None:
        """A download finishes, one starts, or a retry count moves: the fleet never drifts
        into a different steady state (which would change the row sizes, not the storage)."""
        aps = controller.aps
        downloading = [i for i, a in enumerate(aps) if a.state == "Downloading"]
        roll = self.rng.random()
        if downloading and roll < 0.4:
            i = self.rng.choice(downloading)
            aps[i] = dataclasses.replace(aps[i], state="Registered")
        elif roll < 0.7:
            i = self.rng.randrange(len(aps))
            aps[i] = dataclasses.replace(aps[i], state="Downloading")
        else:
            i = self.rng.randrange(len(aps))
            aps[i] = dataclasses.replace(aps[i], retry_count=(aps[i].retry_count or 0) + 1)
        controller.generation += 1

    def check(self, at: datetime) -> tuple[list[ControllerSnapshot], list[ControllerVerdict]]:
        for controller in self.controllers:
            if self.rng.random() < self.change_rate:
                self._change_one_ap(controller)
        down = self.rng.choice(self.controllers).name if self.rng.random() < self.outage_rate else None
        snapshots, verdicts = [], []
        for c in self.controllers:
            s = self._snapshot(c, at, reachable=c.name != down)
            key = (c.name, c.generation, c.name != down)
            if key not in self.verdicts:
                self.verdicts[key] = evaluate_controller(s, watch=AT_ONCE)
            snapshots.append(s)
            verdicts.append(self.verdicts[key])
        return snapshots, verdicts

    @staticmethod
    def _snapshot(c: Controller, at: datetime, *, reachable: bool) -> ControllerSnapshot:
        host = f"192.0.2.{int(c.name[-3:]) % 250}"
        if not reachable:
            return ControllerSnapshot(
                name=c.name,
                platform=c.platform,
                host=host,
                taken_at=at,
                site=c.site,
                errors=[SnapshotError(ErrorKind.TIMEOUT, "connect timed out after 30 s")],
            )
        clock = ClockReading(
            time=at,
            source=ClockSource.NTP,
            authoritative=True,
            synced=True,
            timezone="UTC",
            raw=at.strftime("*%H:%M:%S.000 UTC %a %b %d %Y"),
        )
        apsps = ["C9800-universalk9_wlc.17.03.04.CSCwd83653.SPA.apsp.bin"] if c.platform is Platform.IOSXE else []
        return ControllerSnapshot(
            name=c.name,
            platform=c.platform,
            host=host,
            taken_at=at,
            site=c.site,
            software_version=c.version,
            apsps=apsps,
            clock=clock,
            ntp_servers=list(NTP),
            certificate=CERT,
            aps=list(c.aps),
            declared_ap_count=len(c.aps),
            aps_read=True,
            ntp_read=True,
        )


@dataclass
class Sample:
    checks: int
    day: float
    db_mb: float
    wal_mb: float
    snapshots: int
    ap_rows: int
    p50_ms: float
    p99_ms: float


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _old_style_file(path: Path) -> None:
    """A file as main created it: WAL, no auto-vacuum (set before today's `open_db` could)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE placeholder (x)")
    conn.execute("DROP TABLE placeholder")
    conn.close()


@contextlib.contextmanager
def _mode(mode: str) -> Iterator[None]:
    if mode == "after":
        yield
        return
    with (
        mock.patch.object(checks, "shared_aps_owner", return_value=None),
        mock.patch.object(pruning, "reclaim_space", return_value=0),
    ):
        yield


def _count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@dataclass
class Result:
    samples: list[Sample]
    writes: list[float]  # seconds per record_check
    prunes: list[float]  # seconds per prune
    after_prunes: list[float]  # db MB right after each daily prune: the same moment of every day


def _size_mb(db: Any, path: Path | None) -> float:
    if path is None:  # PostgreSQL
        return int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0]) / 1e6
    return _mb(path)


def run(mode: str, args: argparse.Namespace, folder: Path) -> Result:
    path: Path | None = folder / f"{mode}.db"
    if mode == "before":
        assert path is not None
        _old_style_file(path)
    if mode == "postgresql":
        path = None
        db = open_db(args.postgres)
    else:
        assert path is not None
        db = open_db(path)
    fleet = Fleet.build(args)
    interval = timedelta(minutes=args.interval_minutes)
    retention = timedelta(days=args.retention_days)
    next_prune = START + PRUNE_AT
    writes: list[float] = []
    prunes: list[float] = []
    after_prunes: list[float] = []
    samples: list[Sample] = []
    print(
        f"\n{mode}: {args.checks} checks of {args.controllers} x {args.aps} APs, every {args.interval_minutes} min, "
        f"retention {args.retention_days} d"
    )
    print(
        f"{'checks':>7} {'day':>6} {'db MB':>8} {'WAL MB':>7} {'snapshots':>10} {'AP rows':>10} "
        f"{'write p50 ms':>13} {'p99 ms':>8}"
    )
    with _mode("after" if mode in ("postgresql", "sqlite") else mode):
        for n in range(args.checks):
            at = START + n * interval
            while at >= next_prune:
                start = time.perf_counter()
                pruning.prune(db, next_prune - retention)
                prunes.append(time.perf_counter() - start)
                after_prunes.append(_size_mb(db, path))
                next_prune += timedelta(days=1)
            snapshots, verdicts = fleet.check(at)
            check = CheckRun(CheckTrigger.SCHEDULED, at, at + timedelta(seconds=90))
            start = time.perf_counter()
            checks.record_check(db, check, snapshots, verdicts)
            writes.append(time.perf_counter() - start)
            if (n + 1) % 100 == 0 or n + 1 == args.checks:
                window = writes[-100:]
                sample = Sample(
                    n + 1,
                    (at - START) / timedelta(days=1),
                    _size_mb(db, path),
                    _mb(Path(f"{path}-wal")) if path is not None else 0.0,
                    _count(db, "snapshots"),
                    _count(db, "snapshot_aps"),
                    statistics.median(window) * 1000,
                    _p99(window) * 1000,
                )
                samples.append(sample)
                print(
                    f"{sample.checks:>7} {sample.day:>6.1f} {sample.db_mb:>8.1f} {sample.wal_mb:>7.1f} "
                    f"{sample.snapshots:>10,} {sample.ap_rows:>10,} {sample.p50_ms:>13.1f} {sample.p99_ms:>8.1f}"
                )
    db.close()
    print("db MB right after each daily prune: " + ", ".join(f"{mb:.1f}" for mb in after_prunes))
    return Result(samples, writes, prunes, after_prunes)


def summary(results: dict[str, Result]) -> None:
    print("\nsummary")
    print(
        f"{'mode':<7} {'final db MB':>12} {'peak db MB':>11} {'AP rows kept':>13} {'write p50 ms':>13} "
        f"{'p99 ms':>8} {'prune median s':>15} {'prune max s':>12}"
    )
    for mode, r in results.items():
        final = r.samples[-1]
        print(
            f"{mode:<7} {final.db_mb:>12.1f} {max(s.db_mb for s in r.samples):>11.1f} {final.ap_rows:>13,} "
            f"{statistics.median(r.writes) * 1000:>13.1f} {_p99(r.writes) * 1000:>8.1f} "
            f"{statistics.median(r.prunes) if r.prunes else 0:>15.2f} {max(r.prunes, default=0):>12.2f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--controllers", type=int, default=200)
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--interval-minutes", type=float, default=15)
    parser.add_argument("--retention-days", type=float, default=3)
    parser.add_argument("--change-rate", type=float, default=0.02, help="per controller and check")
    parser.add_argument("--outage-rate", type=float, default=0.2, help="chance that one controller is unreachable")
    parser.add_argument("--mode", choices=("both", "before", "after", "postgresql", "backends"), default="both")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (its tables are dropped first)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (default: a temporary folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    modes = {"both": ("before", "after"), "backends": ("sqlite", "postgresql")}.get(args.mode, (args.mode,))
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.dir)))
        if "postgresql" in modes:
            args.postgres = stack.enter_context(_postgres(args.postgres))
        results = {mode: run(mode, args, folder) for mode in modes}
    summary(results)
    return 0


@contextlib.contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    """The given database with its tables dropped, or a throwaway server's database."""
    if url is not None:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        yield url
        return
    from tests.support.postgres import running_server

    with running_server() as server:
        yield server.new_database()


if __name__ == "__main__":
    raise SystemExit(main())
