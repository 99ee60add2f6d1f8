"""Running-config NTP lines, APSP packages and certificate windows.

There is no public capture of `show running-config | include ntp`, of AireOS
`show certificate all` or of an APSP package line, so these inputs are
written here in the real formats: IOS `ntp server` syntax from the command
reference; AireOS certificate blocks as printed by AireOS 8.x (`Certificate
Name:` / `Validity :` / `Start : ...`, seen in Cisco community posts with both
`Oct 4 05:05:04 2015 GMT` and `2016 Apr 29th, 01:58:37 GMT` dates); APSP
file names as in the CSCwd80290 field notice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.controllers.platforms.aireos import parsers as aireos
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.controllers.platforms.iosxe.parsers import REDACTED

# ---------------------------------------------------------------- running-config ntp

RUNNING_NTP = """9800-L#show running-config | include ntp
ntp authentication-key 1 md5 0822455D0A16 7
ntp authentication-key 2 hmac-sha2-256 Sup3rSecretKey 7
ntp authentication-key 3 cmac-aes-128 AnotherSecret
ntp authenticate
ntp trusted-key 1 - 2
ntp source Vlan10
ntp server 10.0.0.1
ntp server vrf Mgmt-intf 10.0.0.2 key 1 prefer source GigabitEthernet0
ntp server ip time.example.com iburst
ntp server ipv6 2001:db8::123 version 4 burst iburst minpoll 4 maxpoll 10
ntp server vrf Mgmt 10.1.1.1 prefer key 2 source Vlan10 version 3
ntp server vrf Mgmt-intf ipv6 2001:db8::7 key 3
 description uplink to ntp appliance
ntp peer 10.9.9.9
ntp update-calendar
9800-L#"""


def test_every_server_form_round_trips_verbatim():
    servers = iosxe.parse_show_running_config_ntp(RUNNING_NTP)
    assert [(s.address, s.vrf, s.key_index, s.options) for s in servers] == [
        ("10.0.0.1", None, None, ()),
        ("10.0.0.2", "Mgmt-intf", 1, ("prefer", "source GigabitEthernet0")),
        ("time.example.com", None, None, ("iburst",)),
        ("2001:db8::123", None, None, ("version 4", "burst", "iburst", "minpoll 4", "maxpoll 10")),
        ("10.1.1.1", "Mgmt", 2, ("prefer", "source Vlan10", "version 3")),
        ("2001:db8::7", "Mgmt-intf", 3, ()),
    ]
    server_lines = [ln for ln in RUNNING_NTP.splitlines() if ln.startswith("ntp server")]
    assert [s.config_line for s in servers] == server_lines


def test_non_server_lines_listed_without_secrets():
    config = iosxe.parse_ntp_config(RUNNING_NTP)
    texts = [line.text for line in config.other_lines]
    joined = "\n".join(texts)
    for secret in ("0822455D0A16", "Sup3rSecretKey", "AnotherSecret"):
        assert secret not in joined
        assert all(secret not in (s.config_line or "") for s in config.servers)
    assert texts[:3] == [
        f"ntp authentication-key 1 md5 {REDACTED}",
        f"ntp authentication-key 2 hmac-sha2-256 {REDACTED}",
        f"ntp authentication-key 3 cmac-aes-128 {REDACTED}",
    ]
    assert [line.redacted for line in config.other_lines][:3] == [True, True, True]
    assert {line.kind for line in config.other_lines} == {
        "authentication-key",
        "authenticate",
        "trusted-key",
        "source",
        "peer",
        "update-calendar",
    }
    assert config.authentication_enabled
    # A line that merely mentions ntp is not NTP configuration.
    assert not any("description" in t for t in texts)


def test_authentication_key_with_unknown_algorithm_still_redacted():
    config = iosxe.parse_ntp_config("ntp authentication-key 9 future-alg TopSecret 7\n")
    [line] = config.other_lines
    assert "TopSecret" not in line.text and line.redacted


def test_running_config_ntp_crlf_and_trailing_spaces():
    text = "ntp server 10.0.0.1 prefer   \r\nntp server vrf V 10.0.0.2\r\n"
    servers = iosxe.parse_show_running_config_ntp(text)
    assert [s.config_line for s in servers] == ["ntp server 10.0.0.1 prefer", "ntp server vrf V 10.0.0.2"]


# ---------------------------------------------------------------- APSP

