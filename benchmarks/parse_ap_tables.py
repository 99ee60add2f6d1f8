"""Benchmark: parsing one controller's AP tables (not a test; prints numbers).

    python benchmarks/parse_ap_tables.py [--aps 6000] [--repeat 5] [--width 80]

Two kinds of 6,000-AP tables, each parsed by the registered parser (best of
`--repeat`):

- every AP table layout of the real captures in `tests/fixtures/corpus`
  (AireOS `show ap summary` 8.x and 2500, `show ap image all|status`, 9800
  `show ap summary` State-last and CC/RD, `show ap image`, the tech note's),
  grown to `--aps` rows by repeating the captured rows verbatim;
- the simulator's renderings of the same families, also as an 80-column
  terminal prints the AireOS summary.

Anchors, measured in the same run on the same text: the floor any table reader
pays (splitting the text into lines and every line into words), and
ntc-templates' TextFSM template for the command where one exists. The
`fallback` column counts rows the layout's compiled pattern left to the
general fitter (the goal is 0 on every real layout). Goal: ≤ 100 ms per
table, and no slower than TextFSM. Pure CPU, no network.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.controllers.parsers.text import normalise
from bot.controllers.parsers.textfsm_runner import run_ntc_template
from bot.controllers.platforms import registry
from bot.simulator import render_aireos, render_iosxe
from bot.simulator.scenario import unserved_controller
from bot.simulator.wrapping import wrap

_WORD = re.compile(r"\S+")
_COUNT = re.compile(r"^(\s*(?:Number of APs|Total number of APs)\s*(?:\.+|:)\s*)\d+", re.IGNORECASE | re.MULTILINE)
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"

# ntc-templates' template for each table, where it has one: the TextFSM anchor.
TEXTFSM: dict[tuple[str, str], tuple[str, str]] = {
    ("aireos", "show_ap_summary"): ("cisco_wlc_ssh", "show ap summary"),
    ("aireos", "show_ap_image_all"): ("cisco_wlc_ssh", "show ap image all"),
    ("iosxe", "show_ap_summary"): ("cisco_ios", "show ap summary"),
}
# (file under the corpus, platform, parser key): every AP table layout of the captures.
CAPTURES: tuple[tuple[str, str, str], ...] = (
    ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw", "aireos", "show_ap_summary"),
    ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_2500.raw", "aireos", "show_ap_summary"),
    ("aireos/show_ap_image_all/ntc-templates_cisco_wlc_ssh_show_ap_image_all.raw", "aireos", "show_ap_image_all"),
    ("aireos/show_ap_image_all/pyntc_show_ap_image_all.raw", "aireos", "show_ap_image_all"),
    ("technote/aireos_8.5_show_ap_image_all.raw", "aireos", "show_ap_image_all"),
    ("technote/aireos_8.10_show_ap_image_status.raw", "aireos", "show_ap_image_status"),
    ("c9800/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_C9800.raw", "iosxe", "show_ap_summary"),
    ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary.raw", "iosxe", "show_ap_summary"),
    ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw", "iosxe", "show_ap_summary"),
    ("c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw", "iosxe", "show_ap_summary"),
    ("c9800/show_ap_summary/genieparser_ShowApSummary_golden_output_4.raw", "iosxe", "show_ap_summary"),
    ("technote/c9800_show_ap_summary_downloading.raw", "iosxe", "show_ap_summary"),
    ("c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw", "iosxe", "show_ap_image"),
)


def controller(platform: str, version: str, aps: int) -> Any:
    entries = [
        {"name": f"AP{i:05d}-{'3702' if i % 3 else '9120'}", "model": "AIR-CAP3702I-E-K9" if i % 3 else "C9120AXI-E"}
        for i in range(aps)
    ]
    return unserved_controller(platform, version, entries)


def grown(path: Path, platform: str, key: str, aps: int) -> str:
    """The capture with its AP rows repeated verbatim up to `aps` rows (and its counts set to match)."""
    text = normalise(path.read_text(encoding="utf-8", errors="replace"))
    parsed = registry.get(platform).parser(key)(text)
    raws = {row.raw for row in (getattr(parsed, "rows", None) or getattr(parsed, "entries", ()))}
    lines = text.split("\n")
    indices = [i for i, line in enumerate(lines) if line in raws]
    if not indices:
        raise SystemExit(f"{path}: no AP rows read")
    rows = [lines[i] for i in indices]
    body = [rows[i % len(rows)] for i in range(aps)]
    out = [*lines[: indices[0]], *body, *[ln for ln in lines[indices[-1] + 1 :] if ln not in raws]]
    return _COUNT.sub(lambda m: f"{m.group(1)}{aps}", "\n".join(out))


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


def cases(aps: int, width: int) -> list[tuple[str, str, str, str]]:
    out = []
    for name, platform, key in CAPTURES:
        out.append((f"corpus {Path(name).stem[:44]}", platform, key, grown(CORPUS / name, platform, key, aps)))
    aireos_85 = controller("aireos", "8.5.182.0", aps)
    aireos_810 = controller("aireos", "8.10.162.0", aps)
    old = controller("iosxe", "17.3.4", aps)
    new = controller("iosxe", "17.9.4", aps)
    summary = render_aireos.show_ap_summary(aireos_810)
    out += [
        ("sim AireOS show ap summary", "aireos", "show_ap_summary", summary),
        (f"sim AireOS show ap summary, {width} columns", "aireos", "show_ap_summary", wrap(summary, width)),
        (
            "sim AireOS show ap image all (8.5)",
            "aireos",
            "show_ap_image_all",
            render_aireos.show_ap_image_all(aireos_85),
        ),
        (
            "sim AireOS show ap image status (8.10)",
            "aireos",
            "show_ap_image_status",
            render_aireos.show_ap_image_status(aireos_810),
        ),
        ("sim 9800 show ap summary (State last)", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(old)),
        ("sim 9800 show ap summary (CC/RD)", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(new)),
        ("sim 9800 show ap image", "iosxe", "show_ap_image", render_iosxe.show_ap_image(new)),
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aps", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    print(f"{args.aps:,} APs per table, best of {args.repeat}; ratios: ours ÷ floor, ours ÷ TextFSM")
    print(f"{'table':<52} {'ours ms':>8} {'TextFSM':>8} {'floor':>6} {'×floor':>7} {'×fsm':>5} {'fallback':>8}  result")
    worst = 0.0
    for label, platform, key, text in cases(args.aps, args.width):
        parse = registry.get(platform).parser(key)
        ntc = TEXTFSM.get((platform, key)) if "columns" not in label else None
        result: list[Any] = []
        took = best(lambda p=parse, t=text, out=result: out.append(p(t)), args.repeat)
        anchor = best(lambda t=text: floor(t), args.repeat)
        fsm = best(lambda t=text, n=ntc: run_ntc_template(n[0], n[1], t), args.repeat) if ntc else None
        parsed = result[-1]
        rows = len(getattr(parsed, "rows", None) or getattr(parsed, "entries", ()))
        reasons = getattr(parsed, "incomplete_reasons", ())
        note = f"{rows:,} rows" + (f", incomplete: {'; '.join(reasons)}" if reasons else ", complete")
        fsm_ms = f"{fsm * 1000:8.0f}" if fsm else f"{'–':>8}"
        # (a parser from before the compiled patterns has no such count: run against old code, "–")
        fallback = f"{parsed.fallback_rows:,}" if hasattr(parsed, "fallback_rows") else "–"
        fsm_ratio = f"{took / fsm:5.2f}" if fsm else f"{'–':>5}"
        worst = max(worst, took)
        print(
            f"{label:<52} {took * 1000:8.0f} {fsm_ms} {anchor * 1000:6.1f} {took / anchor:6.0f}× {fsm_ratio}"
            f" {fallback:>8}  {note}"
        )
    print(f"slowest table: {worst * 1000:.0f} ms (goal ≤ 100 ms)")


if __name__ == "__main__":
    main()
