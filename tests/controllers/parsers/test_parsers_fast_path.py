"""The compiled row patterns: every real layout takes them, and they read what the fitter reads.

The general fitter costs about 0.3 ms a row; a 6,000-AP table read by it
alone took over a second. Each header layout therefore gets a compiled
pattern (`rowpattern.py`), and `fallback_rows` counts the rows it left to the
fitter. These tests pin down that no row of any capture in the corpus, and
no row the simulator prints, falls back, and that where the pattern takes a
row it reads exactly the cells the fitter would.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.controllers.parsers import aptables
from bot.controllers.parsers.rowpattern import fast_fit
from bot.controllers.parsers.tables import estimate_shift, fit_row, is_mac
from bot.controllers.parsers.text import normalise
from bot.controllers.platforms import registry
from bot.simulator import render_aireos, render_iosxe
from bot.simulator.scenario import unserved_controller
from bot.simulator.wrapping import wrap

# Every AP table capture of the corpus: (path, platform, parser key, rows it holds).
CAPTURES = [
    ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw", "aireos", "show_ap_summary", 2),
    ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_2500.raw", "aireos", "show_ap_summary", 2),
    ("aireos/show_ap_image_all/ntc-templates_cisco_wlc_ssh_show_ap_image_all.raw", "aireos", "show_ap_image_all", 2),
    ("aireos/show_ap_image_all/pyntc_show_ap_image_all.raw", "aireos", "show_ap_image_all", 2),
    ("technote/aireos_8.5_show_ap_image_all.raw", "aireos", "show_ap_image_all", 1),
    ("technote/aireos_8.10_show_ap_image_status.raw", "aireos", "show_ap_image_status", 1),
    ("c9800/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_C9800.raw", "iosxe", "show_ap_summary", 2),
    ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary.raw", "iosxe", "show_ap_summary", 1),
    ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw", "iosxe", "show_ap_summary", 6),
    ("c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw", "iosxe", "show_ap_summary", 2),
    ("c9800/show_ap_summary/genieparser_ShowApSummary_golden_output_4.raw", "iosxe", "show_ap_summary", 1),
    ("technote/c9800_show_ap_summary_downloading.raw", "iosxe", "show_ap_summary", 1),
    ("c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw", "iosxe", "show_ap_image", 5),
]


def _rows(parsed: Any) -> tuple[Any, ...]:
    return getattr(parsed, "rows", None) or getattr(parsed, "entries", ())


@pytest.mark.parametrize(("path", "platform", "key", "count"), CAPTURES, ids=[c[0].split("/")[-1] for c in CAPTURES])
def test_every_row_of_every_captured_layout_takes_the_compiled_pattern(corpus, path, platform, key, count):
    parsed = registry.get(platform).parser(key)(corpus.raw(path))
    assert len(_rows(parsed)) == count
    assert parsed.unparsed_lines == ()
    assert parsed.fallback_rows == 0


def _layout_for(lines: list[str], key: str) -> aptables._Layout:
    if key == "show_ap_summary":
        return aptables._summary_layout(next(ln for ln in lines if aptables._AP_SUMMARY_HEADER_RE.match(ln)))
    index = next(i for i, ln in enumerate(lines) if aptables._AP_IMAGE_HEADER_RE.match(ln))
    return aptables._image_layout_at(lines, index)


def _general(line: str, layout: aptables._Layout, key: str) -> dict[str, str] | None:
    columns = layout.columns
    if key == "show_ap_summary":
        shift = estimate_shift(line, columns, "mac", is_mac, aptables._after_slots)
    else:
        shift = aptables._image_shift(line, columns, aptables._image_anchor(columns))
    fitted = fit_row(line, columns, shift)
    return None if fitted is None else fitted.cells


@pytest.mark.parametrize(("path", "platform", "key", "count"), CAPTURES, ids=[c[0].split("/")[-1] for c in CAPTURES])
def test_compiled_pattern_reads_each_captured_row_as_the_fitter_does(corpus, path, platform, key, count):
    text = normalise(corpus.raw(path))
    lines = text.split("\n")
    layout = _layout_for(lines, key)
    rows = [row.raw for row in _rows(registry.get(platform).parser(key)(text))]
    assert len(rows) == count
    for line in rows:
        fast = fast_fit(line, layout.pattern, layout.shift_of)
        assert fast is not None, line
        assert fast.cells == _general(line, layout, key), line


def _controller(platform: str, version: str, aps: int) -> Any:
    entries = [
        {"name": f"AP{i:04d}-{'3702' if i % 3 else '9120'}", "model": "AIR-CAP3702I-E-K9" if i % 3 else "C9120AXI-E"}
        for i in range(aps)
    ]
    return unserved_controller(platform, version, entries)


def _simulated() -> list[tuple[str, str, str, str]]:
    aireos_85 = _controller("aireos", "8.5.182.0", 300)
    aireos_810 = _controller("aireos", "8.10.162.0", 300)
    old = _controller("iosxe", "17.3.4", 300)
    new = _controller("iosxe", "17.9.4", 300)
    summary = render_aireos.show_ap_summary(aireos_810)
    return [
        ("aireos summary", "aireos", "show_ap_summary", summary),
        ("aireos summary, 80 columns", "aireos", "show_ap_summary", wrap(summary, 80)),
        ("aireos image all", "aireos", "show_ap_image_all", render_aireos.show_ap_image_all(aireos_85)),
        ("aireos image status", "aireos", "show_ap_image_status", render_aireos.show_ap_image_status(aireos_810)),
        ("9800 summary, State last", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(old)),
        ("9800 summary, CC/RD", "iosxe", "show_ap_summary", render_iosxe.show_ap_summary(new)),
        ("9800 image", "iosxe", "show_ap_image", render_iosxe.show_ap_image(new)),
    ]


@pytest.mark.parametrize("case", _simulated(), ids=lambda case: case[0])
def test_simulated_tables_take_the_compiled_pattern_on_every_row(case):
    _label, platform, key, text = case
    parsed = registry.get(platform).parser(key)(text)
    assert len(_rows(parsed)) == 300
    assert parsed.incomplete_reasons == ()
    assert parsed.fallback_rows == 0


def test_a_row_the_pattern_cannot_decide_falls_back_and_is_still_read():
    """An AP name exactly as wide as its column, glued to Slots by a single space: the pattern
    needs two spaces after free text, so the fitter reads that row (and only that row)."""
    header = (
        "AP Name                            Slots    AP Model              Ethernet MAC    Radio MAC       "
        "Location                          Country     IP Address                                 State"
    )
    row = "{name:<34} {slots:<8} {model:<21} {mac:<15} {radio:<15} {loc:<33} {cc:<11} {ip:<42} {state}"
    values = {
        "slots": "2",
        "model": "AIR-CAP3702I-E-K9",
        "mac": "0081.c4fb.2e74",
        "radio": "843d.c673.10d0",
        "loc": "default location",
        "cc": "US",
        "ip": "10.0.0.1",
        "state": "Registered",
    }
    glued = row.format(name="AP-" + "x" * 31, **values)
    plain = row.format(name="AP-short", **values)
    text = "\n".join(["Number of APs: 2", "", header, "-" * 150, plain, glued])
    parsed = registry.get("iosxe").parser("show_ap_summary")(text)
    assert [r.name for r in parsed.rows] == ["AP-short", "AP-" + "x" * 31]
    assert all(r.state == "Registered" and r.slots == 2 for r in parsed.rows)
    assert parsed.fallback_rows == 1
