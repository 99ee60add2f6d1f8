"""A controller's remediation operations, found through its platform, and NTP comparison.

The ops themselves live in each platform's package; this is where the
remediation gives them their change catalog (`changes.yaml`, validated by
`bot.remediation.commands`) and compares NTP servers the way the platform
identifies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from bot.controllers.platforms import registry
from bot.controllers.platforms.base import Platform
from bot.controllers.platforms.remediation_ops import PlatformOps
from bot.domain.models import NtpServer
from bot.remediation.commands import ChangeCatalog, parse_catalog_text


@cache
def catalog_for(platform: Platform) -> ChangeCatalog:
    """The change catalog of `platform`, from its package's `changes.yaml` (cached: it is package data)."""
    text = platform.data_file("changes.yaml").read_text(encoding="utf-8")
    return parse_catalog_text(platform.name, text, f"{platform.package.replace('.', '/')}/changes.yaml")


def ops_for(platform: str) -> PlatformOps:
    """The remediation ops of a `platform` controller; UnknownPlatform if no package provides it."""
    found = registry.get(platform)
    return found.ops(catalog_for(found))


def ntp_differences(ops: PlatformOps, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[str]:
    """What differs between the recorded NTP servers and the device's (empty when identical)."""
    want = [ops.identity(s) for s in record]
    have = [ops.identity(s) for s in current]
    problems = []
    for server in record:
        if ops.identity(server) not in have:
            problems.append(f"missing {ops.describe(server)}")
    for server in current:
        if ops.identity(server) not in want:
            problems.append(f"not in the record: {ops.describe(server)}")
    if not problems and want != have and sorted(want) == sorted(have) and ops.ntp_order_matters:
        problems.append("the NTP server lines are in a different order than recorded")
    return problems
