"""AireOS parsers over every AireOS capture in the corpus.

Values are cross-checked against the expected parses shipped with each
capture (ntc-templates `.yml`, genieparser `.py`, pyntc `.json`). Where such
an expected parse is itself wrong, the test says so and asserts the right value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.controllers.platforms.aireos import parsers as aireos
from bot.domain.models import ClockSource

CORPUS = Path(__file__).resolve().parents[3] / "fixtures" / "corpus"


def captures(subdir: str) -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in (CORPUS / subdir).glob("*.raw"))


def _blank_to_none(value: str) -> str | None:
    return value or None


# ---------------------------------------------------------------- show sysinfo


def test_sysinfo_matches_ntc_expected(corpus):
    rel = "aireos/show_sysinfo/ntc-templates_cisco_wlc_ssh_show_sysinfo.raw"
    info = aireos.parse_show_sysinfo(corpus.raw(rel))
    [expected] = corpus.yml(rel)
    assert info.product_version == expected["product_version"] == "7.4.110.0"
    assert info.system_name == expected["system_name"]
    assert info.ip_address == expected["ip_address"]
    assert info.model is None  # this release prints no model line
    assert info.fields["maximum_number_of_aps_supported"] == expected["maximum_aps"]


def test_sysinfo_pyntc_full_capture(corpus):
    info = aireos.parse_show_sysinfo(corpus.raw("aireos/show_sysinfo/pyntc_show_sysinfo_full.raw"))
    assert info.product_version == "8.2.110.0"
    assert info.system_name == "PYNTCHOST"
    assert info.product_name == "Cisco Controller"
    assert info.fields["wlc_mic_certificate_types"] == "SHA1/SHA2"


# ---------------------------------------------------------------- show time


def test_show_time_matches_ntc_expected(corpus):
    rel = "aireos/show_time/ntc-templates_cisco_wlc_ssh_show_time.raw"
    result = aireos.parse_show_time(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert result.clock.raw == expected[0]["time"]
    assert result.clock.time == datetime(2020, 12, 22, 11, 2, 42)
    assert result.clock.time.tzinfo is None  # AireOS prints local time
    assert result.timezone_delta == expected[0]["tz_delta"]
    assert result.timezone_location == f"({expected[0]['timezone']}) {expected[0]['tz_name']}"
    assert result.utc_offset == timedelta(hours=-5)
    assert result.ntp_version == int(expected[0]["ntp_version"])
    assert result.ntp_polling_interval == int(expected[0]["ntp_polling_interval"])
    assert [(s.index, s.key_index, s.address, s.status) for s in result.ntp_servers] == [
        (int(e["index"]), int(e["ntp_key_index"]), e["ntp_server"], e["status"]) for e in expected
    ]
    assert result.clock.source is ClockSource.NTP and result.clock.synced is True


def test_show_time_after_timeback_has_clock_and_no_ntp(corpus):
    result = aireos.parse_show_time(corpus.raw("technote/aireos_show_time_after_timeback.raw"))
    assert result.clock.time == datetime(2022, 12, 2, 0, 0, 2)
    assert result.ntp_servers == ()
    assert result.clock.source is ClockSource.MANUAL
    assert result.clock.looks_hand_set


# ---------------------------------------------------------------- show ap summary


@pytest.mark.parametrize("rel", captures("aireos/show_ap_summary"))
def test_ap_summary_matches_ntc_expected(corpus, rel):
    table = aireos.parse_show_ap_summary_table(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert [r.name for r in table.rows] == [e["ap_name"] for e in expected]
    assert [r.model for r in table.rows] == [e["ap_model"] for e in expected]
    assert [r.mac for r in table.rows] == [e["mac_address"] for e in expected]
    assert [r.slots for r in table.rows] == [int(e["slot"]) for e in expected]
    assert [r.country for r in table.rows] == [e["country"] for e in expected]
    assert [r.ip for r in table.rows] == [_blank_to_none(e["ip_address"]) for e in expected]
    assert all(r.state is None for r in table.rows)  # AireOS has no State column
    assert table.declared_count == len(table.rows) == 2
    assert table.unparsed_lines == ()


def test_ap_summary_aireos_8x_layout_extra_columns(corpus):
    rel = "aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw"
    table = aireos.parse_show_ap_summary_table(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert table.layout == "aireos-ip-clients"
    assert [r.location for r in table.rows] == [e["location"] for e in expected]
    assert [r.extra["clients"] for r in table.rows] == [e["clients"] for e in expected]
    assert [r.extra["dse_location"] for r in table.rows] == [e["dse_location"] for e in expected]


def test_ap_summary_2500_layout_location_with_space(corpus):
    """ntc-templates' own expected parse splits `default location` into
    location `default` / port `location  LAG`; the real columns are
    Location `default location`, Port `LAG`."""
    rel = "aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_2500.raw"
    table = aireos.parse_show_ap_summary_table(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert table.layout == "aireos-port-priority"
    assert [e["location"] for e in expected] == ["default", "default"]  # ntc's mistake
    assert [r.location for r in table.rows] == ["default location", "default location"]
    assert [r.extra["port"] for r in table.rows] == ["LAG", "LAG"]
    assert [r.extra["priority"] for r in table.rows] == [e["priority"] for e in expected]


def test_ap_summary_returns_access_points(corpus):
    aps = aireos.parse_show_ap_summary(
        corpus.raw("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw")
    )
    assert [(ap.name, ap.model, ap.ip) for ap in aps] == [
        ("2800-Default", "AIR-AP2802I-E-K9", "172.25.81.216"),
        ("2700-Server", "AIR-CAP2702E-E-K9", "172.25.81.221"),
    ]


# ---------------------------------------------------------------- show ap image all / status


def test_ap_image_all_matches_ntc_expected(corpus):
    rel = "aireos/show_ap_image_all/ntc-templates_cisco_wlc_ssh_show_ap_image_all.raw"
    report = aireos.parse_show_ap_image_all(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert [
        (
            e.name,
            e.primary_image,
            e.backup_image,
            e.predownload_status,
            e.predownload_version,
            e.next_retry_time,
        )
        for e in report.entries
    ] == [
        (
            x["ap_name"],
            x["primary_image"],
            x["backup_image"],
            x["predownload_status"],
            x["predownload_version"],
            x["next_retry_time"],
        )
        for x in expected
    ]
    assert all(x["retry_count"] == "NA" for x in expected)
    assert all(e.retry_count is None for e in report.entries)  # "NA" is not zero
    assert report.total_aps == 2
    assert report.downloading == 0
    assert report.counter("failed_to_predownload") == 0


def test_ap_image_all_pyntc_keeps_name_with_space(corpus):
    """ntc-templates' template silently drops `TEST 2` (AP_NAME is \\S+)."""
    rel = "aireos/show_ap_image_all/pyntc_show_ap_image_all.raw"
    report = aireos.parse_show_ap_image_all(corpus.raw(rel))
    boot_options = corpus.json("aireos/show_ap_image_all/pyntc_show_ap_image_all_boot_options.expected.json")
    stats = corpus.json("aireos/show_ap_image_all/pyntc_show_ap_image_all_image_stats.expected.json")
    assert {
        e.name: (e.primary_image, e.backup_image, (e.predownload_status or "").lower()) for e in report.entries
    } == {name: (v["primary"], v["backup"], v["status"]) for name, v in boot_options.items()}
    assert report.total_aps == stats["count"]
    assert report.counter("completed_predownloading") == stats["downloaded"]
    assert report.counter("not_supported") == stats["unsupported"]
    assert report.counter("failed_to_predownload") == stats["failed"]
    assert report.downloading is None  # this release prints no Downloading counter


