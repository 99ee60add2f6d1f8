"""Daily digest and /ccert history replies: readable at any fleet size, within Slack limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.chat.digest_views import digest_replies, fmt_change, history_reply
from bot.chat.reply import Level, Reply
from bot.console.render import render_text
from bot.domain.digest import FleetDigest, HistoryRow, SiteDigest, UnfixedController
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus
from bot.slack.render import MAX_BLOCKS, render_messages
from tests.support.fake_slack import block_kit_problems

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def texts(block: dict) -> list[str]:
    out: list[str] = []
    if isinstance(block.get("text"), dict):
        out.append(block["text"]["text"])
    out += [f["text"] for f in block.get("fields", [])]
    out += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return out


def assert_within_slack_limits(reply: Reply) -> list[dict]:
    messages = render_messages(reply)
    for message in messages:
        assert 1 <= len(message["blocks"]) <= MAX_BLOCKS
        assert block_kit_problems(message) == []
        for block in message["blocks"]:
            assert all(len(t) <= 3000 for t in texts(block))
    return messages


def healthy(name: str) -> SiteDigest:
    return SiteDigest(name, controllers_read=5, aps_total=100, affected_aps=20, stuck_aps=0, stuck_aps_yesterday=0)


def big_fleet() -> FleetDigest:
    """100 sites × 5 controllers: a mix of stuck, unreachable, unfixed, critical and healthy sites."""
    sites = []
    for i in range(100):
        name = f"site-{i:03d}"
        if i % 10 == 0:  # 10 stuck sites, more APs stuck at higher i
            unfixed = tuple(
                UnfixedController(
                    f"{name}-wlc{c}", "8.10.162.0", "upgrade to 8.10.183.0 or later", FixState.NOT_FIXED, 8
                )
                for c in range(5)
            )
            sites.append(
                SiteDigest(
                    name,
                    controllers_read=5,
                    aps_total=300,
                    affected_aps=120,
                    at_risk_aps=40,
                    stuck_aps=i + 1,
                    stuck_aps_yesterday=3,
                    unfixed=unfixed,
                )
            )
        elif i % 10 == 1:  # 10 with an unreachable controller
            sites.append(SiteDigest(name, controllers_read=4, controllers_unreachable=1, aps_total=80, affected_aps=10))
        elif i % 10 == 2:  # 10 at risk, many controllers on mixed unfixed versions
            unfixed = tuple(
                UnfixedController(
                    f"{name}-wlc{c}", f"17.3.{c}", f"install APSP7 on 17.3.6 (row {c})", FixState.NOT_FIXED, 2
                )
                for c in range(5)
            )
            sites.append(
                SiteDigest(name, controllers_read=5, aps_total=90, affected_aps=30, at_risk_aps=10, unfixed=unfixed)
            )
        elif i == 3:
            sites.append(
                SiteDigest(name, controllers_read=5, aps_total=50, critical=("wlc-x: no NTP servers configured",))
            )
        else:
            sites.append(healthy(name))
    return FleetDigest(DAY, NOW, tuple(sites))


def test_fmt_change() -> None:
    assert fmt_change(3) == "+3"
    assert fmt_change(-2) == "−2"
    assert fmt_change(0) == "no change"
    assert fmt_change(None) == "n/a"


def test_empty_fleet_is_one_friendly_reply() -> None:
    (reply,) = digest_replies(FleetDigest(DAY, NOW))
    assert "no sites configured" in reply.title
    assert "inventory" in reply.text
    assert_within_slack_limits(reply)


def test_healthy_fleet_is_a_short_all_clear() -> None:
    digest = FleetDigest(DAY, NOW, tuple(healthy(f"s{i}") for i in range(3)))
    (reply,) = digest_replies(digest)
    assert reply.title == "✅ CSCwd80290 daily digest — 2026-11-27: all clear"
    assert reply.level is Level.OK
    text = render_text(reply)
    assert "3 sites · 15 controllers, all read · 300 APs" in text
    assert "Sites: s0, s1, s2" in text
    assert_within_slack_limits(reply)


def test_large_healthy_fleet_does_not_list_every_site() -> None:
    digest = FleetDigest(DAY, NOW, tuple(healthy(f"s{i:03d}") for i in range(100)))
    (reply,) = digest_replies(digest)
    assert "all clear" in reply.title
    assert "s099" not in render_text(reply)


def test_five_hundred_controllers_summary_first_worst_first_and_within_limits() -> None:
    digest = big_fleet()
    replies = digest_replies(digest)
    summary = replies[0]

    # the summary: fleet totals, worst sites first, at most 15 by name, then "and N more"
    assert "daily digest — 2026-11-27" in summary.title
    assert summary.level is Level.DANGER
    table = summary.sections[0].table
    assert table is not None and len(table.rows) == 15
    listed = [row[0] for row in table.rows]
    assert listed[:10] == [f"site-{i:03d}" for i in range(90, -1, -10)]  # stuck sites, most stuck first
    assert listed[10] == "site-003"  # critical finding: right after the stuck sites
    assert table.rows[10][-1] == "🚨 critical"
    assert listed[11:15] == [f"site-{i:03d}" for i in (1, 11, 21, 31)]  # then unreachable
    attention = 10 + 10 + 10 + 1
    text = render_text(summary)
    assert f"…and {attention - 15} more sites needing attention." in text
    assert "69 sites all clear." in text
    # key numbers in the console rendering
    assert "100 sites · 500 controllers (490 read, 10 unreachable)" in text
    stuck_total = sum(i + 1 for i in range(0, 100, 10))
    assert f"Stuck APs: {stuck_total} (+{stuck_total - 30} since yesterday)" in text
    assert "Unfixed software: 100 controllers" in text
    assert "Remediation: 0 open requests · 0 runs in progress" in text
    assert "🚨 1 critical finding (NTP deleted or a clock left set back) at site-003" in text
    assert f"{stuck_total} APs stuck at 10 sites" in summary.title

    # every reply renders within Slack's limits, and the count stays sane
    assert len(replies) <= 10
    for reply in replies:
        assert_within_slack_limits(reply)
    # the first rendered message of the first reply is the summary
    assert render_messages(summary)[0]["blocks"][0]["type"] == "header"

    # the thread covers every site needing attention exactly once, worst first, then the healthy list
    detail_titles = [s.title for r in replies[1:-1] for s in r.sections]
    detail_sites = [t.split(" ")[1] for t in detail_titles]
    assert detail_sites == [s.site for s in digest.needing_attention]
    assert len(detail_sites) == attention
    assert replies[-1].title == "✅ 69 sites all clear"
    assert "site-099" in replies[-1].text


def test_site_detail_has_numbers_change_unfixed_and_critical() -> None:
    digest = big_fleet()
    replies = digest_replies(digest)
    details = "\n".join(render_text(r) for r in replies[1:])
    assert "🛑 site-090 — stuck" in details
    assert "91 (+88 since yesterday)" in details
    assert "site-090-wlc0, site-090-wlc1, site-090-wlc2, site-090-wlc3, site-090-wlc4: 8.10.162.0" in details
    assert "→ upgrade to 8.10.183.0 or later" in details
    assert "🚨 wlc-x: no NTP servers configured" in details
    assert "0 open requests, 0 runs" in details


def test_change_wording_minus_and_no_change() -> None:
    sites = (
        SiteDigest("down", controllers_read=1, stuck_aps=1, stuck_aps_yesterday=3),
        SiteDigest("same", controllers_read=1, stuck_aps=2, stuck_aps_yesterday=2),
    )
    replies = digest_replies(FleetDigest(DAY, NOW, sites))
    rows = {row[0]: row for row in replies[0].sections[0].table.rows}
    assert rows["down"][2] == "−2" and rows["same"][2] == "no change"
    details = render_text(replies[1])
    assert "1 (−2 since yesterday)" in details and "2 (no change since yesterday)" in details


# --------------------------------------------------------------------------- history


def test_history_table_newest_first_with_icons() -> None:
    t0 = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    rows = []
    for n in range(3):
        at = t0 + timedelta(minutes=15 * n)
        rows.append(HistoryRow(at, "wlc-a1", VerdictStatus.STUCK if n else VerdictStatus.AT_RISK, n, 40))
        rows.append(HistoryRow(at + timedelta(seconds=4), "wlc-a2", VerdictStatus.UNREACHABLE, 0, None))
    reply = history_reply("site-a", rows)
    assert reply.title == "🛑 site-a: check history"
    table = reply.sections[0].table
    assert table.rows[0] == ("2026-11-27 05:30", "wlc-a1", "2", "0", "40", "🛑 stuck")
    assert table.rows[1] == ("", "wlc-a2", "0", "0", "–", "🔌 unreachable")  # same check: time shown once
    assert table.rows[-2][-1] == "⚠️ at-risk"
    assert len(table.rows) == 6
    assert "2 APs stuck" in reply.text
    text = render_text(reply)
    assert "wlc-a2" in text and "2026-11-27 05:00" in text
    assert_within_slack_limits(reply)


def test_history_limit_and_empty() -> None:
    t0 = datetime(2026, 11, 27, tzinfo=UTC)
    rows = [HistoryRow(t0 + timedelta(minutes=m), "wlc-1", VerdictStatus.OK, 0, 10) for m in range(200)]
    reply = history_reply("hq", rows, limit=50)
    table_rows = reply.sections[0].table.rows
    assert len(table_rows) == 50
    assert table_rows[0][0] == "2026-11-27 03:19" and table_rows[1][0] == "2026-11-27 03:18"  # one check each
    assert "newest 50 of 200" in reply.text
    assert reply.level is Level.OK
    empty = history_reply("hq", [])
    assert "no checks recorded" in empty.title
