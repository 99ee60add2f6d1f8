"""Is an AP table read the whole table? `incomplete_reasons`, no phantom APs,
what the registered parsers hand the drivers, and the image table's
retry / predownload fields (`is_predownloading`, `NA` placeholders).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.controllers.parsers.results import ApImageEntry, ApImageReport, ApSummary, ApSummaryRow
from bot.controllers.platforms import registry
from bot.controllers.platforms.aireos import parsers as aireos
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.domain.models import AccessPoint
from bot.simulator import render_aireos, render_iosxe
from bot.simulator.scenario import Scenario, unserved_controller


def _summary(rows: int, declared: int | None, unparsed: int = 0) -> ApSummary:
    return ApSummary(
        rows=tuple(ApSummaryRow(name=f"AP{i}") for i in range(rows)),
        declared_count=declared,
        unparsed_lines=tuple(f"junk {i}" for i in range(unparsed)),
    )


# ---------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("rows", "declared", "unparsed", "reasons"),
    [
        (37, 4135, 0, ("read 37 of 4,135 APs",)),
        (40, 37, 0, ("read 40 APs but the controller counts 37",)),
        (1234, 1000, 0, ("read 1,234 APs but the controller counts 1,000",)),
        (5, 5, 2, ("2 lines of the AP table could not be read",)),
        (5, 5, 1, ("1 line of the AP table could not be read",)),
        (3, 5, 1, ("read 3 of 5 APs", "1 line of the AP table could not be read")),
        (5, 5, 0, ()),
        (5, None, 0, ()),  # no count printed (the tech note's capture): nothing to compare with
        (0, 0, 0, ()),
    ],
)
def test_summary_incomplete_reasons_wording(rows: int, declared: int | None, unparsed: int, reasons: tuple[str, ...]):
    summary = _summary(rows, declared, unparsed)
    assert summary.incomplete_reasons == reasons
    assert summary.is_complete == (reasons == ())


def test_image_report_incomplete_reasons_use_the_controllers_total():
    def report(entries: int, total: int | None, unparsed: int = 0) -> ApImageReport:
        return ApImageReport(
            total_aps=total,
            counters={},
            entries=tuple(ApImageEntry(name=f"AP{i}", primary_image="8.5.182.0") for i in range(entries)),
            unparsed_lines=tuple("x" for _ in range(unparsed)),
        )

    assert report(37, 4135).incomplete_reasons == ("read 37 of 4,135 APs",)
    assert report(40, 37).incomplete_reasons == ("read 40 APs but the controller counts 37",)
    assert report(2, 2, 3).incomplete_reasons == ("3 lines of the AP table could not be read",)
    assert report(2, None).incomplete_reasons == ()
    assert report(37, 4135).count_mismatch and not report(2, 2).count_mismatch


# ---------------------------------------------------------------- real and simulated tables


def _controller(platform: str, version: str, n: int, **extra: Any):
    aps = [{"name": f"AP-{i:02d}", "model": "AIR-CAP3702I-E-K9" if i % 2 else "C9120AXI-E"} for i in range(n)]
    return unserved_controller(platform, version, aps, **extra)


def test_corpus_tables_are_complete(corpus):
    for rel, parse in [
        ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw", aireos.parse_show_ap_summary_table),
        ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw", iosxe.parse_show_ap_summary_table),
        ("technote/c9800_show_ap_summary_downloading.raw", iosxe.parse_show_ap_summary_table),
        ("c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw", iosxe.parse_show_ap_image),
        ("aireos/show_ap_image_all/pyntc_show_ap_image_all.raw", aireos.parse_show_ap_image_all),
    ]:
        assert parse(corpus.raw(rel)).incomplete_reasons == (), rel


def test_fabric_count_larger_than_rows_is_a_reason(corpus):
    table = iosxe.parse_show_fabric_ap_summary_table(
        corpus.raw("c9800/show_fabric_ap_summary/genieparser_ShowFabricApSummary_golden_output2.raw")
    )
    assert table.incomplete_reasons == ("read 7 of 9 APs",)


def test_repeated_header_blocks_are_one_table_not_a_mismatch():
    c = _controller("iosxe", "17.9.4", 7, ap_summary_header_every=3)
    text = render_iosxe.show_ap_summary(c)
    assert text.count("Number of APs: 7") == 3
    summary = iosxe.parse_show_ap_summary_table(text)
    assert len(summary.rows) == 7 and summary.declared_count == 7
    assert summary.incomplete_reasons == ()


def test_aireos_summary_cut_short_is_a_truncation():
    """AireOS lists exactly the joined APs it counts: fewer rows is a truncated read."""
    c = _controller("aireos", "8.10.162.0", 5)
    lines = render_aireos.show_ap_summary(c).split("\n")
    summary = aireos.parse_show_ap_summary_table("\n".join(lines[:-3]))
    assert summary.incomplete_reasons == ("read 2 of 5 APs",)


def test_aireos_summary_listing_only_joined_aps_is_complete():
    """A downloading AP is not listed, and not counted either: complete."""
    c = Scenario.from_dict(
        {
            "controllers": [
                {
                    "name": "wlc",
                    "platform": "aireos",
                    "version": "8.10.162.0",
                    "port": 0,
                    "aireos_summary_lists_downloading": False,
                    "aps": [
                        {"name": "AP-joined", "model": "AIR-AP1852I-E-K9"},
                        {"name": "AP-loading", "model": "AIR-CAP3702I-E-K9", "image": "8.5.171.0"},
                    ],
                }
            ]
        }
    ).build()[0][0]
    assert [ap.state for ap in c.aps.values()] == ["Registered", "Downloading"]
    summary = aireos.parse_show_ap_summary_table(render_aireos.show_ap_summary(c))
    assert [r.name for r in summary.rows] == ["AP-joined"]
    assert summary.declared_count == 1 and summary.incomplete_reasons == ()


# ---------------------------------------------------------------- no phantom APs

_HEADER_9800 = (
    "AP Name                            Slots    AP Model              Ethernet MAC    Radio MAC       "
    "Location                          Country     IP Address                                 State"
)
_ROW_9800 = (
    "AP-ONE                               2      AIR-CAP3702I-E-K9     0081.c4fb.2e74  843d.c673.10d0  "
    "default location                  US          10.0.0.1                                   Registered"
)


def test_second_half_of_a_cut_row_is_not_an_ap():
    """What the bot used to do with 80-column output: the tail of a row (radio
    MAC, location, IP, state) was kept as an AP named after its first word."""
    tail = "843d.c673.10d0  default location  US  10.0.0.9  Registered"
    text = "\n".join(["Number of APs: 2", "", _HEADER_9800, "-" * 190, _ROW_9800, tail])
    summary = iosxe.parse_show_ap_summary_table(text)
    assert [r.name for r in summary.rows] == ["AP-ONE"]
    assert summary.unparsed_lines == (tail,)
    assert summary.incomplete_reasons == ("read 1 of 2 APs", "1 line of the AP table could not be read")


def test_row_without_its_state_is_kept_but_flagged():
    """A real AP (name, MAC) whose State cell is missing: kept, since dropping
    it would hide an AP, but the read is not complete."""
    row = _ROW_9800[: _ROW_9800.index("Registered")].rstrip()
    summary = iosxe.parse_show_ap_summary_table("\n".join(["Number of APs: 1", "", _HEADER_9800, "-" * 190, row]))
    assert [(r.name, r.mac, r.state) for r in summary.rows] == [("AP-ONE", "0081.c4fb.2e74", None)]
    assert summary.incomplete_reasons == ("1 line of the AP table could not be read",)


_IMAGE_HEADER_AIREOS = [
    " " * 49 + "Predownload     Predownload                                  Flexconnect",
    "AP Name            Primary Image  Backup Image   Status          Version        Next Retry Time  "
    "Retry Count  Predownload",
    "------------------ -------------- -------------- --------------- -------------- ---------------- "
    "------------ --------------",
]


def test_image_line_that_fits_no_row_is_not_an_entry():
    """The old fallback made an entry of any line with a version in it."""
    odd = "AP-ODD  ??  8.5.182.0"
    text = "\n".join(
        [
            "Total number of APs.............................. 2",
            "",
            *_IMAGE_HEADER_AIREOS,
            "AP-ONE             8.5.182.0      0.0.0.0        None            None           NA               NA",
            odd,
        ]
    )
    report = aireos.parse_show_ap_image_all(text)
    assert [e.name for e in report.entries] == ["AP-ONE"]
    assert report.unparsed_lines == (odd,)
    assert report.incomplete_reasons == ("read 1 of 2 APs", "1 line of the AP table could not be read")


def test_tail_of_a_cut_image_row_is_not_an_entry():
    """`.0.0  None  None  NA  NA` (the end of `0.0.0.0` and the cells after it)
    has placeholders where the primary image should be: no AP."""
    text = "\n".join(
        [
            "Total number of APs.............................. 1",
            "",
            *_IMAGE_HEADER_AIREOS,
            "AP-ONE             8.5.182.0      0.0.0.0        None            None           NA               NA",
            ".0.0    None     None    NA    NA",
        ]
    )
    report = aireos.parse_show_ap_image_all(text)
    assert [e.name for e in report.entries] == ["AP-ONE"]
    assert report.incomplete_reasons == ("1 line of the AP table could not be read",)


def test_unrecognised_table_header_is_reported_not_skipped():
    """A header the bot does not know must not read as "no APs"."""
    text = "\n".join(["Number of APs: 1", "", "AP Name   Slot  Model   MAC", "------", "AP1  2  X  0081.c4fb.2e74"])
    summary = iosxe.parse_show_ap_summary_table(text)
    assert summary.rows == ()
    assert summary.incomplete_reasons == ("read 0 of 1 APs", "2 lines of the AP table could not be read")
    report = aireos.parse_show_ap_image_status(
        "Total number of APs.............................. 1\nAP Name  Image  Status\n-----\nAP1  8.5.182.0  None"
    )
    assert report.entries == () and report.incomplete_reasons


# ---------------------------------------------------------------- what the drivers get


@pytest.mark.parametrize(
    ("platform", "rel"),
    [
        ("aireos", "aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw"),
        ("iosxe", "technote/c9800_show_ap_summary_downloading.raw"),
    ],
)
def test_registered_ap_summary_parsers_return_the_whole_summary(corpus, platform: str, rel: str):
    parser = registry.get(platform).parser("show_ap_summary")
    assert parser is (aireos if platform == "aireos" else iosxe).parse_show_ap_summary_table
    summary = parser(corpus.raw(rel))
    assert isinstance(summary, ApSummary)
    assert summary.incomplete_reasons == ()
    assert all(isinstance(ap, AccessPoint) for ap in summary.access_points)
    # The list form stays for other callers.
    listed = (aireos if platform == "aireos" else iosxe).parse_show_ap_summary(corpus.raw(rel))
    assert listed == summary.access_points


# ---------------------------------------------------------------- image table fields (retry, predownload)


def test_aireos_image_all_corpus_retry_and_predownload(corpus):
    report = aireos.parse_show_ap_image_all(
        corpus.raw("aireos/show_ap_image_all/ntc-templates_cisco_wlc_ssh_show_ap_image_all.raw")
    )
    assert [
        (e.retry_count, e.predownload_status, e.predownload_version, e.is_predownloading) for e in report.entries
    ] == [(None, "None", "None", False)] * 2  # `NA` retry count is no count
    technote = aireos.parse_show_ap_image_all(corpus.raw("technote/aireos_8.5_show_ap_image_all.raw"))
    [entry] = technote.entries
    assert (entry.retry_count, entry.predownload_status, entry.is_predownloading) == (None, "None", False)
    pyntc = aireos.parse_show_ap_image_all(corpus.raw("aireos/show_ap_image_all/pyntc_show_ap_image_all.raw"))
    assert [
        (e.name, e.predownload_status, e.predownload_version, e.retry_count, e.is_predownloading) for e in pyntc.entries
    ] == [
        ("TEST1", "Complete", "7.0.98.0", None, False),
        ("TEST 2", "Complete", "7.0.98.0", None, False),
    ]


def test_9800_image_corpus_retry_and_predownload(corpus):
    report = iosxe.parse_show_ap_image(corpus.raw("c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw"))
    assert {
        (e.retry_count, e.predownload_status, e.predownload_version, e.is_predownloading) for e in report.entries
    } == {(0, "None", "0.0.0.0", False)}


def test_aireos_image_all_predownload_in_progress():
    """Synthesised (no public capture shows a predownload): the 8.5 layout of
    the tech note with an AP predownloading, one initiated, one finished."""
    rows = [
        "AP-PRE             8.5.161.0      8.5.151.0      Predownloading  8.5.182.0      00:00:30         3",
        "AP-INIT            8.5.161.0      0.0.0.0        Initiated       8.5.182.0      NA               0",
        "AP-DONE            8.5.161.0      8.5.182.0      Complete        8.5.182.0      NA               NA",
        "AP-NA              8.5.182.0      0.0.0.0        NA              NA             NA               NA",
    ]
    text = "\n".join(["Total number of APs.............................. 4", "", *_IMAGE_HEADER_AIREOS, *rows])
    report = aireos.parse_show_ap_image_all(text)
    assert [
        (e.name, e.predownload_status, e.predownload_version, e.next_retry_time, e.retry_count, e.is_predownloading)
        for e in report.entries
    ] == [
        ("AP-PRE", "Predownloading", "8.5.182.0", "00:00:30", 3, True),
        ("AP-INIT", "Initiated", "8.5.182.0", "NA", 0, True),
        ("AP-DONE", "Complete", "8.5.182.0", "NA", None, False),
        ("AP-NA", None, None, "NA", None, False),  # `NA` placeholders are no status and no version
    ]
    assert report.incomplete_reasons == ()


def test_9800_image_predownload_in_progress_with_na_placeholders():
    """Synthesised 17.x `show ap image` rows (layout of the genie capture)."""
    header = (
        "AP Name                           Primary Image          Backup Image            Predownload Status   "
        "Predownload Version  Next Retry Time   Retry Count   Method"
    )
    rows = [
        "AP-A                              17.9.4.27              17.6.4.56               In Progress          "
        "17.9.5.47            N/A               2             CAPWAP",
        "AP-B                              17.9.4.27              17.6.4.56               N/A                  "
        "N/A                  N/A               N/A           N/A",
    ]
    text = "\n".join(["Total number of APs  : 2", "", header, "-" * 162, *rows])
    report = iosxe.parse_show_ap_image(text)
    assert [
        (e.name, e.predownload_status, e.predownload_version, e.retry_count, e.is_predownloading)
        for e in report.entries
    ] == [
        ("AP-A", "In Progress", "17.9.5.47", 2, True),
        ("AP-B", None, None, None, False),
    ]


@pytest.mark.parametrize(
    ("status", "busy"),
    [
        ("Predownloading", True),
        ("PREDOWNLOADING", True),
        ("Initiated", True),
        ("In Progress", True),
        ("in-progress", True),
        ("None", False),
        ("NONE", False),
        ("Complete", False),
        ("Completed", False),
        ("Completed predownloading", False),
        ("Failed", False),
        ("Failed to Predownload", False),
        ("Not Supported", False),
        ("NA", False),
        ("N/A", False),
        (None, False),
        ("", False),
    ],
)
def test_is_predownloading(status: str | None, busy: bool):
    assert ApImageEntry(name="AP", predownload_status=status).is_predownloading is busy
