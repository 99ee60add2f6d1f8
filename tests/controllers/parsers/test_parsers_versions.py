"""Reading the IOS-XE release from every form `show version` prints.

Fixtures: tests/fixtures/show_version/*.raw are synthesised (see the README
there): the real 9800-CL capture of the corpus with its version lines
replaced by the plain, suffixed, engineering and experimental forms. The
corpus captures themselves (a real `17.07.01prd16` 9800-CL, a special build,
IOS-XE 3.x) are checked here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.controllers.parsers import ParseError
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.controllers.platforms.iosxe.parsers import release_from_label
from bot.domain.models import Platform
from bot.domain.versions import parse_version

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "show_version"


@pytest.mark.parametrize(
    ("name", "release", "raw"),
    [
        ("c9800_17.03.04.raw", "17.3.4", "17.03.04"),
        ("c9800_17.09.04a.raw", "17.9.4a", "17.09.04a"),
        ("c9800_16.12.01s.raw", "16.12.1s", "16.12.01s"),
        ("c9800_engineering_17.12.01.0.1442.raw", "17.12.1", "17.12.01.0.1442"),
        # Experimental 9800-CL builds: a dated label on the XE line, the
        # release (train) on the IOS line's `Experimental Version`.
        ("c9800_experimental_mcpre_16.12.raw", "16.12", "2020-01-04_00.18_mcpre"),
        ("c9800_experimental_bld_v1716_16.12.raw", "16.12", "BLD_V1716_THROTTLE_LATEST_20240605_031429"),
        ("c9800_experimental_label_only.raw", None, "BLD_V1716_THROTTLE_LATEST_20240605_031429"),
    ],
)
def test_release_of_each_show_version_form(name: str, release: str | None, raw: str) -> None:
    version = iosxe.parse_show_version((FIXTURES / name).read_text(encoding="utf-8"))
    assert (version.release, version.raw) == (release, raw)
    # `version` as before for older callers: the release, else the label as printed.
    assert version.version == (release or raw)
    assert version.model is not None and version.model.startswith("C9800")
    assert version.serial == "9SV9FR9MWP9"
    assert version.hostname is not None and version.hostname.startswith("wlc-")


def test_build_label_never_gives_a_train() -> None:
    """`BLD_V1716_...` once made the bot see 17.16 on a 16.12 controller."""
    text = (FIXTURES / "c9800_experimental_bld_v1716_16.12.raw").read_text(encoding="utf-8")
    assert iosxe.parse_show_version(text).release == "16.12"
    only_label = iosxe.parse_show_version((FIXTURES / "c9800_experimental_label_only.raw").read_text(encoding="utf-8"))
    assert only_label.release is None  # unknown software, not "17.16"
    assert only_label.numeric == ()


def test_corpus_captures(corpus) -> None:
    genie = iosxe.parse_show_version(corpus.raw("c9800/show_version/genieparser_ShowVersion_golden_output_c9800.raw"))
    assert (genie.release, genie.raw, genie.version) == ("17.7.1prd16", "17.07.01prd16", "17.7.1prd16")
    special = iosxe.parse_show_version(
        corpus.raw("ios_iosxe/show_version/ntc-templates_cisco_ios_show_version_special_build.raw")
    )
    assert (special.release, special.raw) == ("16.9.5", "V169_5_SR689355441_2")
    xe3 = iosxe.parse_show_version(corpus.raw("ios_iosxe/show_version/ntc-templates_cisco_ios_show_version1.raw"))
    assert (xe3.release, xe3.raw) == ("3.6.5E", "03.06.05E")
    classic = iosxe.parse_show_version(corpus.raw("ios_iosxe/show_version/ntc-templates_cisco_ios_show_version.raw"))
    assert (classic.release, classic.raw, classic.version) == (None, "12.2(54)SG1", "12.2(54)SG1")  # not IOS-XE


def test_unknown_release_does_not_raise_but_no_version_line_does() -> None:
    text = (
        "Cisco IOS Software [IOSXE], C9800-CL Software (C9800-CL-K9_IOSXE), Experimental Version "
        "BLD_POLARIS_DEV_LATEST_20240101_000000 [polaris_dev-/nobackup/mcpre/BLD 1]\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "wlc uptime is 1 hour, 2 minutes\n"
    )
    version = iosxe.parse_show_version(text)
    assert (version.release, version.raw) == (None, "BLD_POLARIS_DEV_LATEST_20240101_000000")
    with pytest.raises(ParseError):
        iosxe.parse_show_version("Technical Support: http://www.cisco.com/techsupport\nwlc uptime is 1 hour\n")


@pytest.mark.parametrize(
    ("label", "release"),
    [
        ("17.03.04", "17.3.4"),
        ("17.3.4", "17.3.4"),
        ("17.09.04a", "17.9.4a"),
        ("16.12.01s", "16.12.1s"),
        ("17.07.01prd16", "17.7.1prd16"),
        ("03.06.05E", "3.6.5E"),
        ("17.12.01.0.1442", "17.12.1"),  # fields after the third are build numbers
        ("17.10.01.0.161496", "17.10.1"),
        ("16.12.20200104:002126", "16.12"),  # a 6+ digit field is a build date
        ("17.16.20240605", "17.16"),
        ("16.9.5", "16.9.5"),
        ("BLD_V1716_THROTTLE_LATEST_20240605_031429", None),
        ("2020-01-04_00.18_mcpre", None),
        ("V169_5_SR689355441_2", None),
        ("12.2(54)SG1", None),
        ("2020.01.04", None),  # a year is no major release number
        ("17", None),
        ("", None),
        (None, None),
    ],
)
def test_release_from_label(label: str | None, release: str | None) -> None:
    assert release_from_label(label) == release


@pytest.mark.parametrize(("release", "parts"), [("17.3.4", (17, 3, 4)), ("16.12", (16, 12)), ("17.9.4a", (17, 9, 4))])
def test_releases_are_what_the_advisory_table_reads(release: str, parts: tuple[int, ...]) -> None:
    parsed = parse_version(release, Platform.IOSXE)
    assert parsed is not None and parsed.parts == parts
