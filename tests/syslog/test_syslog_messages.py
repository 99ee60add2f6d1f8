"""The syslog parser: the tech note's lines in every wrapping an AP or relay uses,
plus the broken input a UDP port on a network receives anyway."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.syslog.messages import MAX_HOSTNAME, MessageFormat, parse_message

FIXTURES = Path(__file__).parents[1] / "fixtures" / "syslog"
SHA1 = (FIXTURES / "ap_console_sha1_expired.log").read_text().splitlines()
SHA2 = (FIXTURES / "ap_console_sha2_expired.log").read_text().splitlines()
EXPIRED = SHA1[1]


def test_bare_console_line_keeps_the_ap_stamp_apart() -> None:
    m = parse_message(EXPIRED.encode())
    assert m.format is MessageFormat.BARE
    assert m.malformed is None
    assert m.device_time == "Dec 6 21:35:24.327"
    assert m.clock_unsynced is True
    assert m.text.startswith("%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed.")
    assert m.mnemonic == "PKI-3-CERTIFICATE_INVALID_EXPIRED"
    assert m.hostname is None and m.severity is None


def test_simulator_style_rfc3164_with_padded_day_and_hostname() -> None:
    # What bot/simulator/syslog.py sends: <PRI>Mmm dd hh:mm:ss HOST MSG, facility kern.
    m = parse_message(b"<3>Dec  6 08:47:20 CAP3702E.4CD4 " + SHA2[2].encode())
    assert m.format is MessageFormat.RFC3164
    assert (m.facility, m.severity) == (0, 3)
    assert m.timestamp == "Dec  6 08:47:20"
    assert m.hostname == "CAP3702E.4CD4"
    assert m.device_time == "Dec 6 08:47:20.227"
    assert m.mnemonic == "PKI-3-CERTIFICATE_INVALID_EXPIRED"


@pytest.mark.parametrize(
    ("raw", "hostname", "text"),
    [
        # PRI, no header, no hostname: the AP console line as is.
        (b"<11>*Dec 6 21:35:24.327: AP image integrity check FAILED", None, "AP image integrity check FAILED"),
        # No PRI, BSD header, hostname.
        (b"Dec 6 21:35:24 AP3702-1 *Dec 6 21:35:24.327: AP image integrity check FAILED", "AP3702-1", None),
        # Header without hostname, straight into the AP stamp.
        (b"<3>Dec  6 21:35:24 *Dec 6 21:35:24.327: AP image integrity check FAILED", None, None),
        # Cisco sequence number and origin-id hostname.
        (b"<187>52: AP3702-1: *Dec  6 21:35:24.327: %PKI-3-CERTIFICATE_INVALID_EXPIRED: x", "AP3702-1", None),
        # Synchronised-then-lost clock marker `.` and a year and zone.
        (b"<187>.Dec  6 2022 21:35:24.327 UTC: Image signing certificate validation failed (1A).", None, None),
        # RFC 3339 header in a BSD message (rsyslog style).
        (b"<3>2022-12-06T21:35:24.327Z ap-7 AP image integrity check FAILED", "ap-7", None),
    ],
)
def test_rfc3164_variants(raw: bytes, hostname: str | None, text: str | None) -> None:
    m = parse_message(raw)
    assert m.malformed is None
    assert m.hostname == hostname
    if text is not None:
        assert m.text == text
    assert "*" not in m.text[:1] and not m.text.startswith("Dec")


def test_clock_markers() -> None:
    assert parse_message(b"*Dec 6 21:35:24.327: x").clock_unsynced is True
    assert parse_message(b".Dec 6 21:35:24.327: x").clock_unsynced is False
    assert parse_message(b"Dec 6 21:35:24.327: x").clock_unsynced is False
    assert parse_message(b"plain text").clock_unsynced is None


def test_header_that_only_looks_like_a_zone_is_a_hostname_and_tag() -> None:
    m = parse_message(b"<13>Dec 6 08:47:20 WLC: hello")
    assert m.device_time is None
    assert m.app_name == "WLC"


def test_tag_and_pid() -> None:
    m = parse_message(b"<13>Dec  6 08:47:20 host1 sshd[123]: Accepted password")
    assert m.hostname == "host1" and m.app_name == "sshd" and m.procid == "123"


def test_rfc5424_with_structured_data_and_bom() -> None:
    raw = (
        b'<11>1 2022-12-06T21:35:24.327123456+01:00 AP3702-1 capwap 77 PKI [ex@9 a="q\\"]" b="\\]"][x@1] '
        b"\xef\xbb\xbf*Dec 6 21:35:24.327: AP image integrity check FAILED"
    )
    m = parse_message(raw)
    assert m.format is MessageFormat.RFC5424
    assert (m.facility, m.severity) == (1, 3)
    assert m.hostname == "AP3702-1" and m.app_name == "capwap" and m.procid == "77" and m.msgid == "PKI"
    assert m.structured_data == '[ex@9 a="q\\"]" b="\\]"][x@1]'
    assert m.timestamp_dt is not None and m.timestamp_dt.utcoffset() is not None
    assert m.timestamp_dt.astimezone(UTC) == datetime(2022, 12, 6, 20, 35, 24, 327123, tzinfo=UTC)
    assert m.text == "AP image integrity check FAILED"
    assert m.device_time == "Dec 6 21:35:24.327"


def test_rfc5424_nil_fields_and_no_message() -> None:
    m = parse_message(b"<14>1 - - - - - -")
    assert m.format is MessageFormat.RFC5424
    assert m.hostname is None and m.timestamp is None and m.structured_data is None and m.text == ""


def test_rfc5424_broken_structured_data_keeps_the_text() -> None:
    m = parse_message(b"<11>1 2022-12-06T21:35:24Z ap1 - - - [oops AP image integrity check FAILED")
    assert m.format is MessageFormat.RFC5424
    assert "structured_data" in m.problems
    assert "AP image integrity check FAILED" in m.text


def test_rfc5424_truncated_header() -> None:
    m = parse_message(b"<11>1 2022-12-06T21:35:24Z ap1")
    assert m.format is MessageFormat.RFC5424 and m.hostname == "ap1" and m.text == ""


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\x00", "empty"),
        (b"\xff\xfe\x00\x01\x02\x03\xc3\x28", "binary"),
        (b"<999>hello", "bad_pri"),
        (b"<1", "bad_pri"),
        (b"<12", "bad_pri"),
        (b"<1234>x", "bad_pri"),
    ],
)
def test_malformed_is_flagged(raw: bytes, reason: str) -> None:
    assert parse_message(raw).malformed == reason


def test_text_that_merely_starts_with_angle_bracket_is_text() -> None:
    m = parse_message(b"<html> not syslog")
    assert m.malformed is None and m.text == "<html> not syslog"


def test_non_utf8_is_replaced_not_fatal() -> None:
    m = parse_message(b"<11>*Dec 6 21:35:24.327: AP image integrity check FAILED \xe9\xff")
    assert m.malformed is None
    assert m.text.startswith("AP image integrity check FAILED")
    assert "\ufffd" in m.text


def test_control_characters_are_neutralised() -> None:
    m = parse_message(b"<11>AP \x1b[31mred\x1b[0m\rspoof")
    assert "\x1b" not in m.text and "\r" not in m.text


def test_truncated_to_max_bytes() -> None:
    m = parse_message(b"<11>" + b"A" * 10_000, max_bytes=100)
    assert m.truncated and m.raw_length == 10_004 and len(m.text) <= 100


def test_every_fixture_line_parses_in_every_wrapping() -> None:
    for line in SHA1 + SHA2:
        for raw in (
            line,
            f"<3>{line}",
            f"<3>Dec  6 21:35:24 AP3702-1 {line}",
            f"<3>1 2022-12-06T21:35:24Z AP3702-1 - - - - {line}",
        ):
            m = parse_message(raw.encode())
            assert m.malformed is None, raw
            assert m.device_time is not None, raw
            assert not m.text.startswith("*"), raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_bytes_never_raise_and_stay_bounded(data: bytes) -> None:
    m = parse_message(data, max_bytes=1024)
    assert len(m.text) <= 1024
    assert m.hostname is None or len(m.hostname) <= MAX_HOSTNAME
    assert m.structured_data is None or len(m.structured_data) <= 2048
    assert m.malformed in {None, "empty", "binary", "bad_pri"}


_PIECES = st.sampled_from(
    [
        "<",
        ">",
        "<3>",
        "<191>",
        "<192>",
        "1 ",
        "- ",
        "[",
        "]",
        '"',
        "\\",
        "=",
        ":",
        " ",
        "  ",
        "*",
        ".",
        "Dec",
        " 6 ",
        "21:35:24",
        ".327",
        "2022-12-06T21:35:24Z",
        "AP3702-1",
        "%PKI-3-CERTIFICATE_INVALID_EXPIRED:",
        "\ufeff",
        "\n",
        "\x00",
        "é",
        *SHA2,
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_fuzz_syslog_shaped_text_never_raises(pieces: list[str]) -> None:
    raw = "".join(pieces).encode("utf-8")
    m = parse_message(raw, max_bytes=2048)
    assert len(m.text) <= 2048
    assert isinstance(m.format, MessageFormat)
