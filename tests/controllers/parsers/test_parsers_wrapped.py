"""AP tables printed on a narrow terminal: every line longer than W cut into
pieces of exactly W characters (`bot.simulator.wrapping.wrap`, the rule real
AireOS and 9800 sessions follow without `terminal width 0`).

The parsers must re-join them: the same APs as the unwrapped table, never an
AP made from the second half of a row. Checked on the simulator's renderers
(all AP table layouts the bot reads), on the real captures of the corpus
wrapped after the fact, and by a property test over random AP sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.controllers.parsers import aptables, wrapped
from bot.controllers.parsers.results import ApImageReport, ApSummary
from bot.controllers.parsers.text import normalise, normalise_newlines
from bot.controllers.platforms.aireos import parsers as aireos
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.simulator import render_aireos, render_iosxe
from bot.simulator.model import Controller, default_ap_image
from bot.simulator.scenario import unserved_controller as controller
from bot.simulator.wrapping import wrap

# ---------------------------------------------------------------- simulator tables


@dataclass(frozen=True)
class Table:
    """One AP table the bot reads: how the simulator renders it and how the bot parses it."""

    name: str
    platform: str
    version: str
    render: Callable[[Controller], str]
    parse: Callable[[str], ApSummary | ApImageReport]
    kind: str  # "summary" | "image"


TABLES = (
    Table(
        "aireos-summary",
        "aireos",
        "8.10.162.0",
        render_aireos.show_ap_summary,
        aireos.parse_show_ap_summary_table,
        "summary",
    ),
    Table(
        "aireos-image-all",
        "aireos",
        "8.5.182.0",
        render_aireos.show_ap_image_all,
        aireos.parse_show_ap_image_all,
        "image",
    ),
    Table(
        "aireos-image-status",
        "aireos",
        "8.10.162.0",
        render_aireos.show_ap_image_status,
        aireos.parse_show_ap_image_status,
        "image",
    ),
    Table(
        "9800-summary-16.12",
        "iosxe",
        "16.12.4",
        render_iosxe.show_ap_summary,
        iosxe.parse_show_ap_summary_table,
        "summary",
    ),
    Table(
        "9800-summary-17.6",
        "iosxe",
        "17.6.4",
        render_iosxe.show_ap_summary,
        iosxe.parse_show_ap_summary_table,
        "summary",
    ),
    Table(
        "9800-summary-17.9",
        "iosxe",
        "17.9.4",
        render_iosxe.show_ap_summary,
        iosxe.parse_show_ap_summary_table,
        "summary",
    ),
    Table("9800-image", "iosxe", "17.9.4", render_iosxe.show_ap_image, iosxe.parse_show_ap_image, "image"),
)
TABLE_IDS = [t.name for t in TABLES]

# Long names, names with spaces, IPv6, long locations, IOS and AP-COS models,
# APs downloading (image differs from the controller's) and registered.
APS: list[dict[str, Any]] = [
    {
        "name": "CAP3702I.4CD4",
        "model": "AIR-CAP3702I-E-K9",
        "image": "8.5.171.0",
        "retry_count": 7,
        "location": "Bldg 2 floor 3",
    },
    {"name": "AP 2702 lobby", "model": "AIR-CAP2702I-E-K9", "image": "8.5.171.0"},
    {
        "name": "AP1852-east-wing-corridor-near-the-stairs-07",
        "model": "AIR-AP1852I-E-K9",
        "ip": "2001:db8:10::1234:5678",
    },
    {"name": "AP9120", "model": "C9120AXI-E", "location": "Main building east wing corridor"},
    {"name": "IW3702-yard", "model": "IW3702-2E-UXK9", "ip": "10.20.30.40", "image": "8.5.171.0"},
]


def expected(table: Table, c: Controller) -> list[tuple[object, ...]]:
    """What the controller printed, per AP, in the fields the bot reads."""
    rows: list[tuple[object, ...]] = []
    for ap in c.aps.values():
        if table.kind == "summary":
            model = ap.short_model if table.version == "16.12.4" else ap.model
            state = ap.state if table.platform == "iosxe" else None  # AireOS prints no state
            rows.append((ap.name, model, ap.ip, state, ap.location))
        else:
            status = ap.download_status if table.name == "aireos-image-status" else None
            rows.append((ap.name, ap.image, status))
    return rows


def parsed(table: Table, result: ApSummary | ApImageReport) -> list[tuple[object, ...]]:
    if isinstance(result, ApSummary):
        return [(r.name, r.model, r.ip, r.state, r.location) for r in result.rows]
    return [(e.name, e.primary_image, e.download_status) for e in result.entries]


def rows_of(result: ApSummary | ApImageReport) -> list[Any]:
    return list(result.rows) if isinstance(result, ApSummary) else list(result.entries)


@pytest.mark.parametrize("table", TABLES, ids=TABLE_IDS)
@pytest.mark.parametrize("width", [80, 100, 132])
def test_wrapped_simulator_tables_give_the_rendered_aps(table: Table, width: int) -> None:
    c = controller(table.platform, table.version, APS)
    text = wrap(table.render(c), width)
    assert max(len(line) for line in text.split("\n")) <= width
    result = table.parse(text)
    assert parsed(table, result) == expected(table, c)
    assert result.incomplete_reasons == ()
    assert result.unparsed_lines == ()


@pytest.mark.parametrize("table", TABLES, ids=TABLE_IDS)
def test_wrapped_at_80_equals_the_unwrapped_parse_field_for_field(table: Table) -> None:
    """Every field (MACs, slots, countries, retry counts...) survives re-joining, not just the names."""
    c = controller(table.platform, table.version, APS)
    plain = table.parse(table.render(c))
    joined = table.parse(wrap(table.render(c), 80))
    assert [_fields(r) for r in rows_of(joined)] == [_fields(r) for r in rows_of(plain)]
    assert joined.incomplete_reasons == plain.incomplete_reasons == ()


def _fields(row: Any) -> dict[str, Any]:
    """A row's parsed fields; `raw` is the line read, which re-joining may pad differently."""
    return {k: v for k, v in vars(row).items() if k != "raw"}