def test_ap_image_all_technote_downloading(corpus):
    report = aireos.parse_show_ap_image_all(corpus.raw("technote/aireos_8.5_show_ap_image_all.raw"))
    assert report.total_aps == 1
    assert report.downloading == 1
    [entry] = report.entries
    assert (entry.name, entry.primary_image, entry.backup_image) == ("AP1700", "8.5.182.0", "0.0.0.0")
    assert entry.predownload_status == "None"
    assert entry.retry_count is None


def test_ap_image_status_technote(corpus):
    report = aireos.parse_show_ap_image_status(corpus.raw("technote/aireos_8.10_show_ap_image_status.raw"))
    assert report.total_aps is None  # printed as a placeholder "X"
    assert report.counters["total_number_of_aps"] == "X"
    assert report.downloading == 1
    [entry] = report.entries
    assert (entry.name, entry.primary_image, entry.download_status) == ("CAP3702E.4CD4", "17.3.6.76", "Downloading")
    [ap] = report.access_points
    assert ap.is_downloading and ap.image_version == "17.3.6.76"


# ---------------------------------------------------------------- show ap config general


def test_ap_config_general_matches_ntc_expected(corpus):
    rel = "aireos/show_ap_config_general/ntc-templates_cisco_wlc_ssh_show_ap_config_general.raw"
    ap = aireos.parse_show_ap_config_general(corpus.raw(rel))
    [expected] = corpus.yml(rel)
    assert ap.name == expected["name"]
    assert ap.model == expected["model"]
    assert ap.state == expected["operation_state"]
    assert ap.ip == expected["ip_address"]
    assert ap.mac == expected["mac_address"]
    # S/W Version is the AP software; ntc's `version` is the IOS version line.
    assert ap.image_version == "8.2.164.0"
    assert expected["version"] == "15.3(3)JC9$"


