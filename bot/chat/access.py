"""Who may run which /ccert command: a filter every front door passes through.

Like Errbot's command filters, access control is one cross-cutting rule
applied in the dispatcher, not something each listener must remember.
The rule is data from settings (`CCERT_ACCESS`), so changing who may do what
needs no code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.chat.commands import COMMANDS
from bot.chat.reply import Caller

SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


class AccessSpecError(ValueError):
    pass


@dataclass(frozen=True)
class AccessPolicy:
    """`rules[command]` = allowed user/group IDs, or None for everyone."""

    rules: dict[str, frozenset[str] | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> AccessPolicy:
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
                if name not in COMMANDS:
                    raise AccessSpecError(f"CCERT_ACCESS: '{name}' is not a /ccert command")
                rules[name] = allowed
        return cls(rules)

    def allows(self, command: str, caller: Caller) -> bool:
        if command == "help":
            return True
        if command not in self.rules:
            # Unnamed commands are open: read-only ones change nothing, and a remediation
            # request or vote is itself gated by the two-person rule (CCERT_APPROVERS).
            return command in COMMANDS
        allowed = self.rules[command]
        if allowed is None:
            return True
        return caller.user_id in allowed or any(g in allowed for g in caller.groups)