def test_wrapped_9800_summary_with_repeated_header_blocks() -> None:
    """`Number of APs` and the header repeat every 2 rows; wrapped, they still
    make one table and one count (not a mismatch)."""
    c = controller("iosxe", "17.9.4", APS, ap_summary_header_every=2)
    text = wrap(render_iosxe.show_ap_summary(c), 80)
    assert text.count("Number of APs: 5") == 3
    summary = iosxe.parse_show_ap_summary_table(text)
    assert [r.name for r in summary.rows] == [a["name"] for a in APS]
    assert summary.declared_count == 5
    assert summary.incomplete_reasons == ()


def test_wrapped_aireos_summary_keeps_the_image_states_out() -> None:
    """AireOS prints no State column; wrapping must not invent one from a cut cell."""
    c = controller("aireos", "8.10.162.0", APS)
    summary = aireos.parse_show_ap_summary_table(wrap(render_aireos.show_ap_summary(c), 80))
    assert summary.layout == "aireos-ip-clients"
    assert all(r.state is None for r in summary.rows)
    assert [r.extra.get("dse_location") for r in summary.rows] == ["[0 ,0 ,0 ]"] * len(APS)


def test_wrapped_9800_image_table_keeps_retry_counts() -> None:
    c = controller("iosxe", "17.9.4", APS)
    report = iosxe.parse_show_ap_image(wrap(render_iosxe.show_ap_image(c), 80))
    assert [(e.name, e.retry_count, e.predownload_status, e.method) for e in report.entries] == [
        (ap.name, ap.retry_count, "None", "N/A") for ap in c.aps.values()
    ]
    assert report.total_aps == 5 and report.incomplete_reasons == ()


def test_rows_cut_under_an_intact_header_are_rejoined() -> None:
    """132 columns: the AireOS image header (122) fits, rows with long names do not."""
    c = controller("aireos", "8.5.182.0", APS)
    text = wrap(render_aireos.show_ap_image_all(c), 132)
    lines = normalise(text).split("\n")
    assert not wrapped.looks_wrapped(lines, aptables.IMAGE_SHAPE)  # only some rows are cut
    report = aireos.parse_show_ap_image_all(text)
    assert [e.name for e in report.entries] == [a["name"] for a in APS]
    assert report.incomplete_reasons == ()


