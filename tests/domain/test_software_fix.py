"""The software fix verdict and the recommended release (`bot.domain.software_fix`)."""

from __future__ import annotations

import pytest

from bot.domain.advisory_data import ModelCategory
from bot.domain.ap_models import classify_model
from bot.domain.models import Platform
from bot.domain.software_fix import FixState, is_fixed, recommended_release, software_fix

A = ModelCategory.AFFECTED


# ---------------------------------------------------------------------------
# fixed software
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "state", "row"),
    [
        # AireOS 8.10: 8.10.183.0 and later
        ("8.10.182.0", FixState.NOT_FIXED, "aireos-8.10"),
        ("8.10.162.0", FixState.NOT_FIXED, "aireos-8.10"),
        ("8.10.183.0", FixState.FIXED, "aireos-8.10"),
        ("8.10.185.0", FixState.FIXED, "aireos-8.10"),
        # AireOS 8.5 mainline: 8.5.182.7 special
        ("8.5.182.6", FixState.NOT_FIXED, "aireos-8.5-mainline"),
        ("8.5.182.0", FixState.NOT_FIXED, "aireos-8.5-mainline"),
        ("8.5.182.7", FixState.FIXED, "aireos-8.5-mainline"),
        ("8.5.182.13", FixState.FIXED, "aireos-8.5-mainline"),
        ("8.5.171.0", FixState.NOT_FIXED, "aireos-8.5-mainline"),
        # AireOS 8.5 IRCM: 8.5.182.105 special
        ("8.5.182.104", FixState.NOT_FIXED, "aireos-8.5-ircm"),
        ("8.5.182.105", FixState.FIXED, "aireos-8.5-ircm"),
        ("8.5.182.111", FixState.FIXED, "aireos-8.5-ircm"),
        # trains without a row
        ("8.8.130.0", FixState.NOT_FIXED, None),
        ("8.3.150.0", FixState.NOT_FIXED, None),
    ],
)
def test_aireos_rows(version: str, state: FixState, row: str | None) -> None:
    fix = software_fix(Platform.AIREOS, version)
    assert fix.state is state, fix.reason
    assert fix.row_id == row


@pytest.mark.parametrize(
    ("version", "apsps", "state"),
    [
        ("17.3.6", [], FixState.NOT_FIXED),
        ("17.3.6", ["APSP1"], FixState.NOT_FIXED),  # just below the first APSP with the fix
        ("17.3.6", ["APSP2"], FixState.FIXED),  # "also in APSP2"
        ("17.3.6", ["APSP5"], FixState.FIXED),
        ("17.3.6", ["APSP7"], FixState.FIXED),  # the one the notice names
        ("17.3.6", ["APSP8"], FixState.FIXED),  # cumulative
        ("17.03.06", ["CSCwd83653"], FixState.FIXED),  # by CSC id
        ("17.03.06", ["bootflash:C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin"], FixState.FIXED),
        ("17.3.6", ["C9800-universalk9_wlc.17.03.06.CSCwz99999.SPA.apsp.bin"], FixState.NOT_FIXED),
        # an APSP file built for another release does nothing here
        ("17.3.6", ["C9800-universalk9_wlc.17.03.05.CSCwe10047.SPA.apsp.bin"], FixState.NOT_FIXED),
        ("17.3.5", ["APSP7"], FixState.NOT_FIXED),  # below the release
        ("17.3.4", [], FixState.NOT_FIXED),
        ("17.3.7", [], FixState.NOT_FIXED),  # above: no fix listed, not invented
        # 17.6.4 APSP1 (CSCwd87305): IW3702 only
        ("17.6.4", [], FixState.NOT_FIXED),
        ("17.6.4", ["APSP1"], FixState.PARTIAL),
        ("17.06.04", ["C9800-universalk9_wlc.17.06.04.CSCwd87305.SPA.apsp.bin"], FixState.PARTIAL),
        ("17.6.3", ["APSP1"], FixState.NOT_FIXED),
        ("17.6.5", [], FixState.NOT_FIXED),
        # 17.9.2 APSP1 (CSCwd87612): IW3702 only
        ("17.9.2", [], FixState.NOT_FIXED),
        ("17.9.2", ["CSCwd87612"], FixState.PARTIAL),
        ("17.9.2", ["CSCwd87305"], FixState.NOT_FIXED),  # the 17.6 fix's id is not this one
        ("17.9.1", ["APSP1"], FixState.NOT_FIXED),
        # trains without a row
        ("16.12.5", [], FixState.NOT_FIXED),
        ("17.12.1", [], FixState.NOT_FIXED),
    ],
)
def test_iosxe_rows(version: str, apsps: list[str], state: FixState) -> None:
    fix = software_fix(Platform.IOSXE, version, apsps)
    assert fix.state is state, fix.reason


