"""How `/ccert export` scales: time and peak memory of writing the fleet CSV, streamed.

The export writes one row at a time from a generator to a temporary file, so its peak
memory should stay flat while the file grows; the anchor, measured in the same run, is
the same rows built as one CSV string in memory (what "buffering" would cost). The AP
snapshots themselves are in memory in both (they are what the controllers answered) and
are built before measuring.

    python benchmarks/export_csv.py [--aps 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import tracemalloc
from datetime import UTC, datetime

from bot.chat import exports
from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.domain.verdict import SiteVerdict, evaluate_controller
from bot.fleet.service import SiteReport
from bot.inventory import Site

MODELS = ("AIR-CAP3702I-E-K9", "AIR-AP2802I-E-K9", "AIR-CAP2702I-E-K9", "C9120AXI-E")
PER_CONTROLLER = 2_000


def fleet(total: int) -> list[SiteReport]:
    """`total` APs on controllers of 2,000 APs each, one site."""
    taken = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    snapshots = []
    for c in range(max(1, total // PER_CONTROLLER)):
        aps = [
            AccessPoint(
                f"AP-{c:03d}-{i:05d}",
                model=MODELS[i % len(MODELS)],
                ip=f"10.{c}.{i // 256 % 256}.{i % 256}",
                image_version="8.5.182.0",
                state="Downloading" if i % 7 == 0 else "Registered",
            )
            for i in range(min(PER_CONTROLLER, total))
        ]
        snapshots.append(
            ControllerSnapshot(
                name=f"wlc-{c:03d}",
                platform="aireos",
                host="127.0.0.1",
                taken_at=taken,
                site="site-a",
                software_version="8.10.162.0",
                aps=aps,
                aps_read=True,
                declared_ap_count=len(aps),
            )
        )
    verdict = SiteVerdict.from_verdicts("site-a", [evaluate_controller(s) for s in snapshots])
    return [SiteReport(Site("site-a", None, ()), snapshots, verdict)]


def measure(reports: list[SiteReport], streamed: bool) -> tuple[float, int, int]:
    """(seconds, peak bytes allocated while writing, bytes of CSV)."""
    tracemalloc.start()
    started = time.perf_counter()
    if streamed:
        file = exports.write_fleet_csv(reports, {})
        size = file.path.stat().st_size
        file.discard()
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(exports.FLEET_COLUMNS)
        writer.writerows(list(exports.fleet_rows(reports, {})))
        size = len(out.getvalue().encode("utf-8"))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aps", default="1000,10000,50000")
    args = parser.parse_args()
    measure(fleet(500), True)  # warm caches (advisory, csv module)
    columns = ("APs", "streamed s", "peak MiB", "buffered s", "peak MiB", "CSV MiB", "peak ratio")
    print(" ".join(f"{c:>10}" for c in columns))
    for total in (int(a) for a in args.aps.split(",")):
        reports = fleet(total)
        s_time, s_peak, size = measure(reports, True)
        b_time, b_peak, _ = measure(reports, False)
        mib = 1024 * 1024
        print(
            f"{total:>10,} {s_time:>10.2f} {s_peak / mib:>10.2f} {b_time:>10.2f} {b_peak / mib:>10.2f} "
            f"{size / mib:>10.2f} {s_peak / b_peak:>9.2f}×"
        )


if __name__ == "__main__":
    main()