def test_a_lost_piece_is_reported_never_turned_into_an_ap() -> None:
    """Drop one continuation piece of a wrapped row: the rest of that row must
    not become an AP, and the summary says it is incomplete."""
    c = controller("iosxe", "17.6.4", APS)
    lines = wrap(render_iosxe.show_ap_summary(c), 80).split("\n")
    first_row = next(i for i, ln in enumerate(lines) if ln.startswith("CAP3702I.4CD4"))
    del lines[first_row + 1]
    summary = iosxe.parse_show_ap_summary_table("\n".join(lines))
    names = {a["name"] for a in APS}
    assert {r.name for r in summary.rows} <= names
    assert summary.incomplete_reasons


# ---------------------------------------------------------------- corpus captures

SUMMARY_CAPTURES = [
    "aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw",
    "aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_2500.raw",
    "c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw",
    "c9800/show_ap_summary/genieparser_ShowApSummary_golden_output3.raw",
    "c9800/show_ap_summary/genieparser_ShowApSummary_golden_output_4.raw",
    "c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary.raw",
    "c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw",
    "c9800/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_C9800.raw",
    "technote/c9800_show_ap_summary_downloading.raw",
]
IMAGE_CAPTURES = [
    ("aireos/show_ap_image_all/ntc-templates_cisco_wlc_ssh_show_ap_image_all.raw", aireos.parse_show_ap_image_all),
    ("aireos/show_ap_image_all/pyntc_show_ap_image_all.raw", aireos.parse_show_ap_image_all),
    ("technote/aireos_8.5_show_ap_image_all.raw", aireos.parse_show_ap_image_all),
    ("technote/aireos_8.10_show_ap_image_status.raw", aireos.parse_show_ap_image_status),
    ("c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw", iosxe.parse_show_ap_image),
]


def _summary_parser(rel: str) -> Callable[[str], ApSummary]:
    return aireos.parse_show_ap_summary_table if rel.startswith("aireos/") else iosxe.parse_show_ap_summary_table


@pytest.mark.parametrize("rel", SUMMARY_CAPTURES)
@pytest.mark.parametrize("width", [80, 100, 132])
def test_wrapped_corpus_summaries_read_like_the_originals(corpus: Any, rel: str, width: int) -> None:
    raw = normalise_newlines(corpus.raw(rel))
    parse = _summary_parser(rel)
    plain = parse(raw)
    joined = parse(wrap(raw, width))
    assert [_fields(r) for r in joined.rows] == [_fields(r) for r in plain.rows]
    assert (joined.declared_count, joined.layout, joined.unparsed_lines) == (
        plain.declared_count,
        plain.layout,
        plain.unparsed_lines,
    )


@pytest.mark.parametrize(("rel", "parse"), IMAGE_CAPTURES, ids=[rel for rel, _ in IMAGE_CAPTURES])
@pytest.mark.parametrize("width", [80, 100])
def test_wrapped_corpus_image_tables_read_like_the_originals(
    corpus: Any, rel: str, parse: Callable[[str], ApImageReport], width: int
) -> None:
    raw = normalise_newlines(corpus.raw(rel))
    plain = parse(raw)
    joined = parse(wrap(raw, width))
    assert [_fields(e) for e in joined.entries] == [_fields(e) for e in plain.entries]
    assert (joined.total_aps, joined.counters, joined.unparsed_lines) == (
        plain.total_aps,
        plain.counters,
        plain.unparsed_lines,
    )


@pytest.mark.parametrize("rel", SUMMARY_CAPTURES + [rel for rel, _ in IMAGE_CAPTURES])
def test_unwrapped_corpus_takes_the_plain_path(corpus: Any, rel: str) -> None:
    """The cheap check sees no wrapping in any real capture, so they are read exactly as before."""
    lines = normalise(corpus.raw(rel)).split("\n")
    assert not wrapped.looks_wrapped(lines, aptables.SUMMARY_SHAPE)
    assert not wrapped.looks_wrapped(lines, aptables.IMAGE_SHAPE)


