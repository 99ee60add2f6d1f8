"""The advisory: model classification, fixed releases, time-back targets."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.advisory import (
    AdvisoryDataError,
    FixState,
    ModelCategory,
    classify_model,
    is_fixed,
    load_advisory,
    parse_advisory,
    recommended_release,
    software_fix,
    timeback_target,
)
from bot.domain.models import CertificateWindow, Platform

A = ModelCategory.AFFECTED
L = ModelCategory.LIKELY_AFFECTED
N = ModelCategory.NOT_AFFECTED
U = ModelCategory.UNKNOWN

SHA1_EXPIRY = datetime(2022, 12, 4, 21, 37, 36, tzinfo=UTC)
DEFAULT_TARGET = datetime(2022, 12, 2, tzinfo=UTC)
DATA_FILE = Path(__file__).resolve().parents[2] / "bot" / "domain" / "data" / "advisory.yaml"

# ---------------------------------------------------------------------------
# model classification
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "category", "family"),
    [
        # full PIDs from the brief / domain reference
        ("AIR-CAP3702I-E-K9", A, "ap3700"),
        ("AIR-LAP1142N-A-K9", L, "ap1140"),
        ("AIR-AP1852I-E-K9", N, "ap1800"),
        ("C9120AXI-E", N, "c91xx"),
        ("IW3702-2E-UXK9", A, "iw3702"),
        ("AIR-CAP1532I-E-K9", A, "ap1530"),
        ("AIR-AP1562E", N, "ap1560"),
        ("C9130AXI-B", N, "c91xx"),
        ("CW9166I-B", N, "cw91xx"),
        ("AIR-CAP702W", A, "ap700"),
        ("AIR-AP802GN", A, "ap802"),
        ("AP803", A, "ap803"),
        # short 9800 names
        ("3702I", A, "ap3700"),
        ("2702E", A, "ap2700"),
        ("9130AXI", N, "c91xx"),
        ("1852I", N, "ap1800"),
        ("1702I", A, "ap1700"),
        # seen in the corpus captures
        ("AIR-CAP2602I-A-K9", A, "ap2600"),
        ("AIR-AP3802I-B-K9", N, "ap3800"),
        ("AIR-AP2802I-E-K9", N, "ap2800"),
        ("AIR-AP4800-B-K9", N, "ap4800"),
        ("AIR-AP1815I-A-K9", N, "ap1800"),
        ("C9124AXE-B", N, "c91xx"),
        ("3802I", N, "ap3800"),
        ("9120AXI", N, "c91xx"),
        ("AIR-CAP2702E-E-K9", A, "ap2700"),
        # the rest of the named families
        ("AIR-CAP1572EAC-B-K9", A, "ap1570"),
        ("AIR-CAP1552E-A-K9", A, "ap1550"),
        ("AIR-CAP3602I-A-K9", A, "ap3600"),
        ("AIR-CAP1602I-E-K9", A, "ap1600"),
        ("AIR-CAP3502I-A-K9", A, "ap3500"),
        ("AIR-AP1542I-B-K9", N, "ap1540"),
        ("AIR-AP1832I-E-K9", N, "ap1800"),
        # likely affected: older lightweight IOS
        ("AIR-LAP1142N-E-K9", L, "ap1140"),
        ("AIR-LAP1041N-E-K9", L, "ap1040"),
        ("AIR-LAP1262N-A-K9", L, "ap1260"),
        ("AIR-LAP1252AG-E-K9", L, "ap1250"),
        # tolerant of case and whitespace
        ("air-cap3702i-e-k9", A, "ap3700"),
        ("  3702I  ", A, "ap3700"),
    ],
)
def test_classify_model(model: str, category: ModelCategory, family: str) -> None:
    result = classify_model(model)
    assert result.category is category, result.reason
    assert result.family_id == family
    assert result.model == model
    assert result.reason


@pytest.mark.parametrize(
    "model",
    [
        None,
        "",
        "   ",
        "AIR-CT3504-K9",
        "AIR-OEAP602I-A-K9",
        "IW-6300H-AC-B-K9",
        "C9800-CL",
        "hello",
        "ESW6300",
    ],
)
def test_unknown_models_are_reported_not_guessed(model: str | None) -> None:
    result = classify_model(model)
    assert result.category is U
    assert result.family_id is None
    assert not result.at_risk
    if model and model.strip():
        assert repr(model) in result.reason  # the string is shown, not swallowed


def test_iw3702_is_its_own_family_not_3700() -> None:
    # the 17.6.4 / 17.9.2 APSPs fix IW3702 only, so the two must never merge
    assert classify_model("IW3702-2E-UXK9").family_id == "iw3702"
    assert classify_model("AIR-CAP3702I-E-K9").family_id == "ap3700"


def test_reasons_say_why() -> None:
    assert "not named" in classify_model("AIR-LAP1142N-A-K9").reason
    assert "AP-COS" in classify_model("AIR-AP1852I-E-K9").reason
    assert "affected" in classify_model("AIR-CAP3702I-E-K9").reason
    assert classify_model("AIR-CAP3702I-E-K9").at_risk
    assert classify_model("AIR-LAP1142N-A-K9").at_risk
    assert not classify_model("C9120AXI-E").at_risk


# ---------------------------------------------------------------------------
# data file
# ---------------------------------------------------------------------------


def test_data_file_basics() -> None:
    adv = load_advisory()
    assert adv is load_advisory()  # cached
    assert adv.image_cert_expiry == SHA1_EXPIRY  # the earlier of SHA-1 / SHA-2
    assert adv.image_cert_expiries["sha2"] == datetime(2022, 12, 4, 21, 43, 46, tzinfo=UTC)
    assert adv.timeback.default_target == DEFAULT_TARGET
    assert adv.image_cert_serial == "4E78A210000000000007"
    assert {r.id for r in adv.fixed_releases} == {
        "aireos-8.10",
        "aireos-8.5-mainline",
        "aireos-8.5-ircm",
        "iosxe-17.3.6-apsp",
        "iosxe-17.6.4-apsp",
        "iosxe-17.9.2-apsp",
    }
    assert all(r.source == "domain-reference" for r in adv.fixed_releases)
    assert all(f.source == "derived" for f in adv.families if f.category is L)


def _raw() -> dict[str, Any]:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def test_parse_advisory_accepts_the_file() -> None:
    assert len(parse_advisory(_raw()).families) == len(load_advisory().families)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["families"][0].update(category="maybe"), "families[0]"),
        (lambda d: d["families"][0].update(match="(unclosed"), "families[0]"),
        (lambda d: d["fixed_releases"][0].pop("fixed_from"), "fixed_from"),
        (lambda d: d["fixed_releases"][4].update(fixes=["nosuchfamily"]), "unknown families"),
        (lambda d: d["fixed_releases"][0].update(fixed_from="8.9.1.0"), "outside its own train"),
        (lambda d: d["timeback"].update(default_target="2022-12-05T00:00:00Z"), "not before"),
        (lambda d: d["fixed_releases"][3]["apsp"].update(csc_ids=["APSP7"]), "CSC id"),
        (lambda d: d["no_fix_listed"].pop("iosxe"), "no_fix_listed"),
        (lambda d: d["no_fix_listed"].update(nokia="x"), "no_fix_listed: platform 'nokia' is not one of aireos, iosxe"),
        (lambda d: d["fixed_releases"][0].update(platform="nokia"), "platform 'nokia' is not one of aireos, iosxe"),
        (lambda d: d["platforms"]["aireos"].update(significant_parts=0), "platforms.aireos.significant_parts"),
        (lambda d: d["platforms"]["iosxe"].pop("majors"), "majors"),
        (lambda d: d["platforms"]["iosxe"]["majors"].update(first=8), "platforms.iosxe.majors overlap aireos's"),
        (lambda d: d["platforms"]["aireos"]["majors"].update(last=2), "platforms.aireos.majors: last is before first"),
        (lambda d: d.update(model_key_pattern="^(?P<number>\\d+)"), "named groups"),
    ],
)
def test_parse_advisory_rejects_bad_data(mutate: Any, message: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(data)
    with pytest.raises(AdvisoryDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_advisory(data)


def test_load_advisory_from_other_path(tmp_path: Path) -> None:
    data = _raw()
    data["timeback"]["default_target"] = "2022-12-01T00:00:00Z"
    path = tmp_path / "advisory.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    adv = load_advisory(path)
    assert adv.timeback.default_target == datetime(2022, 12, 1, tzinfo=UTC)
    assert timeback_target(None, advisory=adv).target == datetime(2022, 12, 1, tzinfo=UTC)


def test_domain_modules_stay_pure() -> None:
    code = (
        "import sys, bot.domain.advisory, bot.domain.verdict, bot.domain.versions;"
        "bad = [m for m in ('slack_bolt', 'scrapli', 'sqlite3', 'sqlite_utils', 'aiohttp', 'asyncssh')"
        " if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=DATA_FILE.parents[3]
    )
    assert out.stdout.strip() == ""


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


# ---------------------------------------------------------------------------
# time-back
# ---------------------------------------------------------------------------


def cert(not_before: datetime, years: int = 20) -> CertificateWindow:
    return CertificateWindow(not_before=not_before, not_after=not_before + timedelta(days=365 * years))


def test_timeback_unknown_certificate_uses_default_with_warning() -> None:
    plan = timeback_target(None)
    assert plan.possible
    assert plan.target == DEFAULT_TARGET
    assert not plan.certificate_known
    assert any("could not be read" in w for w in plan.warnings)


def test_timeback_default_when_safe() -> None:
    plan = timeback_target(cert(datetime(2019, 3, 1, tzinfo=UTC)))
    assert plan.possible and plan.target == DEFAULT_TARGET
    assert plan.chosen_by == "default"
    assert plan.window == SHA1_EXPIRY - DEFAULT_TARGET
    assert plan.image_cert_expiry == SHA1_EXPIRY
    assert plan.warnings == ()


def test_timeback_default_needs_a_day_margin() -> None:
    nb = datetime(2022, 12, 1, 12, 0, tzinfo=UTC)  # only 12 h before the default
    plan = timeback_target(cert(nb))
    assert plan.target == nb + timedelta(days=1)
    assert plan.chosen_by == "after_certificate"


@pytest.mark.parametrize(
    ("not_before", "target"),
    [
        (datetime(2022, 12, 3, tzinfo=UTC), datetime(2022, 12, 4, tzinfo=UTC)),  # +1 day fits
        (datetime(2022, 12, 4, 10, tzinfo=UTC), datetime(2022, 12, 4, 11, tzinfo=UTC)),  # only +1 h fits
    ],
)
def test_timeback_after_late_certificate(not_before: datetime, target: datetime) -> None:
    plan = timeback_target(cert(not_before))
    assert plan.possible
    assert plan.target == target
    assert not_before < plan.target < SHA1_EXPIRY
    assert plan.target <= SHA1_EXPIRY - timedelta(hours=2)


def test_timeback_narrow_margin_warns() -> None:
    plan = timeback_target(cert(datetime(2022, 12, 4, 10, tzinfo=UTC)))
    assert any("time zone" in w for w in plan.warnings)


@pytest.mark.parametrize(
    "not_before",
    [
        datetime(2022, 12, 4, 19, 0, tzinfo=UTC),  # +1 h leaves less than the download window
        datetime(2022, 12, 4, 21, 40, tzinfo=UTC),  # after the expiry
        datetime(2023, 1, 10, tzinfo=UTC),  # a virtual WLC built in 2023
    ],
)
def test_timeback_impossible_needs_staging(not_before: datetime) -> None:
    plan = timeback_target(cert(not_before))
    assert not plan.possible
    assert plan.target is None
    assert plan.needs_staging_controller
    assert "staging controller" in plan.reason
    assert "impossible" in plan.reason


def test_timeback_naive_certificate_read_as_utc() -> None:
    plan = timeback_target(cert(datetime(2019, 3, 1)))
    assert plan.target == DEFAULT_TARGET
    assert any("no time zone" in w for w in plan.warnings)


def test_timeback_preferred() -> None:
    c = cert(datetime(2019, 3, 1, tzinfo=UTC))
    wanted = datetime(2022, 12, 3, 8, tzinfo=UTC)
    assert timeback_target(c, preferred=wanted).target == wanted
    assert timeback_target(c, preferred=wanted).chosen_by == "preferred"
    # before the certificate start: ignored
    late = cert(datetime(2022, 12, 3, tzinfo=UTC))
    plan = timeback_target(late, preferred=datetime(2022, 12, 2, tzinfo=UTC))
    assert plan.target == datetime(2022, 12, 4, tzinfo=UTC)
    assert any("not safe" in w for w in plan.warnings)
    # too close to the expiry: ignored
    plan = timeback_target(c, preferred=datetime(2022, 12, 4, 21, tzinfo=UTC))
    assert plan.target == DEFAULT_TARGET
    plan = timeback_target(None, preferred=datetime(2022, 12, 4, 21, tzinfo=UTC))
    assert plan.target == DEFAULT_TARGET


def test_timeback_expired_controller_certificate_noted() -> None:
    old = CertificateWindow(not_before=datetime(2010, 1, 1, tzinfo=UTC), not_after=datetime(2020, 1, 1, tzinfo=UTC))
    plan = timeback_target(old)
    assert plan.target == DEFAULT_TARGET
    assert any("expired" in w for w in plan.warnings)


def test_timeback_plan_to_dict() -> None:
    data = timeback_target(None).to_dict()
    assert data["target"] == "2022-12-02T00:00:00+00:00"
    assert data["window"] == (SHA1_EXPIRY - DEFAULT_TARGET).total_seconds()


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2024, 1, 1), timezones=st.just(UTC)))
def test_timeback_always_safe_or_impossible(not_before: datetime) -> None:
    plan = timeback_target(cert(not_before))
    latest = SHA1_EXPIRY - timedelta(hours=2)
    if plan.possible:
        assert plan.target is not None
        assert plan.target >= not_before + timedelta(hours=1)
        assert plan.target <= latest
        if not_before + timedelta(days=1) <= DEFAULT_TARGET:
            assert plan.target == DEFAULT_TARGET
    else:
        assert not_before + timedelta(hours=1) > latest
        assert plan.needs_staging_controller


def test_the_platforms_section_holds_each_familys_facts() -> None:
    adv = load_advisory()
    assert sorted(adv.platforms) == ["aireos", "iosxe"]
    aireos, iosxe = adv.platforms["aireos"], adv.platforms["iosxe"]
    assert (aireos.scheme.first_major, aireos.scheme.last_major, aireos.scheme.significant_parts) == (3, 8, 4)
    assert (iosxe.scheme.first_major, iosxe.scheme.last_major, iosxe.scheme.significant_parts) == (16, None, 3)
    assert aireos.ntp_listed_with_clock and not iosxe.ntp_listed_with_clock
    assert aireos.upgrade_advice_when_downloading == (
        "on AireOS set the clock back first: APs in Downloading need the time-back before the upgrade too"
    )
    assert iosxe.upgrade_advice_when_downloading is None


def test_a_family_the_advisory_has_no_data_for_is_unknown_never_another_familys() -> None:
    fix = software_fix("acme", "17.9.4")
    assert fix.state is FixState.UNKNOWN
    assert fix.reason == "the advisory has no data for platform 'acme'; cannot tell whether it has the fix"
    assert recommended_release("acme", "17.9.4").fix_state is FixState.UNKNOWN
