"""Random `/ccert` text as Slack would sign and send it, through the whole stack: the front door,
the real dispatcher, the fake Web API, a simulated controller. Every text is sent twice with
the same signature (a replay), and typed by someone who is neither named in CCERT_ACCESS nor
an approver. Seeded, so a failure reproduces.

For every text: the first send is acknowledged (200), the replay is refused (409) and runs
nothing; nothing the bot sends back holds a control or format character; text over the
4,000-character cap is refused at once. At the end no remediation request exists and the
controller's NTP and clock were never touched."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bot.chat.text import MAX_COMMAND_CHARS, printable
from tests.remediation.remediation_helpers import ntp_config
from tests.support import slack_signing
from tests.support.simulated_site import aireos
from tests.support.slack_bot import SIGNING_SECRET, SlackBotHarness, slack_bot

OUTSIDER = "U0MALLORY"
WORDS = (
    "status",
    "STATUS",
    "aps",
    "advise",
    "remediate",
    "approve",
    "audit",
    "history",
    "help",
    "sites",
    "site-t",
    "wlc-1",
    "all",
    "--dry-run",
    "--state",
    "Downloading",
    "1",
    "#2",
    "'",
    '"',
    "\\",
    "'site-t'",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\x00",
    "\x07",
    "\x7f",
    "\u202e",
    "\u0085",
    "\u200b",
    "\ufeff",
    "\u2028",
    "é",
    "☃",
    "<@U0ADMIN>",
)


def _texts(seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8))) for _ in range(30)]
    for length in (MAX_COMMAND_CHARS - 1, MAX_COMMAND_CHARS, MAX_COMMAND_CHARS + 1, 20_000):
        padding = "".join(rng.choice("ab \x1b\u202e'") for _ in range(length))
        texts.append(("status site-t " + padding)[:length])
    return texts


def _invisible(text: str) -> bool:
    return printable(text, keep_newlines=True) != text


def _sent_back(h: SlackBotHarness) -> list[str]:
    """Every text the bot sent to Slack, decoded from JSON (escapes would hide the characters)."""
    return [json.dumps(c.body, ensure_ascii=False) for c in h.slack.calls if c.method != "auth.test"]


async def test_random_signed_commands_replayed_by_an_outsider_change_nothing(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers="U0ALICE,U0BOB") as h:
        wlc = h.site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        for text in _texts():
            request = slack_signing.slash_command(
                SIGNING_SECRET, text, user_id=OUTSIDER, response_url=h.slack.response_url()
            )
            status, body, elapsed = await h.send(request)
            assert status == 200 and elapsed < 3, (text[:60], status, body)
            assert not _invisible(json.dumps(body, ensure_ascii=False)), text[:60]
            if len(text) > MAX_COMMAND_CHARS:
                assert "at most 4,000" in json.dumps(body), text[:60]
            replay_status, replay_body, _ = await h.send(request)
            assert replay_status == 409 and "Traceback" not in str(replay_body)
        assert await h.bot.tasks.wait_idle(30)
        for sent in _sent_back(h):
            assert not _invisible(sent.replace("\\n", "")), sent[:200]
        assert await h.runtime.remediation.store.read(_requests) == 0
        assert ntp_config(wlc) == before and wlc.clock_source == "ntp"


def _requests(db) -> int:  # type: ignore[no-untyped-def]
    return int(db.execute("SELECT COUNT(*) FROM remediation_requests").fetchone()[0])
