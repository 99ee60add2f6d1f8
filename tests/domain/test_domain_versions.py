"""Version and APSP parsing: the fix table is only as good as these comparisons."""

from __future__ import annotations

import pytest

from bot.domain.models import Platform
from bot.domain.versions import (
    VersionScheme,
    compare_versions,
    infer_platform,
    normalise_csc,
    parse_apsp,
    parse_version,
)


def test_aireos_version_keeps_four_parts() -> None:
    v = parse_version("8.10.162.0")
    assert v is not None
    assert v.parts == (8, 10, 162, 0)
    assert str(v) == "8.10.162.0"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("17.03.04", "17.3.4"),
        ("17.3.4", "Cisco IOS XE Software, Version 17.03.04"),
        ("17.07.01prd16", "17.7.1"),  # a build tag does not order
        ("17.10.01.0.161496", "17.10.1"),  # install build number dropped
        ("8.10.183.0", "8.10.183"),
    ],
)
def test_equal_spellings(a: str, b: str) -> None:
    assert compare_versions(a, b) == 0
    assert parse_version(a) == parse_version(b)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("8.10.162.0", "8.10.183.0"),
        ("8.10.183.0", "8.10.185.0"),
        ("8.5.182.7", "8.5.182.105"),  # numeric, not text
        ("8.5.182.12", "8.5.182.13"),
        ("8.5.182.0", "8.10.105.0"),
        ("17.3.4", "17.3.4a"),  # rebuild letter is later
        ("17.3.4a", "17.3.4b"),
        ("17.3.4c", "17.3.5"),
        ("17.9.4", "17.10.1"),
        ("16.12.5", "17.1.1"),
    ],
)
def test_ordering(lower: str, higher: str) -> None:
    assert compare_versions(lower, higher) == -1
    assert compare_versions(higher, lower) == 1
    lo, hi = parse_version(lower), parse_version(higher)
    assert lo is not None and hi is not None
    assert lo < hi and hi > lo and lo != hi


@pytest.mark.parametrize("text", [None, "", "   ", "abc", "17", "version unknown"])
def test_unparsable_is_none(text: str | None) -> None:
    assert parse_version(text) is None


def test_compare_unparsable_raises() -> None:
    with pytest.raises(ValueError):
        compare_versions("garbage", "17.3.4")


def test_release_and_train() -> None:
    v = parse_version("17.03.06")
    assert v is not None
    assert v.release == (17, 3, 6)
    assert v.train == (17, 3)
    assert v.startswith((17, 3))
    assert not v.startswith((17, 30))


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("8.10.162.0", Platform.AIREOS),
        ("8.5.182.105", Platform.AIREOS),
        ("7.6.130.0", Platform.AIREOS),
        ("17.3.4", Platform.IOSXE),
        ("16.12.5", Platform.IOSXE),
        ("12.4.1", None),
        ("nonsense", None),
    ],
)
def test_infer_platform(text: str, platform: Platform | None) -> None:
    assert infer_platform(text) == platform


def test_apsp_file_name() -> None:
    apsp = parse_apsp("bootflash:C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin")
    assert apsp.csc_ids == ("CSCwe10047",)
    assert apsp.release == (17, 3, 6)
    assert apsp.number is None  # `.apsp.bin` is not a number


@pytest.mark.parametrize(("text", "number"), [("APSP7", 7), ("apsp 2", 2), ("APSP-05", 5), ("apsp_1", 1)])
def test_apsp_number(text: str, number: int) -> None:
    apsp = parse_apsp(text)
    assert apsp.number == number
    assert apsp.csc_ids == ()
    assert apsp.release is None


def test_csc_normalised() -> None:
    assert normalise_csc("cscwd83653") == "CSCwd83653"
    assert normalise_csc("CSCWD87305") == "CSCwd87305"
    assert normalise_csc("APSP7") is None
    assert parse_apsp("17.3.6 cscwd83653").csc_ids == ("CSCwd83653",)


def test_the_version_schemes_are_data_not_code() -> None:
    """A family's majors and significant parts come from the schemes given (the advisory's by default)."""
    acme = VersionScheme("acme", 10, 12, 2)
    assert infer_platform("11.4.7", [acme]) == "acme"
    assert infer_platform("11.4.7") is None  # no shipped family numbers its releases 10..12
    assert parse_version("11.4.7", "acme", [acme]) == parse_version("11.4")
    assert parse_version("11.4.7", schemes=[acme]) == parse_version("11.4")
    assert parse_version("17.10.01.0.161496", "iosxe") == parse_version("17.10.1")
