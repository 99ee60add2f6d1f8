"""Access control is policy as data: defaults, per-command rules, groups, bad specs."""

from __future__ import annotations

import pytest

from bot.chat.access import AccessPolicy, AccessSpecError
from bot.chat.reply import Caller

ALICE = Caller("U0ALICE")
BOB_IN_NETOPS = Caller("U0BOB", groups=("S0NETOPS",))


def test_read_only_commands_are_open_by_default() -> None:
    policy = AccessPolicy.parse("")
    for command in ("status", "aps", "advise", "sites", "help"):
        assert policy.allows(command, ALICE)


def test_changing_commands_can_be_limited_to_a_group() -> None:
    # Open by default: a request changes nothing until two approvers (CCERT_APPROVERS) agree.
    assert AccessPolicy.parse("").allows("remediate", ALICE)
    assert not AccessPolicy.parse("").allows("reload", ALICE)
    policy = AccessPolicy.parse("remediate=S0NETOPS")
    assert policy.allows("remediate", BOB_IN_NETOPS)
    assert not policy.allows("remediate", ALICE)


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
