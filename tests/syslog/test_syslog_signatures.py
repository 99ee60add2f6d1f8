"""Signature data: every tech note line means what the YAML says, unrelated lines mean nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.simulator.bug import ImageSigningRules, failure_lines, success_lines
from bot.simulator.scenario import builtin_defaults
from bot.syslog.messages import parse_message
from bot.syslog.signatures import (
    Severity,
    SignatureError,
    SignatureKind,
    SignatureSet,
    default_signatures,
    load_signatures,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "syslog"
SIGS = default_signatures()


def _ids(path: Path) -> list[str | None]:
    out = []
    for line in path.read_text().splitlines():
        found = SIGS.match(parse_message(line.encode()).text)
        out.append(found.id if found else None)
    return out


def test_sha1_capture_line_by_line() -> None:
    assert _ids(FIXTURES / "ap_console_sha1_expired.log") == [
        "cert-variant",
        "image-cert-expired",
        "image-cert-validation-failed",
        "signature-validate-failed",
        "digital-signature-failed",
        "image-integrity-failed",
    ]


def test_sha2_capture_line_by_line() -> None:
    assert _ids(FIXTURES / "ap_console_sha2_expired.log") == [
        "cert-variant",
        "dtls-pkt-too-old",
        "image-cert-expired",
        "image-cert-validation-failed",
        "signature-validate-failed",
        "digital-signature-failed",
        "image-integrity-failed",
    ]


def test_fields_from_the_capture() -> None:
    lines = (FIXTURES / "ap_console_sha1_expired.log").read_text().splitlines()
    texts = [parse_message(x.encode()).text for x in lines]
    variant, expired, failed, _, digital, _ = (SIGS.match(t) for t in texts)
    assert variant is not None and variant.fields["sha"] == "SHA-1"
    assert expired is not None and expired.kind is SignatureKind.FAILURE
    assert expired.fields["not_after"] == "21:37:36 UTC Dec 4 2022"
    assert expired.fields["serial"] == "XX"
    assert failed is not None and failed.fields["code"] == "1A"
    assert digital is not None
    assert digital.fields["image"] == "ap3g2-k9w8-mx.153-3.JPJ9"
    assert digital.fields["path"] == "flash:/update/ap3g2-k9w8-mx.153-3.JPJ9/final_hash"


def test_sha2_image_name() -> None:
    found = SIGS.match("Digital Signature Failed Validation (flash:/update/ap3g2-k9w8-mx.153-3.JPJ7c/final_hash)")
    assert found is not None and found.fields["image"] == "ap3g2-k9w8-mx.153-3.JPJ7c"


def test_expired_with_the_real_serial_and_another_date() -> None:
    text = (
        "%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed. The certificate "
        "(SN: 4E78A210000000000007) has expired. Validity period ended on 21:43:46 UTC Dec 5 2022"
    )
    found = SIGS.match(text)
    assert found is not None and found.id == "image-cert-expired"
    assert found.fields["serial"] == "4E78A210000000000007"


def test_some_other_expired_certificate_is_context_not_a_failure() -> None:
    text = (
        "%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed. The certificate "
        "(SN: 1A2B) has expired. Validity period ended on 00:00:00 UTC Jan 1 2021"
    )
    found = SIGS.match(text)
    assert found is not None and found.id == "other-cert-expired"
    assert found.kind is SignatureKind.CONTEXT
    assert found.fields == {"serial": "1A2B", "not_after": "00:00:00 UTC Jan 1 2021"}


def test_not_yet_valid_and_success() -> None:
    nyv = SIGS.match(
        "%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID: Certificate chain validation has failed. The certificate "
        "(SN: 4E78A210000000000007) is not yet valid. Validity period starts on 21:43:46 UTC Dec 4 2012"
    )
    assert nyv is not None and nyv.kind is SignatureKind.NOT_YET_VALID and nyv.severity is Severity.CRITICAL
    assert nyv.fields["not_before"] == "21:43:46 UTC Dec 4 2012"
    ok = SIGS.match("Image signing certificate validation succeeded.")
    assert ok is not None and ok.kind is SignatureKind.SUCCESS


def test_the_simulator_speaks_the_same_language() -> None:
    """The simulator's failure/success lines (bot/simulator/bug.py) are recognised."""
    from datetime import UTC, datetime

    rules = ImageSigningRules.from_dict(builtin_defaults())
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    kinds = [SIGS.match(parse_message(t.encode()).text) for _, t in failure_lines(rules, when)]
    assert [k.kind if k else None for k in kinds].count(SignatureKind.FAILURE) == 4
    assert kinds[1] is not None and kinds[1].fields["serial"] == "4E78A210000000000007"
    ok = [SIGS.match(parse_message(t.encode()).text) for _, t in success_lines(when, ios_based=True)]
    assert ok[-1] is not None and ok[-1].kind is SignatureKind.SUCCESS


@pytest.mark.parametrize(
    "text",
    [
        "%LINK-3-UPDOWN: Interface GigabitEthernet0, changed state to up",
        "%CAPWAP-3-ERRORLOG: Go join a capwap controller",
        "%DOT11-6-ASSOC: Interface Dot11Radio0, Station 0011.2233.4455 Associated KEY_MGMT[WPAv2 PSK]",
        "Image signing certificate",
        "image integrity",
        "",
    ],
)
def test_unrelated_lines_match_nothing(text: str) -> None:
    assert SIGS.match(text) is None


def test_every_signature_says_what_it_means() -> None:
    assert len(SIGS) >= 8
    for signature in SIGS:
        assert len(signature.meaning) > 40, signature.id
    kinds = {s.kind for s in SIGS}
    assert kinds == set(SignatureKind)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("nope: 1", "top-level 'signatures:'"),
        ("version: 2\nsignatures: []", "version 2"),
        (
            "signatures:\n  - id: a\n    kind: failure\n    severity: critical\n    pattern: '('\n    meaning: m",
            "not a valid regular expression",
        ),
        (
            "signatures:\n  - id: a\n    kind: boom\n    severity: critical\n    pattern: x\n    meaning: m",
            "kind 'boom' is not one of",
        ),
        ("signatures:\n  - id: a\n    kind: failure\n    severity: critical\n    pattern: x", "'meaning' is required"),
        (
            "signatures:\n  - {id: a, kind: failure, severity: info, pattern: x, meaning: m}\n"
            "  - {id: a, kind: failure, severity: info, pattern: y, meaning: m}",
            "used twice",
        ),
        ("signatures:\n  - {id: a, kind: failure, severity: info, pattern: x, meaning: m, colour: red}", "unknown key"),
        ("signatures: [", "not valid YAML"),
    ],
)
def test_bad_signature_files_are_explained(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "sigs.yaml"
    path.write_text(yaml_text)
    with pytest.raises(SignatureError, match=message):
        load_signatures(path)


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="cannot read"):
        load_signatures(tmp_path / "nope.yaml")


def test_a_site_variant_is_one_entry_of_data() -> None:
    custom = SignatureSet.from_dict(
        {
            "signatures": [
                {
                    "id": "variant",
                    "kind": "failure",
                    "severity": "critical",
                    "pattern": "IMAGE SIG FAIL",
                    "contains": "sig fail",
                    "ignore_case": True,
                    "meaning": "a site's own wording",
                }
            ]
        }
    )
    found = custom.match("image sig fail on boot")
    assert found is not None and found.id == "variant"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_fuzz_matching_never_raises(text: str) -> None:
    found = SIGS.match(text)
    if found is not None:
        assert all(len(v) <= 200 for v in found.fields.values())