INSTALL_WITH_APSP = """WLC1#show install summary\r\r
[ Chassis 1/R0 2/R0 ] Installed Package(s) Information:\r\r
State (St): I - Inactive, U - Activated & Uncommitted,\r\r
            C - Activated & Committed, D - Deactivated & Uncommitted\r\r
--------------------------------------------------------------------------------\r\r
Type  St   Filename/Version\r\r
--------------------------------------------------------------------------------\r\r
IMG   C    17.03.06.0.6290\r\r
APSP  C    bootflash:C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin\r\r
APSP  I    bootflash:C9800-universalk9_wlc.17.03.06.CSCwd83653.SPA.apsp.bin\r\r
\r\r
--------------------------------------------------------------------------------\r\r
Auto abort timer: inactive\r\r
--------------------------------------------------------------------------------\r\r
WLC1#"""


def test_install_summary_apsp_extraction():
    summary = iosxe.parse_show_install_summary(INSTALL_WITH_APSP)
    assert [(a.csc_id, a.state, a.release) for a in summary.apsps] == [
        ("CSCwe10047", "C", "17.3.6"),
        ("CSCwd83653", "I", "17.3.6"),
    ]
    assert summary.csc_ids == ("CSCwe10047",)  # the inactive one is not in effect
    assert summary.packages[0].location == "Chassis 1/R0 2/R0"
    assert summary.auto_abort_timer == "inactive"


# ---------------------------------------------------------------- AireOS certificates

AIREOS_CERT_ALL = """(Cisco Controller) >show certificate all

Certificate Name: Cisco SHA1 device cert
Subject Name :
C=US, ST=California, L=San Jose, O=Cisco Systems, CN=AIR-CT5520-K9-00:11:22:33:44:55, MAILTO=support@cisco.com
Issuer Name :
O=Cisco Systems, CN=Cisco Manufacturing CA
Serial Number (Hex):
11223344556677889900
Validity :
Start : 2016 Apr 29th, 01:58:37 GMT
End : 2026 Apr 29th, 02:08:37 GMT
Signature Algorithm :
rsa-pkcs1-sha1
Hash key :
SHA1 Fingerprint : 01:02:03
MD5 Fingerprint : 04:05:06

Certificate Name: Cisco SHA2 device cert
Subject Name :
C=US, ST=California, L=San Jose, O=Cisco Systems, CN=AIR-CT5520-K9-001122334455, emailAddress=support@cisco.com
Issuer Name :
O=Cisco, CN=Cisco Manufacturing CA SHA2
Serial Number (Hex):
0A1B2C
Validity :
Start : Oct 4 05:05:04 2016 GMT
End : Oct 4 05:15:04 2026 GMT
Signature Algorithm :
sha256WithRSAEncryption

Certificate Name: Cisco SHA2 ca cert
Subject Name :
O=Cisco, CN=Cisco Manufacturing CA SHA2
Issuer Name :
O=Cisco, CN=Cisco Root CA M2
Validity :
Start : Nov 12 13:50:58 2012 GMT
End : Nov 12 13:00:17 2037 GMT

(Cisco Controller) >"""


def test_aireos_certificate_all_blocks_and_dates():
    report = aireos.parse_show_certificate_all(AIREOS_CERT_ALL)
    assert [c.name for c in report.certificates] == [
        "Cisco SHA1 device cert",
        "Cisco SHA2 device cert",
        "Cisco SHA2 ca cert",
    ]
    sha1, sha2, ca = report.certificates
    assert sha1.not_before == datetime(2016, 4, 29, 1, 58, 37, tzinfo=UTC)
    assert sha1.not_after == datetime(2026, 4, 29, 2, 8, 37, tzinfo=UTC)
    assert sha2.not_before == datetime(2016, 10, 4, 5, 5, 4, tzinfo=UTC)
    # A DN containing colons (a MAC) stays whole.
    assert sha1.subject is not None and sha1.subject.endswith("00:11:22:33:44:55, MAILTO=support@cisco.com")
    assert sha1.serial == "11223344556677889900"
    assert (sha1.is_device_certificate, ca.is_device_certificate) == (True, False)


def test_aireos_device_certificate_is_the_latest_starting_device_cert():
    report = aireos.parse_show_certificate_all(AIREOS_CERT_ALL)
    picked = aireos.pick_device_certificate(report)
    assert picked is not None and picked.name == "Cisco SHA2 device cert"
    window = aireos.device_certificate_window(report)
    assert window is not None
    assert window.not_before == datetime(2016, 10, 4, 5, 5, 4, tzinfo=UTC)
    assert window.name == "Cisco SHA2 device cert"