def test_wrapped_9800_capture_header_label_cut_mid_word(corpus: Any) -> None:
    """At 85 columns the genie capture's header is cut inside `Radio MAC`
    (`Rad` + `io MAC`) and its 199-dash rule into 85-dash pieces."""
    raw = normalise_newlines(corpus.raw("c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw"))
    text = wrap(raw, 85)
    assert "Rad\nio MAC" in text and "-" * 85 + "\n" + "-" * 85 in text
    summary = iosxe.parse_show_ap_summary_table(text)
    assert [(r.name, r.radio_mac, r.state) for r in summary.rows] == [
        ("AP002C.C862.E708", "002c.c88a.fd20", "Registered"),
        ("AP188B.4500.5EE8", "188b.4501.e4e0", "Registered"),
    ]


# ---------------------------------------------------------------- building blocks


def test_join_pieces_pads_every_piece_but_the_last() -> None:
    assert wrapped.join_pieces(["ab", "cd", "e"], 4) == "ab  cd  e"
    assert wrapped.join_pieces(["abcd", "ef"], 4) == "abcdef"
    assert wrapped.join_pieces(["only"], 80) == "only"


def test_candidate_widths_are_the_longest_table_line_and_one_more() -> None:
    lines = ["Number of APs: 1", "", "AP Name    Slots", "  AP Model", "----------", "AP1        2"]
    assert wrapped.candidate_widths(lines, aptables.SUMMARY_SHAPE) == [16, 17]
    assert wrapped.candidate_widths(["no table here"], aptables.SUMMARY_SHAPE) == []


# ---------------------------------------------------------------- property


MODELS = [
    # IOS-based (the affected ones) ...
    "AIR-CAP3702I-E-K9",
    "AIR-CAP2702I-E-K9",
    "IW3702-2E-UXK9",
    "AIR-LAP1142N-E-K9",
    "AIR-CAP1702I-B-K9",
    # ... and AP-COS.
    "AIR-AP1852I-E-K9",
    "AIR-AP2802I-E-K9",
    "C9120AXI-E",
    "C9130AXI-B",
    "CW9166I-E",
]
_word = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=14)
_name = st.lists(_word, min_size=1, max_size=4).map(" ".join).map(lambda s: s[:48].strip()).filter(bool)
_loc_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-", min_size=1, max_size=10)
_location = st.one_of(st.just("default location"), st.lists(_loc_word, min_size=1, max_size=4).map(" ".join))
_ipv4 = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: ".".join(map(str, t)))
_ipv6 = st.tuples(st.integers(1, 0xFFFF), st.integers(0, 0xFFFF), st.integers(1, 0xFFFF)).map(
    lambda t: f"2001:db8:{t[0]:x}::{t[1]:x}:{t[2]:x}"
)


@st.composite
def ap_sets(draw: st.DrawFn) -> tuple[Table, list[dict[str, Any]], int]:
    table = draw(st.sampled_from(TABLES))
    names = draw(st.lists(_name, min_size=0, max_size=7, unique=True))
    current = default_ap_image(table.platform, table.version)
    aps = [
        {
            "name": name,
            "model": draw(st.sampled_from(MODELS)),
            "ip": draw(st.one_of(_ipv4, _ipv6)),
            "location": draw(_location),
            # the controller's own image: Registered; any other: Downloading
            "image": draw(st.sampled_from([current, "8.5.171.0"])),
            "retry_count": draw(st.integers(0, 30)),
        }
        for name in names
    ]
    every = draw(st.sampled_from([0, 0, 2, 3]))
    return table, aps, every


@pytest.mark.parametrize("width", [80, 132, 250])
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=ap_sets())
def test_wrapped_tables_give_the_rendered_aps_or_say_they_are_incomplete(
    width: int, case: tuple[Table, list[dict[str, Any]], int]
) -> None:
    table, aps, every = case
    c = controller(table.platform, table.version, aps, **({"ap_summary_header_every": every} if every else {}))
    result = table.parse(wrap(table.render(c), width))
    rendered = {ap.name: ap for ap in c.aps.values()}
    # Never an AP the controller did not print (not even a real AP's row glued to another's).
    for row in rows_of(result):
        assert row.name in rendered
        if isinstance(result, ApSummary):
            assert row.mac is not None and row.mac.replace(":", "").replace(".", "") == rendered[row.name].mac
    if not result.incomplete_reasons:
        assert parsed(table, result) == expected(table, c)


