"""Access control is policy as data: defaults (remediate closed but to the approvers), per-command
rules, groups, bad specs; typed commands and buttons are refused alike."""

from __future__ import annotations

import pytest

from bot.chat import handlers
from bot.chat.access import AccessPolicy, AccessSpecError
from bot.chat.dispatch import build_dispatcher
from bot.chat.reply import Caller
from bot.settings import load_settings
from tests.chat.chat_stubs import ENV, harness, inventory

ALICE = Caller("U0ALICE")
BOB_IN_NETOPS = Caller("U0BOB", groups=("S0NETOPS",))


def test_read_only_commands_are_open_by_default() -> None:
    policy = AccessPolicy.parse("")
    for command in ("status", "aps", "advise", "sites", "help"):
        assert policy.allows(command, ALICE)


def test_remediate_is_closed_to_everyone_without_approvers() -> None:
    """An open `remediate` let anyone hold a controller's one request slot for the approval TTL."""
    policy = AccessPolicy.parse("")
    assert not policy.allows("remediate", ALICE)
    assert not AccessPolicy().allows("remediate", ALICE), "a hand-built dispatcher's default is closed too"
    assert not policy.allows("reload", ALICE)


def test_remediate_defaults_to_the_approvers_users_and_groups() -> None:
    policy = AccessPolicy.parse("status=*", "U0ALICE, S0NETOPS")
    assert policy.allows("remediate", ALICE)
    assert policy.allows("remediate", BOB_IN_NETOPS)
    assert not policy.allows("remediate", Caller("U0MALLORY"))
    assert not policy.allows("remediate", Caller("U0MALLORY", groups=("S0OTHERS",)))
    # Votes stay open here: the remediation service checks them against CCERT_APPROVERS.
    assert policy.allows("approve", Caller("U0MALLORY")) and policy.allows("reject", Caller("U0MALLORY"))


def test_ccert_access_naming_remediate_wins_over_the_approvers() -> None:
    policy = AccessPolicy.parse("remediate=S0NETOPS", "U0ALICE")
    assert policy.allows("remediate", BOB_IN_NETOPS)
    assert not policy.allows("remediate", ALICE), "an approver not named for remediate may not ask"
    assert AccessPolicy.parse("remediate=*", "U0ALICE").allows("remediate", Caller("U0MALLORY"))


def test_bad_approvers_are_refused_naming_the_setting() -> None:
    with pytest.raises(AccessSpecError, match="CCERT_APPROVERS"):
        AccessPolicy.parse("", "alice, bob")


def test_a_rule_limits_a_read_command_to_users_or_groups() -> None:
    policy = AccessPolicy.parse("status, aps = U0ALICE,S0NETOPS ; advise=*")
    assert policy.allows("status", ALICE)
    assert policy.allows("aps", BOB_IN_NETOPS)
    assert not policy.allows("status", Caller("U0MALLORY"))
    assert policy.allows("advise", Caller("U0MALLORY"))
    assert policy.allows("help", Caller("U0MALLORY"))


@pytest.mark.parametrize("spec", ["status", "status=", "statuz=U0ALICE", "status=alice", "status=U0A;aps"])
def test_bad_specs_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(AccessSpecError) as caught:
        AccessPolicy.parse(spec)
    assert "CCERT_ACCESS" in str(caught.value)


# ------------------------------------------------------------------ through the dispatcher

MALLORY = Caller("U0MALLORY", "C0SITEA001")
APPROVER = Caller("U0ALICE", "C0SITEA001")


@pytest.mark.parametrize(
    ("how", "what"),
    [
        ("typed", "remediate site-a wlc-a1"),
        ("typed", "remediate site-a wlc-a1 --dry-run"),
        ("typed", "remediate site-a"),
        ("button", "timeback_request"),
        ("button", "timeback_dry_run"),
    ],
)
async def test_an_unnamed_user_cannot_open_a_request_or_dry_run(how: str, what: str) -> None:
    h = harness()
    if how == "typed":
        result = await h.dispatcher.dispatch(what, MALLORY)
    else:
        result = await h.dispatcher.handle_action(what, "site-a/wlc-a1", MALLORY)
    assert result.follow_up is None
    assert result.ack == handlers.denied_reply("remediate")
    assert "CCERT_APPROVERS" in result.ack.text and "CCERT_ACCESS" in result.ack.text
    assert h.contacted() == [] and h.remediation.calls == []


@pytest.mark.parametrize("action", ["timeback_request", "timeback_dry_run"])
async def test_an_approver_may_request_when_ccert_access_does_not_name_remediate(action: str) -> None:
    h = harness(access="status=*")
    result = await h.dispatcher.handle_action(action, "site-a/wlc-a1", APPROVER)
    assert result.follow_up is not None
    await result.follow_up()
    expected = "preview" if action == "timeback_dry_run" else "create_request"
    assert [c[:3] for c in h.remediation.calls] == [(expected, "site-a", "wlc-a1")]


async def test_ccert_access_naming_remediate_decides_for_typed_commands_and_buttons() -> None:
    h = harness(access="remediate=U0CARLA")
    for caller in (APPROVER, MALLORY):
        typed = await h.dispatcher.dispatch("remediate site-a wlc-a1", caller)
        clicked = await h.dispatcher.handle_action("timeback_request", "site-a/wlc-a1", caller)
        assert typed.ack == clicked.ack == handlers.denied_reply("remediate")
    assert h.remediation.calls == []
    allowed = await h.dispatcher.dispatch("remediate site-a wlc-a2", Caller("U0CARLA", "C0SITEA001"))
    assert allowed.follow_up is not None
    await allowed.follow_up()
    assert h.remediation.calls == [("create_request", "site-a", "wlc-a2", "U0CARLA")]


async def test_build_dispatcher_reads_the_approvers_from_settings() -> None:
    settings = load_settings(_env_file=None, approvers="U0ALICE U0BOB", access="")
    dispatcher = build_dispatcher(inventory(), settings, ENV)
    assert dispatcher.access.allows("remediate", APPROVER)
    assert not dispatcher.access.allows("remediate", MALLORY)
