"""CLI output parsers for AireOS and Catalyst 9800 controllers.

Drivers look parsers up from data: `commands.yaml` (owned by the drivers)
names a command key per platform, and `PARSERS[(platform, key)]` is the pure
function that turns that command's text into model objects. Keys are the
command with spaces as underscores; the platform is `Platform.value`
(`Platform` is a StrEnum, so `PARSERS[(Platform.AIREOS, "show_time")]` works).

All parsers raise only `ParseError`, and only for output that cannot be
trusted (the device rejected the command, or the expected structure is
absent); everything else is read tolerantly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.controllers.parsers import aireos, iosxe
from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.text import find_cli_error, normalise, prepare

Parser = Callable[[str], Any]

PARSERS: dict[tuple[str, str], Parser] = {
    # AireOS
    ("aireos", "show_sysinfo"): aireos.parse_show_sysinfo,
    ("aireos", "show_time"): aireos.parse_show_time,
    ("aireos", "show_ap_summary"): aireos.parse_show_ap_summary_table,
    ("aireos", "show_ap_image_status"): aireos.parse_show_ap_image_status,
    ("aireos", "show_ap_image_all"): aireos.parse_show_ap_image_all,
    ("aireos", "show_ap_config_general"): aireos.parse_show_ap_config_general,
    ("aireos", "show_certificate_summary"): aireos.parse_show_certificate_summary,
    ("aireos", "show_certificate_all"): aireos.parse_show_certificate_all,
    ("aireos", "show_redundancy_summary"): aireos.parse_show_redundancy_summary,
    ("aireos", "show_boot"): aireos.parse_show_boot,
    # IOS-XE / Catalyst 9800
    ("iosxe", "show_version"): iosxe.parse_show_version,
    ("iosxe", "show_install_summary"): iosxe.parse_show_install_summary,
    ("iosxe", "show_clock"): iosxe.parse_show_clock,
    ("iosxe", "show_ntp_associations"): iosxe.parse_show_ntp_associations,
    ("iosxe", "show_running_config_ntp"): iosxe.parse_show_running_config_ntp,
    ("iosxe", "ntp_config"): iosxe.parse_ntp_config,
    ("iosxe", "show_ap_summary"): iosxe.parse_show_ap_summary_table,
    ("iosxe", "show_ap_image"): iosxe.parse_show_ap_image,
    ("iosxe", "show_wireless_management_trustpoint"): iosxe.parse_show_wireless_management_trustpoint,
    ("iosxe", "show_crypto_pki_certificates"): iosxe.parse_show_crypto_pki_certificates,
    ("iosxe", "show_ap_config_general"): iosxe.parse_show_ap_config_general,
    ("iosxe", "show_fabric_ap_summary"): iosxe.parse_show_fabric_ap_summary,
}


def get_parser(platform: str, command_key: str) -> Parser:
    """The parser for (`platform`, `command_key`); KeyError names what exists."""
    try:
        return PARSERS[(str(platform), command_key)]
    except KeyError:
        known = sorted(key for plat, key in PARSERS if plat == str(platform))
        raise KeyError(f"no parser for ({platform!r}, {command_key!r}); known for this platform: {known}") from None


__all__ = [
    "PARSERS",
    "ParseError",
    "Parser",
    "aireos",
    "find_cli_error",
    "get_parser",
    "iosxe",
    "normalise",
    "prepare",
]