def _alike(count: int) -> list[dict[str, Any]]:
    """APs whose rows are all as long as each other: every row cut like the header."""
    return [{"name": f"AP{n:04d}", "model": "AIR-CAP3702I-E-K9", "image": "8.5.171.0"} for n in range(count)]


@pytest.mark.parametrize("table", TABLES, ids=TABLE_IDS)
@pytest.mark.parametrize("width", [80, 100])
def test_the_counted_rejoin_gives_the_row_checked_lines_where_it_applies(table: Table, width: int) -> None:
    """`unwrap_uniform` is a shortcut: wherever it re-joins at all, it re-joins as `unwrap` does."""
    sim = controller(table.platform, table.version, _alike(12))
    text = normalise(normalise_newlines(wrap(table.render(sim), width)))
    lines = text.split("\n")
    shape = aptables.SUMMARY_SHAPE if table.kind == "summary" else aptables.IMAGE_SHAPE
    widths = wrapped.candidate_widths(lines, shape)
    counted = [(w, wrapped.unwrap_uniform(lines, shape, w)) for w in widths]
    for w, joined in counted:
        if joined is not None:
            assert joined == wrapped.unwrap(lines, shape, w)
    if table.name == "aireos-summary" and width == 80:
        assert any(joined is not None for _, joined in counted)  # the shortcut is taken somewhere


def test_a_row_in_fewer_pieces_than_its_header_is_left_to_the_row_checks() -> None:
    """Counting pieces would glue the next rows together: the shortcut gives up (or its reading
    is not perfect), and the row-checked re-join reads the table. (The property test below
    checks the same over random AP sets, whose rows are cut unevenly.)"""
    sim = controller("aireos", "8.10.162.0", _alike(4))
    text = normalise(normalise_newlines(wrap(render_aireos.show_ap_summary(sim), 80)))
    lines = text.split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("AP0")]
    short = rows[1]
    lines[short : short + 2] = [lines[short][:60]]  # the second AP's row printed short: one piece, no MAC
    summary = aireos.parse_show_ap_summary_table("\n".join(lines))
    names = [row.name for row in summary.rows]
    assert names[0] == lines[rows[0]].split()[0] and len(names) == 3  # the short row is no AP
    assert names[1:] == [lines[rows[2] - 1].split()[0], lines[rows[3] - 1].split()[0]]


def test_a_doubtful_row_does_not_swallow_the_next_ap_as_its_name() -> None:
    """Found by the property test: a location longer than its column makes a row doubtful, and
    each row wraps into three pieces at 80 columns. The next AP's row, glued on across a wide
    gap, once read as one AP whose name was the whole first row."""
    long_location = "0000000000 0000000000 00000 0000000000"
    aps = [
        {"name": name, "model": "AIR-CAP3702I-E-K9", "ip": "2001:db8:1::0:1", "location": long_location}
        for name in ("0", "0 0")
    ]
    sim = controller("aireos", "8.10.162.0", aps)
    summary = aireos.parse_show_ap_summary_table(wrap(render_aireos.show_ap_summary(sim), 80))
    assert [row.name for row in summary.rows] == ["0", "0 0"]
    assert [(row.mac or "").replace(":", "") for row in summary.rows] == [ap.mac for ap in sim.aps.values()]


def test_a_row_ending_in_a_piece_of_blanks_does_not_shift_the_counted_rejoin() -> None:
    """Found in review: a short row's last piece is all padding, which normalise() empties into
    a blank line; a longer row elsewhere has one piece more. Counted past the blank line, the
    groups shifted and one AP came out named with the other's tail: the counted re-join now
    gives up after a blank line inside the table."""
    table = next(t for t in TABLES if t.name == "9800-summary-17.9")
    aps = [dict(a, location="default location", ip=f"10.0.0.{i}") for i, a in enumerate(_alike(3))]
    aps[1:1] = [
        {"name": "AP-" + "L" * 45, "model": "AIR-CAP3702I-E-K9", "location": f"{'l' * 40} {'m' * 30}", "ip": "1.1.1.1"},
        {"name": "A", "model": "C9120AXI-E", "location": "a", "ip": "1.1.1.1"},
    ]
    sim = controller(table.platform, table.version, aps)
    result = table.parse(wrap(table.render(sim), 80))
    assert parsed(table, result) == expected(table, sim)
