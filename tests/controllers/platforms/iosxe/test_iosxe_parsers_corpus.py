"""IOS-XE / Catalyst 9800 parsers over every relevant capture in the corpus,
cross-checked against the expected parses shipped beside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.controllers.parsers.dates import parse_ios_datetime
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.domain.models import ClockSource

CORPUS = Path(__file__).resolve().parents[3] / "fixtures" / "corpus"


def captures(subdir: str) -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in (CORPUS / subdir).glob("*.raw"))


# ---------------------------------------------------------------- show version


def test_show_version_c9800_matches_genie(corpus):
    rel = "c9800/show_version/genieparser_ShowVersion_golden_output_c9800.raw"
    version = iosxe.parse_show_version(corpus.raw(rel))
    expected = corpus.genie(rel)["version"]
    assert version.raw == expected["xe_version"] == "17.07.01prd16"
    assert version.version == expected["version"] == "17.7.1prd16"
    assert version.base == "17.7.1"
    assert version.numeric == (17, 7, 1)
    assert version.hostname == expected["hostname"]
    assert version.model == expected["chassis"]
    assert version.serial == expected["chassis_sn"]
    assert version.system_image == expected["system_image"]


@pytest.mark.parametrize("rel", captures("ios_iosxe/show_version"))
def test_show_version_matches_ntc_expected(corpus, rel):
    version = iosxe.parse_show_version(corpus.raw(rel))
    [expected] = corpus.yml(rel)
    if "special_build" in rel:
        # ntc reads the IOS line's 16.9.5; `raw` is what the XE line printed
        # (a build name) and the release comes from the IOS line.
        assert (version.raw, version.release) == ("V169_5_SR689355441_2", expected["version"])
    else:
        assert version.raw == expected["version"]
    assert version.hostname == expected["hostname"]
    assert version.serial == expected["serial"][0]
    assert version.model == expected["hardware"][0]
    assert version.system_image is not None and version.system_image.endswith(expected["running_image"])


def test_show_version_normalises_leading_zeros(corpus):
    version = iosxe.parse_show_version(corpus.raw("ios_iosxe/show_version/ntc-templates_cisco_ios_show_version1.raw"))
    assert (version.raw, version.version, version.base) == ("03.06.05E", "3.6.5E", "3.6.5")


def test_show_version_special_build_uses_numeric_line(corpus):
    """The XE line names a build (`V169_5_SR...`); the IOS line has 16.9.5."""
    version = iosxe.parse_show_version(
        corpus.raw("ios_iosxe/show_version/ntc-templates_cisco_ios_show_version_special_build.raw")
    )
    assert version.version == version.release == "16.9.5"
    assert version.raw == "V169_5_SR689355441_2"


# ---------------------------------------------------------------- show install summary


@pytest.mark.parametrize("rel", [r for r in captures("ios_iosxe/show_install_summary") if "genieparser" in r])
def test_install_summary_matches_genie(corpus, rel):
    summary = iosxe.parse_show_install_summary(corpus.raw(rel))
    expected = corpus.genie(rel)["location"]
    expected_rows = sorted(
        (location, pkg["type"], pkg["state"], pkg["filename_version"])
        for location, block in expected.items()
        for pkg in block["pkg_state"].values()
    )
    assert sorted((p.location, p.type, p.state, p.filename) for p in summary.packages) == expected_rows
    timers = {block["auto_abort_timer"] for block in expected.values() if "auto_abort_timer" in block}
    if timers:
        assert summary.auto_abort_timer is not None
        assert any(summary.auto_abort_timer.startswith(t) for t in timers)
    else:
        assert summary.auto_abort_timer is None
    assert summary.apsps == ()


def test_install_summary_genielibs_smu_is_not_an_apsp(corpus):
    summary = iosxe.parse_show_install_summary(
        corpus.raw("ios_iosxe/show_install_summary/genielibs_verify_install_state_cat9300stack.raw")
    )
    assert [p.type for p in summary.packages] == ["IMG", "SMU"]
    assert summary.packages[0].location == "Switch 1 2 3"
    assert summary.apsps == () and summary.csc_ids == ()


def test_install_summary_genielibs_cat9400(corpus):
    summary = iosxe.parse_show_install_summary(
        corpus.raw("ios_iosxe/show_install_summary/genielibs_get_install_version_cat9400.raw")
    )
    [pkg] = summary.packages
    assert (pkg.type, pkg.state, pkg.filename, pkg.location) == ("IMG", "C", "17.10.01.0.161496", "R0 R1")
    assert pkg.is_active


# ---------------------------------------------------------------- show clock


@pytest.mark.parametrize("rel", captures("ios_iosxe/show_clock"))
def test_show_clock_all_captures(corpus, rel):
    reading = iosxe.parse_show_clock(corpus.raw(rel))
    if (CORPUS / rel).with_suffix(".py").exists():
        expected = corpus.genie(rel)
        fields = (expected["time"], expected["timezone"], expected["month"], expected["day"], expected["year"])
    elif (CORPUS / rel).with_suffix(".yml").exists():
        [exp] = corpus.yml(rel)
        fields = (exp["time"], exp["timezone"], exp["month"], exp["day"], exp["year"])
    else:
        fields = ("10:22:10.625", "UTC", "May", "23", "2024")  # genielibs, no expected file
    time_text, zone, month, day, year = fields
    parsed = parse_ios_datetime(f"{time_text} {zone} {month} {day} {year}")
    assert parsed is not None
    assert reading.time == parsed[0]
    assert reading.timezone == zone
    marker = reading.raw[:1] if reading.raw[:1] in "*." else ""
    assert {
        "*": (ClockSource.MANUAL, False, False),
        ".": (ClockSource.UNKNOWN, True, False),
        "": (ClockSource.NTP, True, True),
    }[marker] == (reading.source, reading.authoritative, reading.synced)


def test_show_clock_markers_and_zones(corpus):
    star = iosxe.parse_show_clock(corpus.raw("ios_iosxe/show_clock/genieparser_ShowClock_golden_output1.raw"))
    assert star.source is ClockSource.MANUAL and star.looks_hand_set
    assert star.time == datetime(2025, 8, 7, 4, 45, 0, 857000, tzinfo=UTC)
    dot = iosxe.parse_show_clock(corpus.raw("ios_iosxe/show_clock/genieparser_ShowClock_golden_output2.raw"))
    assert (dot.authoritative, dot.synced, dot.looks_hand_set) == (True, False, False)
    ntp = iosxe.parse_show_clock(corpus.raw("ios_iosxe/show_clock/genieparser_ShowClock_golden_output.raw"))
    assert ntp.source is ClockSource.NTP and ntp.synced is True
    assert ntp.time.utcoffset() == timedelta(hours=-5)  # EST is known


# ---------------------------------------------------------------- show ntp associations

_GENIE_MODE = {"sys.peer": "synchronized", "candidate": "candidate", None: "unsynchronized"}


@pytest.mark.parametrize("rel", captures("ios_iosxe/show_ntp_associations"))
def test_ntp_associations_match_genie(corpus, rel):
    associations = iosxe.parse_show_ntp_associations(corpus.raw(rel))
    peers = corpus.genie(rel)["peer"]
    assert [a.address for a in associations] == list(dict.fromkeys(a.address for a in associations))
    assert {a.address for a in associations} == set(peers)
    for assoc in associations:
        expected = peers[assoc.address]["local_mode"]["client"]
        assert assoc.stratum == expected["stratum"]
        assert assoc.reach == expected["reach"]
        assert assoc.poll == expected["poll"]
        assert assoc.ref_clock == expected["refid"]
        assert assoc.configured is expected["configured"]
        assert assoc.offset == pytest.approx(expected["offset"])
        assert _GENIE_MODE[assoc.status] == expected["mode"]
    system = corpus.genie(rel)["clock_state"]["system_status"]
    [sys_peer] = [a for a in associations if a.is_sys_peer]
    assert sys_peer.address == system["associations_address"]


def test_ntp_associations_to_ntp_server(corpus):
    associations = iosxe.parse_show_ntp_associations(
        corpus.raw("ios_iosxe/show_ntp_associations/genieparser_ShowNtpAssociations_golden_output_3.raw")
    )
    servers = [a.to_ntp_server() for a in associations]
    assert [(s.address, s.status) for s in servers] == [
        ("192.0.2.1", "sys.peer"),
        ("192.0.2.10", "candidate"),
        ("192.0.2.20", "configured"),
    ]
    assert [a.reachable for a in associations] == [True, True, False]


# ---------------------------------------------------------------- PKI


def test_pki_c3850_matches_genie(corpus):
    rel = "ios_iosxe/show_crypto_pki_certificates/genieparser_ShowCryptoPkiCertificates_golden_output_c3850.raw"
    certs = iosxe.parse_show_crypto_pki_certificates(corpus.raw(rel))
    expected = corpus.genie(rel)["trustpoints"]["CISCO_IDEVID_SUDI"]["associated_trustpoints"]
    assert [c.kind for c in certs] == ["Certificate", "CA Certificate"]
    for cert, key in zip(certs, ("certificate", "ca_certificate"), strict=True):
        exp = expected[key]
        assert cert.status == exp["status"]
        assert cert.serial == exp["serial_number_in_hex"]
        assert cert.usage == exp["usage"]
        assert cert.not_before == parse_ios_datetime(exp["validity_date"]["start_date"])[0]
        assert cert.not_after == parse_ios_datetime(exp["validity_date"]["end_date"])[0]
        assert cert.common_name == exp["subject"]["cn"]
    args = corpus.json(rel.replace(".raw", ".args.json"))
    device = iosxe.pick_device_certificate(certs, args["trustpoint_name"])
    assert device is certs[0] and not device.is_ca
    window = iosxe.device_certificate_window(certs, args["trustpoint_name"])
    assert window is not None and window.name == "CISCO_IDEVID_SUDI"
    assert window.not_before == datetime(2015, 11, 20, 0, 34, 52, tzinfo=UTC)


def test_pki_self_signed_matches_genie(corpus):
    rel = "ios_iosxe/show_crypto_pki_certificates/genieparser_ShowCryptoPkiCertificates_golden_output_csr1000.raw"
    certs = iosxe.parse_show_crypto_pki_certificates(corpus.raw(rel))
    exp = corpus.genie(rel)["trustpoints"]["TP-self-signed-4146203551"]["associated_trustpoints"][
        "router_self_signed_certificate"
    ]
    [cert] = certs
    assert cert.kind == "Router Self-Signed Certificate"
    assert cert.storage == exp["storage"]
    assert cert.subject_name == exp["subject"]["name"]
    assert cert.not_before == parse_ios_datetime(exp["validity_date"]["start_date"])[0]
    assert cert.not_after == datetime(2020, 1, 1, tzinfo=UTC)
    assert iosxe.pick_device_certificate(certs, "TP-self-signed-4146203551") is cert


@pytest.mark.parametrize("rel", [r for r in captures("ios_iosxe/show_crypto_pki_certificates") if "ntc-templates" in r])
def test_pki_matches_ntc_expected(corpus, rel):
    certs = iosxe.parse_show_crypto_pki_certificates(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert [c.kind for c in certs] == [e["certificate_type"] for e in expected]
    assert [c.serial for c in certs] == [e["serial_number"] for e in expected]
    assert [c.not_before for c in certs] == [parse_ios_datetime(e["start_date"])[0] for e in expected]
    assert [c.not_after for c in certs] == [parse_ios_datetime(e["end_date"])[0] for e in expected]
    assert [" ".join(c.trustpoints) for c in certs] == [e["associated_trustpoints"] for e in expected]
    assert certs[0].renew_date == parse_ios_datetime(expected[0]["renew_date"])[0]
    # The device certificate wins over the CA certificates of the same trustpoint.
    assert iosxe.pick_device_certificate(certs, "caserver.domain.com") is certs[0]


def test_pki_sudi_genielibs_prefers_device_over_ca(corpus):
    certs = iosxe.parse_show_crypto_pki_certificates(
        corpus.raw("ios_iosxe/show_crypto_pki_certificates/genielibs_verify_crypto_pki_certificate_sudi.raw")
    )
    assert [c.is_ca for c in certs] == [False, True]
    device = iosxe.pick_device_certificate(certs)
    assert device is not None and device.common_name == "C9600-SUP-1-70b3171eae00"


@pytest.mark.parametrize("rel", captures("c9800/show_wireless_management_trustpoint"))
def test_wireless_management_trustpoint(corpus, rel):
    trustpoint = iosxe.parse_show_wireless_management_trustpoint(corpus.raw(rel))
    if (CORPUS / rel).with_suffix(".py").exists():
        expected = corpus.genie(rel)
        assert trustpoint.name == (expected["trustpoint_name"] or None)
        assert trustpoint.certificate_info == expected["certificate_info"]
        assert trustpoint.certificate_type == expected.get("certificate_type")
    else:
        assert trustpoint.name == "vidya-ewlc-5_WLC_TP"
        assert trustpoint.certificate_type == "SSC"


# ---------------------------------------------------------------- show ap summary


@pytest.mark.parametrize("rel", [r for r in captures("c9800/show_ap_summary") if "genieparser" in r])
def test_ap_summary_matches_genie(corpus, rel):
    table = iosxe.parse_show_ap_summary_table(corpus.raw(rel))
    expected = corpus.genie(rel)
    aps = expected.get("ap_name", {})
    assert table.declared_count == expected["ap_neighbor_count"]
    assert [r.name for r in table.rows] == list(aps)
    for row in table.rows:
        exp = aps[row.name]
        assert row.model == exp["ap_model"]
        assert row.mac == exp["ethernet_mac"]
        assert row.radio_mac == exp["radio_mac"]
        assert row.ip == exp["ap_ip_address"]
        assert row.country == exp["country"]
        assert row.location == exp["location"]
        assert row.state == exp["state"]
        assert row.slots == exp["slots_count"]
        assert row.regulatory_domain == exp.get("regulatory_domain")
    assert table.unparsed_lines == ()


@pytest.mark.parametrize("rel", [r for r in captures("c9800/show_ap_summary") if "ntc-templates" in r])
def test_ap_summary_matches_ntc_expected(corpus, rel):
    table = iosxe.parse_show_ap_summary_table(corpus.raw(rel))
    expected = corpus.yml(rel)
    assert [r.name for r in table.rows] == [e["ap_name"] for e in expected]
    assert [r.model for r in table.rows] == [e["ap_model"] for e in expected]
    assert [r.mac for r in table.rows] == [e["mac_address"] for e in expected]
    assert [r.radio_mac for r in table.rows] == [e["radio_mac"] for e in expected]
    assert [r.ip for r in table.rows] == [e["ip_address"] for e in expected]
    assert [r.country for r in table.rows] == [e["country"] for e in expected]
    assert [r.state for r in table.rows] == [e["state"] for e in expected]
    # ntc's C9800 expectation carries a stray leading space in the location.
    assert [r.location for r in table.rows] == [e["location"].strip() for e in expected]
    assert [r.regulatory_domain for r in table.rows] == [e.get("regulatory_domain") or None for e in expected]
    assert table.declared_count == len(table.rows)


def test_ap_summary_layouts_detected(corpus):
    layouts = {
        rel: iosxe.parse_show_ap_summary_table(corpus.raw(rel)).layout for rel in captures("c9800/show_ap_summary")
    }
    assert layouts["c9800/show_ap_summary/genieparser_ShowApSummary_golden_output_4.raw"] == "iosxe-cc-rd"
    assert layouts["c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw"] == "iosxe-cc-rd"
    assert layouts["c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw"] == "iosxe-state-last"
    assert layouts["c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary.raw"] == "iosxe-state-last"


def test_ap_summary_technote_downloading(corpus):
    """Country is empty in this row; ntc-templates reads country `location`."""
    table = iosxe.parse_show_ap_summary_table(corpus.raw("technote/c9800_show_ap_summary_downloading.raw"))
    [row] = table.rows
    assert (row.name, row.model, row.mac, row.radio_mac) == ("AP2702E", "2702E", "0081.c4fb.2e74", "843d.c673.10d0")
    assert (row.location, row.country, row.ip, row.state) == (
        "default location",
        None,
        "192.168.202.105",
        "Downloading",
    )
    [ap] = iosxe.parse_show_ap_summary(corpus.raw("technote/c9800_show_ap_summary_downloading.raw"))
    assert ap.is_downloading and ap.model == "2702E"


def test_ap_summary_short_model_names(corpus):
    aps = iosxe.parse_show_ap_summary(
        corpus.raw("c9800/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary_C9800.raw")
    )
    assert [(ap.name, ap.model) for ap in aps] == [("CISCO-WAP01", "3802I"), ("CISCO-WAP02", "3802I")]


# ---------------------------------------------------------------- show fabric ap summary


@pytest.mark.parametrize("rel", captures("c9800/show_fabric_ap_summary"))
def test_fabric_ap_summary_matches_genie(corpus, rel):
    table = iosxe.parse_show_fabric_ap_summary_table(corpus.raw(rel))
    expected = corpus.genie(rel)
    aps = expected.get("ap_name", {})
    assert table.declared_count == expected["fabric_ap_count"]
    assert [r.name for r in table.rows] == list(aps)
    for row in table.rows:
        exp = aps[row.name]
        assert (row.model, row.mac, row.radio_mac, row.location, row.country, row.ip, row.state) == (
            exp["ap_model"],
            exp["ethernet_mac"],
            exp["radio_mac"],
            exp["location"],
            exp["country"],
            exp["ip_address"],
            exp["state"],
        )
        assert str(row.slots) == exp["slots"]


def test_fabric_count_larger_than_rows(corpus):
    table = iosxe.parse_show_fabric_ap_summary_table(
        corpus.raw("c9800/show_fabric_ap_summary/genieparser_ShowFabricApSummary_golden_output2.raw")
    )
    assert table.declared_count == 9 and len(table.rows) == 7 and table.count_mismatch
    assert {r.ip for r in table.rows} >= {"2001:10b1::9", "2001:10b1::8"}
    assert [r.name for r in table.rows if r.state == "Downloading"] == ["AP-E1-CBA0"]


# ---------------------------------------------------------------- show ap image


def test_ap_image_matches_genie(corpus):
    rel = "c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw"
    report = iosxe.parse_show_ap_image(corpus.raw(rel))
    expected = corpus.genie(rel)
    assert report.total_aps == expected["total_number_of_aps"]
    for key, value in expected["number_of_aps"].items():
        assert report.counters[key] == str(value)
    assert report.downloading == 0
    assert {e.name for e in report.entries} == set(expected["ap_name"])
    for entry in report.entries:
        exp = expected["ap_name"][entry.name]
        assert (
            entry.primary_image,
            entry.backup_image,
            entry.predownload_status,
            entry.predownload_version,
            entry.next_retry_time,
            entry.retry_count,
            entry.method,
        ) == (
            exp["primary_image"],
            exp["backup_image"],
            exp["predownload_status"],
            exp["predownload_version"],
            exp["next_retry_time"],
            exp["retry_count"],
            exp["method"],
        )


# ---------------------------------------------------------------- show ap config general


@pytest.mark.parametrize("rel", [r for r in captures("c9800/show_ap_config_general") if "genieparser" in r])
def test_ap_config_general_matches_genie(corpus, rel):
    [ap] = iosxe.parse_show_ap_config_general(corpus.raw(rel))
    expected = corpus.genie(rel).get("ap_name")
    if expected is not None:
        exp = expected[ap.name]
        assert (ap.model, ap.mac, ap.ip, ap.image_version, ap.state, ap.location) == (
            exp["ap_model"],
            exp["mac_address"],
            exp["ip_address"],
            exp["software_version"],
            exp["operation_state"],
            exp["cisco_ap_location"],
        )
    else:
        assert (ap.name, ap.model, ap.image_version) == ("my_ap_name", "CW9166I-E", "17.12.4.162")


def test_ap_config_general_genielibs(corpus):
    [ap] = iosxe.parse_show_ap_config_general(corpus.raw("c9800/show_ap_config_general/genielibs_get_ap_mode.raw"))
    assert (ap.name, ap.model, ap.image_version, ap.state) == (
        "AP188B.4500.44C8",
        "AIR-AP1832I-D-K9",
        "17.7.1.2",
        "Registered",
    )