def test_aireos_certificate_summary_settings():
    text = (
        "(Cisco Controller) >show certificate summary\n"
        "Web Administration Certificate................... Locally Generated\n"
        "Web Authentication Certificate................... 3rd Party\n"
        "Certificate compatibility mode:.................. off\n"
        "Lifetime Check Ignore for MIC ................... Disable\n"
        "Lifetime Check Ignore for SSC ................... Enable\n"
    )
    report = aireos.parse_show_certificate_summary(text)
    assert report.fields["web_authentication_certificate"] == "3rd Party"
    assert report.fields["certificate_compatibility_mode"] == "off"
    assert report.fields["lifetime_check_ignore_for_ssc"] == "Enable"
    assert report.certificates == ()
    assert aireos.pick_device_certificate(report) is None


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2016 Apr 29th, 01:58:37 GMT", datetime(2016, 4, 29, 1, 58, 37, tzinfo=UTC)),
        ("Oct 4 05:05:04 2015 GMT", datetime(2015, 10, 4, 5, 5, 4, tzinfo=UTC)),
        ("Apr  1 00:00:01 2019 UTC", datetime(2019, 4, 1, 0, 0, 1, tzinfo=UTC)),
        ("2019-04-01 00:00:01", datetime(2019, 4, 1, 0, 0, 1)),
    ],
)
def test_aireos_certificate_date_formats(start, expected):
    text = f"Certificate Name: Cisco SHA2 device cert\nValidity :\nStart : {start}\nEnd : Jan 1 00:00:00 2099 GMT\n"
    [cert] = aireos.parse_show_certificate_all(text).certificates
    assert cert.not_before == expected


def test_aireos_unreadable_date_leaves_no_window():
    text = "Certificate Name: Cisco SHA2 device cert\nValidity :\nStart : sometime\nEnd : later\n"
    report = aireos.parse_show_certificate_all(text)
    [cert] = report.certificates
    assert cert.raw_start == "sometime" and cert.not_before is None
    assert cert.window() is None and aireos.pick_device_certificate(report) is None


# ---------------------------------------------------------------- IOS-XE certificates (9800-CL style)

IOSXE_TRUSTPOINT_CERTS = """9800-CL#show crypto pki certificates vidya-ewlc-5_WLC_TP
Certificate
  Status: Available
  Certificate Serial Number (hex): 02
  Certificate Usage: General Purpose
  Issuer:
    o=Cisco Virtual Wireless LAN Controller
    cn=CA-vWLC_vidya-ewlc-5
  Subject:
    Name: vidya-ewlc-5_WLC_TP
    o=Cisco Virtual Wireless LAN Controller
    cn=vidya-ewlc-5_WLC_TP
  Validity Date:
    start date: 00:35:53 UTC Jul 19 2016
    end   date: 00:35:53 UTC Jul 19 2026
  Associated Trustpoints: vidya-ewlc-5_WLC_TP

CA Certificate
  Status: Available
  Certificate Serial Number (hex): 01
  Certificate Usage: Signature
  Issuer:
    o=Cisco Virtual Wireless LAN Controller
    cn=CA-vWLC_vidya-ewlc-5
  Subject:
    o=Cisco Virtual Wireless LAN Controller
    cn=CA-vWLC_vidya-ewlc-5
  Validity Date:
    start date: 00:35:52 UTC Jul 19 2016
    end   date: 00:35:52 UTC Jul 19 2026
  Associated Trustpoints: vidya-ewlc-5_WLC_TP
9800-CL#"""


def test_iosxe_trustpoint_device_certificate_window():
    certs = iosxe.parse_show_crypto_pki_certificates(IOSXE_TRUSTPOINT_CERTS)
    assert [c.kind for c in certs] == ["Certificate", "CA Certificate"]
    window = iosxe.device_certificate_window(certs, "vidya-ewlc-5_WLC_TP")
    assert window is not None
    assert window.not_before == datetime(2016, 7, 19, 0, 35, 53, tzinfo=UTC)
    assert window.name == "vidya-ewlc-5_WLC_TP"
    assert window.subject is not None and "cn=vidya-ewlc-5_WLC_TP" in window.subject


def test_iosxe_only_ca_certificates_gives_no_device_window():
    ca_only = IOSXE_TRUSTPOINT_CERTS.split("\n\n", 1)[1]
    certs = iosxe.parse_show_crypto_pki_certificates(ca_only)
    assert [c.is_ca for c in certs] == [True]
    assert iosxe.pick_device_certificate(certs) is None
