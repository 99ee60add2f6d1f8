"""Benchmark: parsing one controller's AP tables (not a test; prints numbers).

    python benchmarks/parse_ap_tables.py [--aps 6000] [--repeat 3] [--width 80]

Renders `show ap summary` (AireOS, 9800 State-last and CC/RD layouts) and
the AP image tables with the simulator's own renderers, then times the
registered parser on each (best of `--repeat`), also on the AireOS summary
as an 80-column terminal prints it. The anchor, measured in the same run on
the same text, is the floor any table reader pays: splitting the text into
lines and every line into words (`re.finditer(r"\\S+")`). The ratio says
how much of a parse is our own work. Pure CPU, no network.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from typing import Any

from bot.controllers.parsers import PARSERS
from bot.simulator import render_aireos, render_iosxe
from bot.simulator.scenario import Scenario
from bot.simulator.wrapping import wrap

_WORD = re.compile(r"\S+")


def controller(platform: str, version: str, aps: int) -> Any:
    entries = [
        {"name": f"AP{i:05d}-{'3702' if i % 3 else '9120'}", "model": "AIR-CAP3702I-E-K9" if i % 3 else "C9120AXI-E"}
        for i in range(aps)
    ]
    scenario = Scenario.from_dict(
        {"controllers": [{"name": "wlc", "platform": platform, "version": version, "port": 0, "aps": entries}]}
    )
    built, _ = scenario.build()[0]
    return built


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(text: str) -> None:
    for line in text.split("\n"):
        for _ in _WORD.finditer(line):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aps", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    aireos = controller("aireos", "8.5.182.0", args.aps)
    aireos_810 = controller("aireos", "8.10.162.0", args.aps)
    old = controller("iosxe", "17.3.4", args.aps)
    new = controller("iosxe", "17.9.4", args.aps)
    cases = [
        ("AireOS show ap summary", "aireos", "show_ap_summary", render_aireos.show_ap_summary(aireos_810)),
        (f"AireOS show ap summary, {args.width} columns", "aireos", "show_ap_summary",
         wrap(render_aireos.show_ap_summary(aireos_810), args.width)),
        ("AireOS show ap image all (8.5)", "aireos", "show_ap_image_all", render_aireos.show_ap_image_all(aireos)),
        ("9800 show ap summary (State last)", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(old)),
        ("9800 show ap summary (CC/RD)", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(new)),
        ("9800 show ap image", "iosxe", "show_ap_image", render_iosxe.show_ap_image(new)),
    ]
    print(f"{args.aps:,} APs per table, best of {args.repeat}")
    print(f"{'table':<40} {'parse ms':>9} {'floor ms':>9} {'ratio':>7}  result")
    for label, platform, key, text in cases:
        parse = PARSERS[(platform, key)]
        result: list[Any] = []
        took = best(lambda p=parse, t=text, out=result: out.append(p(t)), args.repeat)
        anchor = best(lambda t=text: floor(t), args.repeat)
        parsed = result[-1]
        rows = len(getattr(parsed, "rows", None) or getattr(parsed, "entries", ()))
        reasons = getattr(parsed, "incomplete_reasons", ())
        note = f"{rows:,} rows" + (f", incomplete: {'; '.join(reasons)}" if reasons else ", complete")
        print(f"{label:<40} {took * 1000:>9.0f} {anchor * 1000:>9.1f} {took / anchor:>6.0f}×  {note}")


if __name__ == "__main__":
    main()
