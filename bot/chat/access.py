"""Who may run which /ccert command: a filter every front door passes through.

Like Errbot's command filters, access control is one cross-cutting rule
applied in the dispatcher, not something each listener must remember.
The rule is data from settings (`CCERT_ACCESS`), so changing who may do what
needs no code change.

A command `CCERT_ACCESS` does not name gets its registered default (`access=`
in `bot.chat.registry`): open, always open (`help`), or the approvers'. The
approvers' one today is `remediate`: a request (or its `--dry-run`, which opens
SSH sessions to production controllers to show what would change) is for the
approvers (`CCERT_APPROVERS`) unless `CCERT_ACCESS` names who may ask. The two-person rule would stop anyone else's
request from running, but an open `remediate` let any user hold a
controller's one request slot for the approval TTL and page the approvers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.chat.commands import REGISTRY  # from here, so the bot's own commands are registered
from bot.chat.registry import Access, Registry
from bot.chat.reply import Caller
from bot.domain.approvals import ApprovalPolicy

SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


class AccessSpecError(ValueError):
    pass


@dataclass(frozen=True)
class AccessPolicy:
    """`rules[command]` = allowed user/group IDs, or None for everyone; `approvers` (user
    and group IDs from `CCERT_APPROVERS`) may run the commands registered with
    `Access.APPROVERS` that `rules` does not name. With no approvers those commands are
    closed to everyone. `registry` holds the commands (the bot's own by default)."""

    rules: dict[str, frozenset[str] | None] = field(default_factory=dict)
    approvers: frozenset[str] = frozenset()
    registry: Registry = field(default_factory=lambda: REGISTRY, compare=False, repr=False)

    @classmethod
    def parse(cls, spec: str, approvers: str | Iterable[str] = "", registry: Registry | None = None) -> AccessPolicy:
        """`CCERT_ACCESS` (and `CCERT_APPROVERS`, parsed exactly as the remediation service
        parses it) → a policy; a malformed value raises AccessSpecError naming the setting."""
        commands = REGISTRY if registry is None else registry
        try:
            approver_ids = ApprovalPolicy.parse_approvers(approvers)
        except ValueError as exc:
            raise AccessSpecError(f"CCERT_APPROVERS: {exc}") from exc
        rules: dict[str, frozenset[str] | None] = {}
        for chunk in filter(None, (c.strip() for c in spec.split(";"))):
            if "=" not in chunk:
                raise AccessSpecError(f"CCERT_ACCESS: '{chunk}' should look like 'status,aps=U0123ABCD,S0456'")
            names, who = chunk.split("=", 1)
            ids = [w.strip() for w in who.split(",") if w.strip()]
            allowed: frozenset[str] | None
            if ids == ["*"]:
                allowed = None
            else:
                bad = [i for i in ids if not SLACK_ID.match(i)]
                if bad or not ids:
                    raise AccessSpecError(f"CCERT_ACCESS: {bad or 'nobody'} are not Slack user/group IDs")
                allowed = frozenset(ids)
            for name in (n.strip().lower() for n in names.split(",")):
                if name not in commands:
                    raise AccessSpecError(f"CCERT_ACCESS: '{name}' is not a /ccert command")
                rules[name] = allowed
        return cls(rules, approver_ids, commands)

    def allows(self, command: str, caller: Caller) -> bool:
        spec = self.registry.get(command)
        if spec is None:
            return False
        if spec.access is Access.ALWAYS:
            return True
        if command in self.rules:
            allowed = self.rules[command]
            return allowed is None or _named(caller, allowed)
        if spec.access is Access.APPROVERS:
            return _named(caller, self.approvers)
        # Other unnamed commands are open: read-only ones change nothing, and a vote
        # (approve/reject) is checked against CCERT_APPROVERS by the remediation service.
        return True


def _named(caller: Caller, ids: frozenset[str]) -> bool:
    """The caller's user ID, or one of their user groups, is among `ids`."""
    return caller.user_id in ids or any(g in ids for g in caller.groups)
