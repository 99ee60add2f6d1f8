"""Two-person approval rules, with plain values (no store, no chat)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.approvals import (
    ApprovalPolicy,
    RequestStatus,
    VoteKind,
    Voter,
    conflicts,
    decide_cancel,
    decide_vote,
    expire,
    is_approver,
    new_request,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = ApprovalPolicy(required_approvals=2, approvers=frozenset({"UREQ", "UA", "UB", "SNETOPS"}))


def test_the_full_rule_set_in_order() -> None:
    state = new_request(1, "UREQ", T0, POLICY)
    assert state.expires_at == T0 + timedelta(minutes=60)

    own = decide_vote(state, Voter("UREQ"), VoteKind.APPROVE, T0, POLICY)
    assert not own.accepted and "your own request" in own.reason and own.new_state == state

    outsider = decide_vote(state, Voter("UX", ("SOTHER",)), "approve", T0, POLICY)
    assert not outsider.accepted and "not an approver" in outsider.reason

    first = decide_vote(state, Voter("UA"), "approve", T0, POLICY)
    assert first.accepted and first.approvals_remaining == 1 and not first.approved_now
    again = decide_vote(first.new_state, Voter("UA"), "approve", T0, POLICY)
    assert not again.accepted and "counts once" in again.reason and again.approvals_remaining == 1

    by_group = decide_vote(first.new_state, Voter("UC", ("SNETOPS",)), "approve", T0, POLICY)
    assert by_group.accepted and by_group.approved_now and by_group.approvals_remaining == 0
    assert by_group.new_state.status is RequestStatus.APPROVED
    assert by_group.new_state.approvers == ("UA", "UC")

    late = decide_vote(by_group.new_state, Voter("UB"), "approve", T0, POLICY)
    assert not late.accepted and "already approved" in late.reason and not late.approved_now


def test_any_approver_reject_ends_it_and_outsiders_cannot() -> None:
    state = decide_vote(new_request(1, "UREQ", T0, POLICY), Voter("UA"), "approve", T0, POLICY).new_state
    outsider = decide_vote(state, Voter("UX"), VoteKind.REJECT, T0, POLICY, "not mine to reject")
    assert not outsider.accepted and outsider.new_state.status is RequestStatus.PENDING
    unexplained = decide_vote(state, Voter("UA"), VoteKind.REJECT, T0, POLICY, "  ")
    assert not unexplained.accepted and "needs a reason" in unexplained.reason and "--reason" in unexplained.reason
    assert unexplained.new_state == state
    rejected = decide_vote(state, Voter("UA"), VoteKind.REJECT, T0, POLICY, "wrong controller")  # approved before
    assert rejected.accepted and rejected.ended_now and rejected.new_state.status is RequestStatus.REJECTED
    assert rejected.new_state.rejected_by == "UA"
    after = decide_vote(rejected.new_state, Voter("UB"), "approve", T0, POLICY)
    assert not after.accepted and "rejected by <@UA>" in after.reason


def test_the_requester_may_withdraw() -> None:
    withdrawn = decide_vote(new_request(1, "UREQ", T0, POLICY), Voter("UREQ"), "reject", T0, POLICY, "fixed by hand")
    assert withdrawn.accepted and withdrawn.new_state.status is RequestStatus.REJECTED
    assert "withdrew" in withdrawn.reason


def test_expiry_refuses_clicks_and_says_so() -> None:
    state = new_request(1, "UREQ", T0, POLICY)
    assert expire(state, T0 + timedelta(minutes=59)) is None
    expired = expire(state, T0 + timedelta(minutes=60))
    assert expired is not None and expired.status is RequestStatus.EXPIRED
    click = decide_vote(state, Voter("UA"), "approve", T0 + timedelta(hours=2), POLICY)
    assert not click.accepted and click.ended_now and "expired" in click.reason
    assert click.new_state.status is RequestStatus.EXPIRED


def test_policy_parsing_and_validation() -> None:
    assert ApprovalPolicy.parse_approvers("U0123ABCD, S0456EFGH  U777") == frozenset({"U0123ABCD", "S0456EFGH", "U777"})
    assert ApprovalPolicy.parse_approvers("") == frozenset()
    with pytest.raises(ValueError, match="not Slack user or group IDs"):
        ApprovalPolicy.parse_approvers("U1, <@U2>")
    with pytest.raises(ValueError):
        ApprovalPolicy(required_approvals=0)
    with pytest.raises(ValueError):
        new_request(1, "U", datetime(2026, 1, 1), POLICY)  # naive
    assert is_approver(Voter("UZ", ("SNETOPS",)), POLICY) and not is_approver(Voter("UZ"), POLICY)


def test_conflicts_name_the_busy_controllers() -> None:
    active = {"wlc-1": (4, RequestStatus.RUNNING)}
    assert [c.controller for c in conflicts(["wlc-1", "wlc-2"], active)] == ["wlc-1"]
    assert conflicts(["wlc-2"], active) == []


@given(
    clicks=st.lists(st.tuples(st.sampled_from(["UREQ", "UA", "UB", "UC", "UX"]), st.booleans()), max_size=12),
    required=st.integers(min_value=1, max_value=3),
)
def test_property_approval_needs_distinct_non_requester_approvers(
    clicks: list[tuple[str, bool]], required: int
) -> None:
    policy = ApprovalPolicy(required_approvals=required, approvers=frozenset({"UREQ", "UA", "UB", "UC"}))
    state = new_request(1, "UREQ", T0, policy)
    approved_now = 0
    for user, approve in clicks:
        decision = decide_vote(state, Voter(user), "approve" if approve else "reject", T0, policy, "because")
        approved_now += decision.approved_now
        if not decision.accepted:
            assert decision.reason and decision.new_state.approvals == state.approvals
        state = decision.new_state
        assert "UREQ" not in state.approvers and "UX" not in state.approvers
        assert len(set(state.approvers)) == len(state.approvers) <= required
    assert approved_now == (1 if state.status is RequestStatus.APPROVED else 0)
    if state.status is RequestStatus.APPROVED:
        assert len(state.approvers) == required


def test_an_approval_before_the_window_schedules_instead_of_starting() -> None:
    window = T0 + timedelta(hours=5)
    # the service keeps a request with a window alive past it (expires_at = max(now + ttl, window))
    state = replace(new_request(1, "UREQ", T0, POLICY), scheduled_for=window, expires_at=window + timedelta(hours=1))
    first = decide_vote(state, Voter("UA"), "approve", T0, POLICY)
    second = decide_vote(first.new_state, Voter("UB"), "approve", T0 + timedelta(minutes=1), POLICY)
    assert second.accepted and second.scheduled_now and not second.approved_now
    assert second.new_state.status is RequestStatus.SCHEDULED and "scheduled" in second.reason
    late = decide_vote(second.new_state, Voter("UC"), "approve", T0, POLICY)
    assert not late.accepted and "cancel 1" in late.reason
    # after the window's start an approval starts the run at once
    after = decide_vote(first.new_state, Voter("UB"), "approve", window, POLICY)
    assert after.approved_now and after.new_state.status is RequestStatus.APPROVED


def test_cancel_is_for_the_requester_or_an_approver_before_the_run_starts() -> None:
    pending = new_request(1, "UREQ", T0, POLICY)
    assert decide_cancel(pending, Voter("UREQ"), T0, POLICY).accepted
    assert decide_cancel(pending, Voter("UA"), T0, POLICY).new_state.status is RequestStatus.CANCELLED
    outsider = decide_cancel(pending, Voter("UX"), T0, POLICY)
    assert not outsider.accepted and outsider.new_state == pending and "requester or an approver" in outsider.reason
    scheduled = replace(pending, status=RequestStatus.SCHEDULED, scheduled_for=T0 + timedelta(hours=1))
    assert decide_cancel(scheduled, Voter("UA"), T0, POLICY).accepted
    for status in (RequestStatus.RUNNING, RequestStatus.APPROVED, RequestStatus.NEEDS_ATTENTION):
        started = decide_cancel(replace(pending, status=status), Voter("UA"), T0, POLICY)
        assert not started.accepted and "never" in started.reason
    for status in (RequestStatus.REJECTED, RequestStatus.EXPIRED, RequestStatus.SUCCEEDED, RequestStatus.CANCELLED):
        assert not decide_cancel(replace(pending, status=status), Voter("UA"), T0, POLICY).accepted