# ---------------------------------------------------------------- show boot


@pytest.mark.parametrize("rel", captures("aireos/show_boot"))
def test_show_boot_all_captures(corpus, rel):
    boot = aireos.parse_show_boot(corpus.raw(rel))
    assert boot.primary is not None and boot.backup is not None
    assert boot.active in {boot.primary, boot.backup}
    if rel.startswith("aireos/show_boot/genieparser"):
        expected = corpus.genie(rel)
        assert boot.primary == expected["primary_boot_image"]["version_num"]
        assert boot.backup == expected["backup_boot_image"]["version_num"]
        active_slot = "primary_boot_image" if expected["primary_boot_image"].get("status") else "backup_boot_image"
        assert boot.active == expected[active_slot]["version_num"]
    elif rel.startswith("aireos/show_boot/ntc"):
        expected = corpus.yml(rel)
        assert [(i.version, i.is_active, i.is_default) for i in boot.images] == [
            (e["image_version"], "active" in e["image_status"], "default" in e["image_status"]) for e in expected
        ]


def test_show_boot_pyntc_variants(corpus):
    backup = aireos.parse_show_boot(corpus.raw("aireos/show_boot/pyntc_show_boot_backup.raw"))
    assert (backup.active, backup.default) == ("8.5.110.0", "8.2.170.0")
    no_default = aireos.parse_show_boot(corpus.raw("aireos/show_boot/pyntc_show_boot_no_default.raw"))
    assert no_default.default is None and no_default.active == "8.5.110.0"


# ---------------------------------------------------------------- show redundancy summary


@pytest.mark.parametrize("rel", captures("aireos/show_redundancy_summary"))
def test_redundancy_summary_all_captures(corpus, rel):
    summary = aireos.parse_show_redundancy_summary(corpus.raw(rel))
    if "ntc-templates" in rel:
        [expected] = corpus.yml(rel)
        assert summary.mode == expected["redundancy_mode"]
        assert summary.local_state == expected["local_state"]
        assert summary.peer_state == expected["peer_state"]
        assert summary.unit == expected["unit"]
        assert summary.redundancy_state == expected["redundancy_state"]
    expected_local = {
        "pyntc_show_redundancy_summary_standby.raw": "STANDBY HOT",
        "pyntc_show_redundancy_summary_standalone.raw": "ACTIVE",
        "pyntc_show_redundancy_summary_sso_enabled.raw": "ACTIVE",
    }.get(Path(rel).name)
    if expected_local:
        assert summary.local_state == expected_local
    assert summary.is_standby == (summary.local_state == "STANDBY HOT")


def test_redundancy_standalone_mode(corpus):
    summary = aireos.parse_show_redundancy_summary(
        corpus.raw("aireos/show_redundancy_summary/pyntc_show_redundancy_summary_standalone.raw")
    )
    assert summary.mode == "SSO DISABLED"
    assert summary.fields["link_encryption"] == "Enabled"
