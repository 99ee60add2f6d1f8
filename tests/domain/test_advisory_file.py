"""The advisory data file: its schema, cross-checks and loader (`bot.domain.advisory_file`)."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.advisory_data import ModelCategory
from bot.domain.advisory_file import AdvisoryDataError, load_advisory, parse_advisory
from bot.domain.timeback import timeback_target

L = ModelCategory.LIKELY_AFFECTED
SHA1_EXPIRY = datetime(2022, 12, 4, 21, 37, 36, tzinfo=UTC)
DEFAULT_TARGET = datetime(2022, 12, 2, tzinfo=UTC)
DATA_FILE = Path(__file__).resolve().parents[2] / "bot" / "domain" / "data" / "advisory.yaml"


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
        "import sys, bot.domain.advisory_data, bot.domain.advisory_file, bot.domain.ap_models,"
        " bot.domain.software_fix, bot.domain.timeback, bot.domain.jsonable, bot.domain.verdict,"
        " bot.domain.versions;"
        "bad = [m for m in ('slack_bolt', 'scrapli', 'sqlite3', 'sqlite_utils', 'aiohttp', 'asyncssh')"
        " if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=DATA_FILE.parents[3]
    )
    assert out.stdout.strip() == ""


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
