"""AireOS `show time` on a narrow terminal: the NTP servers a time-back restores, read whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.controllers.parsers import ParseError
from bot.controllers.platforms.aireos import parsers as aireos
from bot.simulator import render_aireos
from bot.simulator.scenario import Scenario
from bot.simulator.wrapping import wrap

CORPUS = Path(__file__).parents[2] / "fixtures" / "corpus"
CAPTURE = CORPUS / "aireos" / "show_time" / "ntc-templates_cisco_wlc_ssh_show_time.raw"


def simulated_show_time() -> str:
    scenario = Scenario.from_dict(
        {
            "controllers": [
                {
                    "name": "wlc-1",
                    "platform": "aireos",
                    "version": "8.10.162.0",
                    "port": 0,
                    "ntp": [
                        {"index": 1, "address": "192.0.2.123", "key": 1},
                        {"index": 2, "address": "198.51.100.123"},
                        {"index": 3, "address": "203.0.113.7"},
                    ],
                    "ntp_keys": {1: "md5 ascii s3cret"},
                }
            ]
        }
    )
    controller, _ = scenario.build()[0]
    return render_aireos.show_time(controller)


def servers(text: str) -> list[tuple[int | None, int | None, str, str | None]]:
    return [(s.index, s.key_index, s.address, s.status) for s in aireos.parse_show_time(text).ntp_servers]


@pytest.mark.parametrize("source", ["simulator", "capture"])
@pytest.mark.parametrize("width", [60, 64, 72, 79, 80, 81, 90, 100, 110])
def test_wrapped_show_time_gives_the_same_servers(source: str, width: int) -> None:
    text = simulated_show_time() if source == "simulator" else CAPTURE.read_text(encoding="utf-8")
    expected = servers(text)
    assert expected and all(status for *_, status in expected)
    wrapped = wrap(text, width)
    assert wrapped != text
    assert servers(wrapped) == expected
    assert aireos.parse_show_time(wrapped).clock.source is aireos.parse_show_time(text).clock.source


def test_a_table_that_cannot_be_joined_back_is_refused_not_guessed() -> None:
    lines = wrap(simulated_show_time(), 80).split("\n")
    row = next(i for i, ln in enumerate(lines) if ln.strip().startswith("2 "))
    broken = "\n".join([*lines[:row], lines[row][:-4], *lines[row + 1 :]])  # a row lost its tail
    with pytest.raises(ParseError, match="narrow terminal"):
        aireos.parse_show_time(broken)
