"""AP tables: synthetic edge cases and a property test on generated tables.

The renderer below prints tables the way the controllers do (each cell
left-justified to its column width plus one space, so a cell longer than its
column pushes the rest of the row right), with the column widths of the real
captures. The property: whatever the names, locations, states, line endings,
repeated headers and echoes, every AP row comes back, with its fields intact.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.controllers.parsers import aptables
from bot.controllers.parsers.rowpattern import fast_fit
from bot.controllers.parsers.tables import FittedRow, estimate_shift, fit_row, is_mac
from bot.controllers.platforms.aireos import parsers as aireos
from bot.controllers.platforms.iosxe import parsers as iosxe

# ---------------------------------------------------------------- renderer


@dataclass(frozen=True)
class Layout:
    name: str
    columns: tuple[tuple[str, str, int], ...]  # (label, field, width)
    legend: bool = False
    aireos: bool = False


LAYOUT_9800_STATE_LAST = Layout(
    "9800-state-last",
    (
        ("AP Name", "name", 34),
        ("Slots", "slots", 8),
        ("AP Model", "model", 21),
        ("Ethernet MAC", "mac", 15),
        ("Radio MAC", "radio_mac", 15),
        ("Location", "location", 33),
        ("Country", "country", 11),
        ("IP Address", "ip", 42),
        ("State", "state", 0),
    ),
)
LAYOUT_9800_CC_RD = Layout(
    "9800-cc-rd",
    (
        ("AP Name", "name", 32),
        ("Slots", "slots", 5),
        ("AP Model", "model", 20),
        ("Ethernet MAC", "mac", 14),
        ("Radio MAC", "radio_mac", 14),
        ("CC", "country", 4),
        ("RD", "rd", 4),
        ("IP Address", "ip", 41),
        ("State", "state", 12),
        ("Location", "location", 0),
    ),
    legend=True,
)
LAYOUT_AIREOS_8 = Layout(
    "aireos-8",
    (
        ("AP Name", "name", 31),
        ("Slots", "slots", 6),
        ("AP Model", "model", 21),
        ("Ethernet MAC", "mac", 18),
        ("Location", "location", 21),
        ("Country", "country", 11),
        ("IP Address", "ip", 16),
        ("Clients", "clients", 8),
        ("DSE Location", "dse", 0),
    ),
    aireos=True,
)
LAYOUT_AIREOS_2500 = Layout(
    "aireos-2500",
    (
        ("AP Name", "name", 19),
        ("Slots", "slots", 6),
        ("AP Model", "model", 21),
        ("Ethernet MAC", "mac", 18),
        ("Location", "location", 17),
        ("Port", "port", 5),
        ("Country", "country", 8),
        ("Priority", "priority", 0),
    ),
    aireos=True,
)
LAYOUTS = (LAYOUT_9800_STATE_LAST, LAYOUT_9800_CC_RD, LAYOUT_AIREOS_8, LAYOUT_AIREOS_2500)


def render_row(layout: Layout, values: dict[str, str]) -> str:
    out = ""
    for _label, field, width in layout.columns:
        cell = values.get(field, "")
        out += cell.ljust(width) + " " if width else cell
    return out


def render_header(layout: Layout) -> str:
    return render_row(layout, {field: label for label, field, _ in layout.columns}).rstrip()


def render_table(layout: Layout, rows: list[dict[str, str]], repeat_every: int | None, count: int) -> str:
    def block_header() -> list[str]:
        if layout.aireos:
            return [
                f"Number of APs.................................... {count}",
                "",
                "Global AP User Name.............................. admin",
                "",
                render_header(layout),
                "-" * 20 + "  " + "-" * 5 + "  " + "-" * 20,
            ]
        lines = [f"Number of APs: {count}", ""]
        if layout.legend:
            lines += ["CC = Country Code", "RD = Regulatory Domain", ""]
        return [*lines, render_header(layout), "-" * 150]

    lines = block_header()
    for index, row in enumerate(rows):
        if repeat_every and index and index % repeat_every == 0:
            lines += block_header()
        lines.append(render_row(layout, row))
    return "\n".join(lines)


# ---------------------------------------------------------------- strategies

_word = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=14)
_name = st.lists(_word, min_size=1, max_size=4).map(" ".join).filter(lambda s: len(s) <= 48)
_loc_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-", min_size=1, max_size=10).filter(
    lambda w: any(c.isalpha() for c in w)
)
_location = st.one_of(
    st.just(""),
    st.just("default location"),
    st.lists(_loc_word, min_size=1, max_size=3).map(" ".join).map(lambda s: s[:20].strip()),
)
_hex4 = st.text(alphabet="0123456789abcdef", min_size=4, max_size=4)
_mac_dotted = st.tuples(_hex4, _hex4, _hex4).map(".".join)
_mac_colon = st.lists(st.text(alphabet="0123456789abcdef", min_size=2, max_size=2), min_size=6, max_size=6).map(
    ":".join
)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_ipv6 = st.tuples(st.integers(1, 0xFFFF), st.integers(0, 0xFFFF), st.integers(1, 0xFFFF)).map(
    lambda t: f"2001:db8:{t[0]:x}::{t[1]:x}:{t[2]:x}"
)
_model = st.sampled_from(
    ["AIR-CAP3702I-E-K9", "3702I", "2702E", "C9120AXI-B", "AIR-AP1852I-B-K9", "IW3702-2E-UXK9", "CW9166I-E", "9130AXI"]
)
_state = st.sampled_from(
    ["Registered", "Downloading", "Predownloading", "Image-Sync-Pending", "Not Joined", "Disabled", "Unknown-State-X"]
)
_country = st.sampled_from(["US", "JP", "DE", "CH", "IN", ""])
_line_ending = st.sampled_from(["\n", "\r\n", "\r\r\n", "\r"])


@st.composite
def ap_rows(draw: st.DrawFn, layout: Layout) -> dict[str, str]:
    slots = draw(st.sampled_from(["2", "3"]))
    row = {
        "name": draw(_name),
        "slots": " " * draw(st.integers(0, 2)) + slots,
        "model": draw(_model),
        "mac": draw(_mac_colon if layout.aireos else _mac_dotted),
        "radio_mac": draw(_mac_dotted),
        "location": draw(_location),
        "country": draw(_country),
        "ip": draw(st.one_of(_ipv4, _ipv6)),
        "state": draw(_state),
        "rd": draw(st.sampled_from(["-A", "-B", "-E", "--"])),
        "clients": str(draw(st.integers(0, 120))),
        "dse": "[0 ,0 ,0 ]",
        "port": draw(st.sampled_from(["LAG", "1", "2"])),
        "priority": str(draw(st.integers(1, 4))),
    }
    if layout is LAYOUT_9800_CC_RD and not row["country"]:
        row["country"] = "US"  # this layout always prints a country code
    if layout is LAYOUT_AIREOS_2500 and not row["country"]:
        row["country"] = "US"
    return row


@st.composite
def tables(draw: st.DrawFn) -> tuple[Layout, list[dict[str, str]], str]:
    layout = draw(st.sampled_from(LAYOUTS))
    rows = draw(st.lists(ap_rows(layout), min_size=0, max_size=12))
    repeat = draw(st.one_of(st.none(), st.integers(1, 5)))
    text = render_table(layout, rows, repeat, len(rows))
    if draw(st.booleans()):
        text = "\n".join(line + " " * draw(st.integers(0, 3)) for line in text.split("\n"))
    if draw(st.booleans()):
        prompt = "(Cisco Controller) >" if layout.aireos else "9800-L#"
        text = f"{prompt}show ap summary\n{text}\n{prompt}"
    text = text.replace("\n", draw(_line_ending))
    return layout, rows, text


def _parse(layout: Layout, text: str):
    return (aireos if layout.aireos else iosxe).parse_show_ap_summary_table(text)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_generated_tables_never_drop_or_corrupt_rows(table):
    layout, rows, text = table
    parsed = _parse(layout, text)
    assert len(parsed.rows) == len(rows)
    assert parsed.unparsed_lines == ()
    assert parsed.declared_count == len(rows)
    for got, want in zip(parsed.rows, rows, strict=True):
        assert got.name == want["name"]
        assert got.mac == want["mac"]
        assert got.model == want["model"]
        assert got.slots == int(want["slots"])
        assert got.location == (want["location"] or None)
        assert got.country == (want["country"] or None)
        if layout is LAYOUT_AIREOS_2500:
            assert got.ip is None and got.state is None
        else:
            assert got.ip == want["ip"]
        if layout.aireos:
            assert got.state is None
        else:
            assert got.state == want["state"]
            assert got.radio_mac == want["radio_mac"]


# ---------------------------------------------------------------- deterministic edge cases


def _row(layout: Layout, **values: str) -> dict[str, str]:
    base = {
        "name": "AP1",
        "slots": "2",
        "model": "AIR-CAP3702I-E-K9",
        "mac": "0081.c4fb.2e74",
        "radio_mac": "843d.c673.10d0",
        "location": "default location",
        "country": "US",
        "ip": "10.0.0.1",
        "state": "Registered",
        "rd": "-B",
    }
    return {**base, **values}


def test_long_name_shifts_row_and_is_kept_whole():
    long_name = "BLDG-42-FLOOR-3-EAST-WING-CORRIDOR-AP-07"  # longer than the 34-char column
    text = render_table(LAYOUT_9800_STATE_LAST, [_row(LAYOUT_9800_STATE_LAST, name=long_name)], None, 1)
    [row] = iosxe.parse_show_ap_summary_table(text).rows
    assert row.name == long_name
    assert (row.slots, row.model, row.location, row.country, row.state) == (
        2,
        "AIR-CAP3702I-E-K9",
        "default location",
        "US",
        "Registered",
    )


def test_name_with_spaces_ending_in_digit():
    layout = LAYOUT_9800_CC_RD
    text = render_table(layout, [_row(layout, name="Lobby AP 2", slots="2")], None, 1)
    [row] = iosxe.parse_show_ap_summary_table(text).rows
    assert (row.name, row.slots) == ("Lobby AP 2", 2)


def test_unknown_multiword_state_kept_verbatim_in_both_layouts():
    for layout in (LAYOUT_9800_STATE_LAST, LAYOUT_9800_CC_RD):
        text = render_table(layout, [_row(layout, state="Image Sync Pending")], None, 1)
        [ap] = iosxe.parse_show_ap_summary(text)
        assert ap.state == "Image Sync Pending"
        assert ap.location == "default location"


def test_long_state_overflowing_into_location():
    layout = LAYOUT_9800_CC_RD
    text = render_table(layout, [_row(layout, state="Image-Download-Failed")], None, 1)
    [row] = iosxe.parse_show_ap_summary_table(text).rows
    assert (row.state, row.location) == ("Image-Download-Failed", "default location")


def test_empty_country_with_uppercase_location_word():
    layout = LAYOUT_9800_STATE_LAST
    text = render_table(layout, [_row(layout, location="Lab HQ", country="")], None, 1)
    [row] = iosxe.parse_show_ap_summary_table(text).rows
    assert (row.location, row.country) == ("Lab HQ", None)


def test_repeated_headers_and_counts_every_few_rows():
    layout = LAYOUT_9800_STATE_LAST
    rows = [_row(layout, name=f"AP{i:02d}", mac=f"0000.0000.00{i:02d}") for i in range(7)]
    text = render_table(layout, rows, 3, 7)
    assert text.count("Number of APs: 7") == 3
    table = iosxe.parse_show_ap_summary_table(text)
    assert [r.name for r in table.rows] == [f"AP{i:02d}" for i in range(7)]
    assert table.declared_count == 7 and not table.count_mismatch


@pytest.mark.parametrize("name", ["AP 0081.c4fb.0001 spare", "0 000000000000", "0 0 000000000000", "2 0081.c4fb.0001"])
def test_name_containing_mac_like_words(name):
    """Found by the property test: the row's shift must be anchored on the
    Ethernet MAC column, not on a MAC-looking word inside the name."""
    layout = LAYOUT_9800_STATE_LAST
    text = render_table(layout, [_row(layout, name=name, location="")], None, 1)
    table = iosxe.parse_show_ap_summary_table(text)
    [row] = table.rows
    assert (row.name, row.mac, row.state) == (name, "0081.c4fb.2e74", "Registered")
    assert table.unparsed_lines == ()


def test_ipv6_address_row():
    layout = LAYOUT_9800_STATE_LAST
    text = render_table(layout, [_row(layout, ip="2001:db8:1234:5678:9abc:def0:1234:5678")], None, 1)
    [ap] = iosxe.parse_show_ap_summary(text)
    assert ap.ip == "2001:db8:1234:5678:9abc:def0:1234:5678"


def test_stray_text_is_not_an_ap_but_is_reported():
    layout = LAYOUT_9800_STATE_LAST
    text = render_table(layout, [_row(layout)], None, 1) + "\nsome footer the controller printed\n"
    table = iosxe.parse_show_ap_summary_table(text)
    assert [r.name for r in table.rows] == ["AP1"]
    assert table.unparsed_lines == ("some footer the controller printed",)


def test_row_that_fits_no_layout_is_reported_never_an_ap():
    """A line that fits no layout is not turned into an AP (it used to be, from
    its MAC/IP, and a cut row then became an AP that did not exist): it is
    only counted, and the summary says why it is incomplete."""
    layout = LAYOUT_9800_STATE_LAST
    text = render_table(layout, [_row(layout)], None, 2) + "\nAP-ODD  x  0081.c4fb.2e75  ??  10.0.0.9  Weird"
    table = iosxe.parse_show_ap_summary_table(text)
    assert [r.name for r in table.rows] == ["AP1"]
    assert table.unparsed_lines == ("AP-ODD  x  0081.c4fb.2e75  ??  10.0.0.9  Weird",)
    assert table.incomplete_reasons == ("read 1 of 2 APs", "1 line of the AP table could not be read")


@pytest.mark.parametrize("layout", [LAYOUT_AIREOS_8, LAYOUT_AIREOS_2500], ids=lambda layout: layout.name)
def test_aireos_names_with_spaces(layout):
    row = {
        **_row(layout, name="Meeting Room 4", mac="00:11:22:33:44:55"),
        "clients": "3",
        "dse": "[0 ,0 ,0 ]",
        "port": "LAG",
        "priority": "1",
    }
    [ap] = aireos.parse_show_ap_summary(render_table(layout, [row], None, 1))
    assert (ap.name, ap.mac, ap.location) == ("Meeting Room 4", "00:11:22:33:44:55", "default location")


def test_image_table_repeated_two_line_header_and_space_names():
    header_top = " " * 49 + "Predownload     Predownload                                  Flexconnect"
    header = (
        "AP Name            Primary Image  Backup Image   Status          Version        "
        "Next Retry Time  Retry Count  Predownload"
    )
    rule = "------------------ -------------- -------------- ---------------"
    row1 = "AP ONE             8.5.182.0      8.5.171.0      Initiated       8.5.182.7      00:00:30         2"
    row2 = "AP-TWO             8.5.182.0      0.0.0.0        None            None           NA               NA"
    text = "\n".join(
        [
            "Total number of APs.............................. 2",
            "",
            header_top,
            header,
            rule,
            row1,
            "",
            header_top,
            header,
            rule,
            row2,
        ]
    )
    report = aireos.parse_show_ap_image_all(text)
    assert [(e.name, e.predownload_status, e.predownload_version, e.retry_count) for e in report.entries] == [
        ("AP ONE", "Initiated", "8.5.182.7", 2),
        ("AP-TWO", "None", "None", None),
    ]
    assert report.unparsed_lines == ()


def test_iosxe_16_12_ap_image_counters_without_method_column():
    text = "\n".join(
        [
            "Total number of APs : 1",
            "",
            "Number of APs",
            "        Initiated                  : 0",
            "        Downloading                : 1",
            "        Predownloading             : 0",
            "        Completed downloading      : 0",
            "        Completed predownloading   : 0",
            "        Not Supported              : 0",
            "        Failed to Predownload      : 0",
            "",
            "AP Name                           Primary Image          Backup Image           "
            "Predownload Status   Predownload Version  Next Retry Time  Retry Count",
            "-" * 150,
            "AP3702-LOBBY                      16.12.4.31             8.10.130.0             "
            "None                 0.0.0.0              N/A              0",
        ]
    )
    report = iosxe.parse_show_ap_image(text)
    assert report.downloading == 1 and report.total_aps == 1
    [entry] = report.entries
    assert (entry.name, entry.primary_image, entry.backup_image, entry.retry_count, entry.method) == (
        "AP3702-LOBBY",
        "16.12.4.31",
        "8.10.130.0",
        0,
        None,
    )


def test_aireos_header_variant_without_dse_column():
    """Any combination of known labels works: 7.x/8.0 print IP and Clients but no DSE Location."""
    text = "\n".join(
        [
            "Number of APs.................................... 2",
            "",
            "AP Name       Slots  AP Model           Ethernet MAC       Location          Country  IP Address  Clients",
            "------------  -----  -----------------  -----------------  ----------------  -------  ----------  -------",
            "AP-HALL 1      2     AIR-LAP1142N-E-K9  00:11:22:33:44:55  2nd floor hall    DE       10.1.1.5    4",
            "AP-HALL-2-LONG-NAME 2 AIR-CAP1702I-E-K9 00:11:22:33:44:66  default location  DE       10.1.1.6    0",
        ]
    )
    table = aireos.parse_show_ap_summary_table(text)
    assert table.layout == "aireos-ip-clients"
    assert [(r.name, r.model, r.location, r.ip, r.extra.get("clients")) for r in table.rows] == [
        ("AP-HALL 1", "AIR-LAP1142N-E-K9", "2nd floor hall", "10.1.1.5", "4"),
        ("AP-HALL-2-LONG-NAME", "AIR-CAP1702I-E-K9", "default location", "10.1.1.6", "0"),
    ]
    assert table.unparsed_lines == ()


@pytest.mark.parametrize("layout", [LAYOUT_AIREOS_2500, LAYOUT_AIREOS_8], ids=lambda layout: layout.name)
def test_multiword_name_twice_its_column_width_keeps_slots(layout):
    """Found by the property test: a name overflowing by 25+ characters, then
    one space and the Slots digit; the digit must stay in Slots."""
    name = "Main Building 2nd Floor East Corridor Room 12A"
    row = {**_row(layout, name=name, mac="00:11:22:33:44:55", location=""), "clients": "0"}
    row |= {"dse": "[0 ,0 ,0 ]", "port": "LAG", "priority": "1"}
    table = aireos.parse_show_ap_summary_table(render_table(layout, [row], None, 1))
    [got] = table.rows
    assert (got.name, got.slots, got.model) == (name, 2, "AIR-CAP3702I-E-K9")
    assert table.unparsed_lines == ()


# ---------------------------------------------------------------- the fast path agrees with the fitter


def _general_fit(line: str, layout: aptables._Layout) -> FittedRow | None:
    columns = layout.columns
    return fit_row(line, columns, estimate_shift(line, columns, "mac", is_mac, aptables._after_slots))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_compiled_row_pattern_reads_every_row_as_the_general_fitter_does(table):
    """Wherever a layout's compiled pattern takes a row, the general fitter reads the same cells
    (the pattern is only a faster way to the same answer)."""
    _layout, _rows, text = table
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = next(line for line in lines if line.startswith("AP Name"))
    compiled = aptables._summary_layout(header.rstrip())
    for line in lines:
        line = line.rstrip()
        fast = fast_fit(line, compiled.pattern, compiled.shift_of)
        if fast is None:
            continue
        general = _general_fit(line, compiled)
        assert general is not None, line
        assert fast.cells == general.cells, line
