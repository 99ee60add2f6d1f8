"""The simulator's command log: every line a session runs, with the login that typed it, and
further login accounts beside the main one (two bots on one controller, told apart)."""

from __future__ import annotations

import time

import pytest
from scrapli.exceptions import ScrapliAuthenticationFailed

from bot.simulator.command_log import CommandLog
from tests.simulator.simtools import aireos_entry, iosxe_entry, scrapli_session, serve


@pytest.mark.parametrize("entry", [aireos_entry, iosxe_entry], ids=["aireos", "iosxe"])
async def test_each_line_is_logged_with_the_login_that_typed_it(entry: object) -> None:
    scenario = entry(accounts={"bot-b": "pass-b"})  # type: ignore[operator]
    name = scenario["name"]
    async with serve(scenario) as sim:
        log = sim.controllers[name].command_log
        started = time.time()
        async with scrapli_session(sim, name) as first:
            await first.send_command("show time" if scenario["platform"] == "aireos" else "show clock")
        async with scrapli_session(sim, name, auth_username="bot-b", auth_password="pass-b") as second:
            await second.send_command("show sysinfo" if scenario["platform"] == "aireos" else "show version")
    main = sim.controllers[name].username
    assert any(e.line in ("show time", "show clock") for e in log.by(main))
    assert any(e.line in ("show sysinfo", "show version") for e in log.by("bot-b"))
    assert not any(e.line in ("show time", "show clock") for e in log.by("bot-b"))
    assert all(started <= e.at <= time.time() and e.peer == "127.0.0.1" for e in log)
    assert not any("pass-b" in e.line for e in log), "a password typed at the login is not a command"


async def test_an_unknown_account_or_a_wrong_password_is_refused() -> None:
    async with serve(iosxe_entry(accounts={"bot-b": "pass-b"})) as sim:
        with pytest.raises(ScrapliAuthenticationFailed):
            async with scrapli_session(sim, "wlc-xe", auth_username="bot-b", auth_password="admin"):
                pass
    assert len(sim.controllers["wlc-xe"].command_log) == 0


def test_the_log_is_bounded_and_calls_its_watcher() -> None:
    seen: list[str] = []
    log = CommandLog(max_lines=3)
    log.watch = lambda entry: seen.append(entry.line)
    for i in range(5):
        log.record("admin", "127.0.0.1", f" show {i} ")
    assert [e.line for e in log] == ["show 2", "show 3", "show 4"]
    assert seen == [f"show {i}" for i in range(5)]
