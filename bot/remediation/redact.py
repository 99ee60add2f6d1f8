"""Remove secrets from command text and output before they reach the audit.

The audit keeps every command a run sent and what the controller answered,
forever and append-only, so anything secret in it could never be taken out
again: redaction must happen before the write. The patterns cover what the
commands a time-back sends or reads can print (NTP key material on both
platforms) and the usual suspects of a running-config, in case a filter
lets more through than planned.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # IOS-XE: ntp authentication-key 1 md5 0822455D0A16 7
    (re.compile(r"(\bntp\s+authentication-key\s+\d+\s+\S+\s+)\S+(\s+\d+)?", re.I), rf"\g<1>{REDACTED}"),
    # AireOS: config time ntp key-auth add 1 md5 ascii s3cret
    (re.compile(r"(\bkey-auth\s+add\s+\d+\s+\S+\s+\S+\s+)\S+", re.I), rf"\g<1>{REDACTED}"),
    # password / secret lines (IOS `username x secret 9 $...`, `enable password 7 ...`)
    (re.compile(r"(\b(?:password|passwd|secret)\s+(?:\d{1,2}\s+)?)\S+", re.I), rf"\g<1>{REDACTED}"),
    # AAA server keys, pre-shared keys, SNMP communities
    (
        re.compile(r"(\b(?:radius-server|tacacs-server|server-private)\b[^\n]*?\bkey\s+(?:[067]\s+)?)\S+", re.I),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"(\bkey\s+[67]\s+)\S+", re.I), rf"\g<1>{REDACTED}"),
    (re.compile(r"(\bpre-shared-key\s+(?:\S+\s+)?)\S+", re.I), rf"\g<1>{REDACTED}"),
    (re.compile(r"(\bsnmp-server\s+community\s+)\S+", re.I), rf"\g<1>{REDACTED}"),
    # AireOS `show run-config` style: "Shared Secret.......... ****" / "Key......... abc"
    (re.compile(r"^(\s*(?:Shared Secret|Key Value|Secret)\.*\s*)\S.*$", re.I | re.M), rf"\g<1>{REDACTED}"),
)


def redact(text: str | None) -> str:
    """`text` with every secret we know how to spot replaced by `<redacted>`."""
    if not text:
        return text or ""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
