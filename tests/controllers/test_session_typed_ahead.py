"""Poll commands go in one write each and still land on the right command, over real SSH.

The hazard of typing ahead is a stale prompt: one the device printed before the
command (a login prompt printed twice, a stray return) ends the read at once
and every later output lands on the wrong command. The session reads from the
echoed command on, so a stale prompt is dropped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.controllers.platforms import registry
from bot.controllers.session import ControllerSession
from tests.support.simulated_site import aireos, iosxe, session_to, simulated_site


@pytest.mark.parametrize(
    ("factory", "first", "second"),
    [
        (aireos, "show sysinfo", "show time"),
        (iosxe, "show version", "show clock"),
    ],
)
async def test_stale_prompts_before_a_typed_ahead_command_do_not_shift_the_outputs(
    tmp_path: Path, factory, first: str, second: str
) -> None:
    async with simulated_site(tmp_path, factory("wlc-1")) as site:
        async with session_to(ControllerSession, site, "wlc-1", timeout_seconds=10, typed_ahead=False) as plain:
            want_first = (await plain.send(first)).text
            want_second = (await plain.send(second)).text
        async with session_to(ControllerSession, site, "wlc-1", timeout_seconds=10, typed_ahead=True) as fast:
            channel = fast._conn.channel
            for _ in range(3):  # three bare returns nobody reads: three stale prompts in the buffer
                channel.send_return()
            await asyncio.sleep(0.2)
            got_first = await fast.send(first)
            got_second = await fast.send(second)
    assert not got_first.failed and not got_second.failed
    # each output is its own command's, as scrapli's own exchange read it (bar the clock's seconds)
    platform = "aireos" if factory is aireos else "iosxe"
    parse_first = registry.get(platform).parser(first.replace(" ", "_"))
    parse_second = registry.get(platform).parser(second.replace(" ", "_"))
    assert (
        parse_first(got_first.text) == parse_first(want_first)
        or got_first.text.splitlines()[:3] == (want_first.splitlines()[:3])
    )
    assert _clock_day(parse_second(got_second.text)) == _clock_day(parse_second(want_second))
    assert first not in got_first.text and second not in got_second.text  # the echo is not output


def _clock_day(reading: object) -> object:
    """The day and NTP servers of a `show time` / the day of a `show clock` reading."""
    clock = getattr(reading, "clock", reading)
    return clock.time.date(), getattr(reading, "ntp_servers", None)


async def test_a_refused_command_is_failed_when_typed_ahead(tmp_path: Path) -> None:
    async with (
        simulated_site(tmp_path, iosxe("wlc-1")) as site,
        session_to(ControllerSession, site, "wlc-1", timeout_seconds=10, typed_ahead=True) as fast,
    ):
        refused = await fast.send("show no-such-thing")
        after = await fast.send("show clock")
    assert refused.failed and "% Invalid input" in refused.text
    assert not after.failed and "UTC" in after.text
