"""Normalisation (line endings, echo, prompts, pager) and error detection.

Each real capture is also replayed through the line-ending and echo variants
an SSH session produces, and must parse to the same result.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from bot.controllers.parsers import ParseError, normalise
from bot.controllers.parsers.text import find_cli_error, norm_key
from bot.controllers.platforms import registry
from bot.controllers.platforms.aireos import parsers as aireos
from bot.controllers.platforms.iosxe import parsers as iosxe
from bot.domain.models import Platform

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _crcrlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\r\n")


def _lone_cr(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r")


def _trailing_spaces(text: str) -> str:
    return "\n".join(line + "   " for line in text.replace("\r\n", "\n").split("\n"))


VARIANTS = {"crlf": _crlf, "crcrlf": _crcrlf, "lone_cr": _lone_cr, "trailing_spaces": _trailing_spaces}


# ---------------------------------------------------------------- normalise


def test_line_endings_all_become_lf():
    assert normalise("a\r\nb\r\r\nc\rd\ne") == "a\nb\nc\nd\ne"


def test_blank_lines_survive_crcrlf_as_single_breaks():
    assert normalise("a\r\r\n\r\r\nb") == "a\n\nb"


def test_echo_with_ios_prompt_removed():
    assert normalise("9800-L#show ap summary\n\nNumber of APs: 0\n9800-L#") == "Number of APs: 0"


def test_echo_with_aireos_prompt_removed():
    text = "(Cisco Controller) >show time\nTime.... Tue Dec 22 11:02:42 2020\n(Cisco Controller) >"
    assert normalise(text) == "Time.... Tue Dec 22 11:02:42 2020"


@pytest.mark.parametrize(
    "first_line",
    [
        "(AireOS WLC-8.10) >show ap image status",
        "(AireOS WLC)> show time",
        "(WLC-01) config>show time",
        "show boot",
        "wlc(config)#do show clock",
    ],
)
def test_echo_variants(first_line):
    assert normalise(f"{first_line}\nPayload line\n") == "Payload line"


def test_bare_prompt_without_newline_at_end_removed():
    assert normalise("IMG   C    16.6.6.0\r\n\r\nD9300-48T-2040#") == "IMG   C    16.6.6.0"


def test_pager_remnants_removed():
    aireos_pager = "Row 1\n--More-- or (q)uit\r                    \rRow 2"
    assert [ln for ln in normalise(aireos_pager).split("\n") if ln] == ["Row 1", "Row 2"]
    erase = "\x08" * 10
    ios_pager = f"Row 1\n --More-- {erase}          {erase}Row 2"
    assert normalise(ios_pager) == "Row 1\nRow 2"


def test_ansi_escapes_and_trailing_spaces_removed():
    assert normalise("\x1b[2K\x1b[0mAP1   Registered   \n") == "AP1   Registered"


def test_uniform_indentation_removed_relative_kept():
    assert (
        normalise("        R1#show ntp associations\n          address\n        *~1.1.1.1\n") == "  address\n*~1.1.1.1"
    )


def test_data_lines_are_not_mistaken_for_prompts():
    text = "Number of APs: 1\nStorage: nvram:IOS-Self-Sig#1.cer"
    assert normalise(text) == text


def test_exec_timestamp_noise_dropped():
    assert normalise("Load for five secs: 1%/0%; one minute: 2%\nX") == "X"


def test_norm_key():
    assert norm_key("S/W  Version") == "s_w_version"
    assert norm_key("Total AP's Downloading") == "total_aps_downloading"


# ---------------------------------------------------------------- CLI errors


@pytest.mark.parametrize(
    ("parser", "output"),
    [
        (
            iosxe.parse_show_ap_summary,
            "9800#show ap summry\n               ^\n% Invalid input detected at '^' marker.\n",
        ),
        (iosxe.parse_show_clock, "% Incomplete command.\n"),
        (iosxe.parse_show_install_summary, '% Ambiguous command:  "show inst"\n'),
        (
            aireos.parse_show_time,
            "(Cisco Controller) >show tim\n\nIncorrect usage. Use the '?' or <TAB> key to list commands.\n",
        ),
        (aireos.parse_show_ap_image_status, "Incorrect input! Use 'show ap image ?' for help.\n"),
    ],
)
def test_cli_errors_raise_parse_error(parser, output):
    with pytest.raises(ParseError) as info:
        parser(output)
    assert info.value.cli_error is True
    assert info.value.command.startswith("show")


def test_error_words_inside_a_table_are_not_cli_errors():
    text = "AP Name   Location\nAP1       Incorrect usage lab\n"
    assert find_cli_error(text) is None


@pytest.mark.parametrize(
    "parser",
    [
        aireos.parse_show_sysinfo,
        aireos.parse_show_time,
        aireos.parse_show_ap_summary,
        aireos.parse_show_ap_image_all,
        aireos.parse_show_ap_config_general,
        aireos.parse_show_certificate_all,
        aireos.parse_show_boot,
        iosxe.parse_show_version,
        iosxe.parse_show_install_summary,
        iosxe.parse_show_clock,
        iosxe.parse_show_ap_summary,
        iosxe.parse_show_ap_image,
        iosxe.parse_show_wireless_management_trustpoint,
        iosxe.parse_show_crypto_pki_certificates,
        iosxe.parse_show_ap_config_general,
    ],
)
def test_garbage_raises_parse_error(parser):
    with pytest.raises(ParseError) as info:
        parser("wlc#show something\nthis is not the output you are looking for\nwlc#")
    assert info.value.cli_error is False


def test_legitimately_empty_outputs_are_not_errors():
    assert iosxe.parse_show_running_config_ntp("9800#show running-config | include ntp\n9800#") == []
    assert iosxe.parse_show_ntp_associations("%NTP is not enabled.\n") == []
    assert iosxe.parse_show_ap_summary("Number of APs: 0\n") == []


def test_aireos_unknown_ap_in_config_general_raises():
    with pytest.raises(ParseError, match="Cisco AP Name"):
        aireos.parse_show_ap_config_general(
            "(Cisco Controller) >show ap config general nope\n\nCisco AP nope is not found.\n"
        )


# ---------------------------------------------------------------- variants of real captures

VARIANT_CASES = [
    ("technote/c9800_show_ap_summary_downloading.raw", iosxe.parse_show_ap_summary),
    ("c9800/show_ap_summary/ntc-templates_cisco_ios_show_ap_summary2.raw", iosxe.parse_show_ap_summary),
    ("aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw", aireos.parse_show_ap_summary),
    ("aireos/show_time/ntc-templates_cisco_wlc_ssh_show_time.raw", aireos.parse_show_time),
    ("technote/aireos_8.5_show_ap_image_all.raw", aireos.parse_show_ap_image_all),
    ("ios_iosxe/show_clock/genieparser_ShowClock_golden_output.raw", iosxe.parse_show_clock),
    (
        "ios_iosxe/show_ntp_associations/genieparser_ShowNtpAssociations_golden_output_1.raw",
        iosxe.parse_show_ntp_associations,
    ),
    (
        "ios_iosxe/show_install_summary/genieparser_ShowInstallSummary_golden_output_5.raw",
        iosxe.parse_show_install_summary,
    ),
    (
        "ios_iosxe/show_crypto_pki_certificates/genieparser_ShowCryptoPkiCertificates_golden_output_c3850.raw",
        iosxe.parse_show_crypto_pki_certificates,
    ),
]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(("rel", "parser"), VARIANT_CASES, ids=[Path(rel).stem for rel, _ in VARIANT_CASES])
def test_line_ending_variants_parse_identically(corpus, rel, parser, variant):
    original = corpus.raw(rel)
    assert parser(VARIANTS[variant](original)) == parser(original)


@pytest.mark.parametrize(("rel", "parser"), VARIANT_CASES, ids=[Path(rel).stem for rel, _ in VARIANT_CASES])
def test_echo_and_prompts_around_capture_parse_identically(corpus, rel, parser):
    original = corpus.raw(rel)
    if rel.startswith("aireos") or "aireos" in rel:
        wrapped = f"(Cisco Controller) >show command\r\n{original}\r\n(Cisco Controller) >"
    else:
        wrapped = f"WLC-9800-1#show command\r\n{original}\r\nWLC-9800-1#"
    assert parser(wrapped) == parser(original)


# ---------------------------------------------------------------- registry


def test_registry_covers_both_platforms_and_is_callable():
    assert {Platform.AIREOS, Platform.IOSXE} <= set(registry.names())
    for platform in registry.names():
        for key, parser in registry.get(platform).parsers.items():
            assert callable(parser)
            assert list(inspect.signature(parser).parameters) == ["text"], (platform, key)


def test_registry_lookup_with_enum_and_errors():
    assert registry.get(Platform.AIREOS).parser("show_time") is aireos.parse_show_time
    assert registry.get("iosxe").parser("show_clock") is iosxe.parse_show_clock
    with pytest.raises(KeyError, match="show_time"):
        registry.get("aireos").parser("show_nonsense")


def test_registry_expected_keys_present():
    expected = {
        ("aireos", "show_sysinfo"),
        ("aireos", "show_time"),
        ("aireos", "show_ap_summary"),
        ("aireos", "show_ap_image_status"),
        ("aireos", "show_ap_image_all"),
        ("aireos", "show_ap_config_general"),
        ("aireos", "show_certificate_summary"),
        ("aireos", "show_certificate_all"),
        ("iosxe", "show_version"),
        ("iosxe", "show_install_summary"),
        ("iosxe", "show_clock"),
        ("iosxe", "show_ntp_associations"),
        ("iosxe", "show_running_config_ntp"),
        ("iosxe", "show_ap_summary"),
        ("iosxe", "show_ap_image"),
        ("iosxe", "show_wireless_management_trustpoint"),
        ("iosxe", "show_crypto_pki_certificates"),
    }
    assert expected <= {(name, key) for name in registry.names() for key in registry.get(name).parsers}