def test_partial_fix_is_per_model() -> None:
    fix = software_fix("iosxe", "17.6.4", ["APSP1"])
    assert fix.fixed_families == ("iw3702",)
    assert fix.protects(classify_model("IW3702-2E-UXK9")) is True
    assert fix.protects(classify_model("AIR-CAP3702I-E-K9")) is False
    assert fix.protects(classify_model("C9120AXI-E")) is True  # not affected at all
    assert fix.protects(classify_model("NOPE")) is None


def test_is_fixed() -> None:
    assert is_fixed("17.6.4", ["APSP1"], "IW3702-2E-UXK9") is True
    assert is_fixed("17.6.4", ["APSP1"], "AIR-CAP3702I-E-K9") is False
    assert is_fixed("17.9.2", ["CSCwd87612"], "IW3702-2E-UXK9") is True
    assert is_fixed("17.9.2", [], "IW3702-2E-UXK9") is False
    assert is_fixed("17.3.6", ["APSP7"], "AIR-CAP3702I-E-K9") is True
    assert is_fixed("8.10.183.0", [], "AIR-CAP3702I-E-K9") is True  # platform inferred
    assert is_fixed("8.10.162.0", [], "AIR-LAP1142N-A-K9") is False
    assert is_fixed("8.10.162.0", [], "C9120AXI-E") is True
    assert is_fixed("8.10.162.0", [], "mystery") is None
    assert is_fixed(None, [], "AIR-CAP3702I-E-K9") is None
    assert is_fixed("8.10.183.0", [], "AIR-CAP3702I-E-K9", platform=Platform.AIREOS) is True


def test_unrecognized_apsps_are_kept() -> None:
    fix = software_fix("iosxe", "17.3.6", ["C9800-universalk9_wlc.17.03.06.CSCwz99999.SPA.apsp.bin"])
    assert fix.unrecognized_apsps == ("C9800-universalk9_wlc.17.03.06.CSCwz99999.SPA.apsp.bin",)
    assert "add its CSC id" in fix.reason
    fixed = software_fix("iosxe", "17.3.6", ["APSP7"])
    assert fixed.matched_apsp == "APSP7"


@pytest.mark.parametrize(
    ("platform", "version"),
    [
        (Platform.IOSXE, None),
        (Platform.AIREOS, "garbage"),
        (Platform.IOSXE, "8.10.183.0"),  # an AireOS number on a 9800 is a data error
        (Platform.AIREOS, "17.3.6"),
        (None, "12.4.1"),
    ],
)
def test_unknown_version(platform: Platform | None, version: str | None) -> None:
    fix = software_fix(platform, version)
    assert fix.state is FixState.UNKNOWN
    assert fix.protects(classify_model("AIR-CAP3702I-E-K9")) is None
    assert recommended_release(platform, version).fix_state is FixState.UNKNOWN


# ---------------------------------------------------------------------------
# recommended release
# ---------------------------------------------------------------------------

NO_FIX_IOSXE = "no fixed release listed; use time-back (workaround) and plan an upgrade to a fixed release"


def test_recommendations() -> None:
    assert str(recommended_release("aireos", "8.10.162.0")) == "AireOS 8.10.183.0 or later"
    assert "no upgrade needed" in recommended_release("aireos", "8.10.183.0").text
    assert "8.5.182.7" in recommended_release("aireos", "8.5.171.0").text
    assert "8.5.182.105" in recommended_release("aireos", "8.5.182.104").text
    assert "8.10.183.0" in recommended_release("aireos", "8.8.130.0").text
    r = recommended_release("iosxe", "17.3.4")
    assert "17.3.6" in r.text and "APSP7" in r.text and r.row_id == "iosxe-17.3.6-apsp"
    assert recommended_release("iosxe", "17.3.6").text.startswith("install APSP7 (CSCwd83653 / CSCwe10047)")
    assert "no upgrade needed" in recommended_release("iosxe", "17.3.6", ["APSP7"]).text
    partial = recommended_release("iosxe", "17.6.4", ["APSP1"])
    assert partial.fix_state is FixState.PARTIAL and "IW3702 only" in partial.text
    for version in ("16.12.5", "17.12.1", "17.3.7"):
        rec = recommended_release("iosxe", version)
        assert rec.text.startswith(NO_FIX_IOSXE), version
        assert rec.reason
    assert "check Cisco's release notes" in recommended_release("iosxe", "17.3.7").reason


def test_a_family_the_advisory_has_no_data_for_is_unknown_never_another_familys() -> None:
    fix = software_fix("acme", "17.9.4")
    assert fix.state is FixState.UNKNOWN
    assert fix.reason == "the advisory has no data for platform 'acme'; cannot tell whether it has the fix"
    assert recommended_release("acme", "17.9.4").fix_state is FixState.UNKNOWN
