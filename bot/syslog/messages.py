"""Syslog message parsing: RFC 3164 (BSD) and RFC 5424, as Cisco APs really send them.

Why a parser of our own: the maintained Python packages each cover one RFC
and are strict (or slow: a parser-generator at ~4k messages/s), while what
matters here is tolerance of the AP's quirks:

- the AP's own console timestamp inside the message, `*Dec 6 21:35:24.327:`
  (`*` = clock not synchronised, `.` = synchronised once, lost since);
- BSD dates with a padded day (`Dec  6`), optional milliseconds, year, zone;
- no PRI at all, no hostname at all, a Cisco sequence number (`52: `), a
  Cisco origin-id (`AP3702-1: *Dec 6 ...`);
- truncated datagrams and bytes that are not UTF-8.

`parse_message` never raises: anything it cannot make sense of becomes text,
and only input that is empty, mostly binary, or starts with a broken PRI is
flagged `malformed` (the listener counts and drops those). Output is bounded:
the input is cut to `max_bytes` and every field to a fixed length, so a
hostile datagram cannot make a big object.

Times: the header and AP timestamps are kept as text (and, for RFC 5424, as a
datetime) for display only. Correlation uses the receive time, never the
AP's clock: the AP takes its time from the controller, which during a
time-back is deliberately in 2022.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DEFAULT_MAX_BYTES = 8192
MAX_HOSTNAME = 255
MAX_TOKEN = 64
MAX_STRUCTURED_DATA = 2048

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"

# `*Dec 6 21:35:24.327:` / `.Dec  6 2022 21:35:24.327 UTC:` — the AP/IOS console stamp (ends with a colon).
_DEVICE_TIME = re.compile(
    rf"(?P<mark>[*.])?(?P<stamp>(?:{_MONTHS})\s{{1,2}}\d{{1,2}}\s+(?:\d{{4}}\s+)?\d{{1,2}}:\d{{2}}:\d{{2}}"
    r"(?P<frac>\.\d{1,6})?(?:\s+(?P<tz>[A-Za-z]{2,5}))?):\s*",
    re.IGNORECASE,
)
# `Dec  6 08:47:20` — the BSD header timestamp (no trailing colon).
_BSD_TIME = re.compile(
    rf"(?P<stamp>(?:{_MONTHS})\s{{1,2}}\d{{1,2}}\s+(?:\d{{4}}\s+)?\d{{1,2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,6}})?)(?:\s+|$)",
    re.IGNORECASE,
)
# Some BSD senders put an RFC 3339 stamp in the header instead.
_ISO_TIME = re.compile(r"(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)(?:\s+|$)")
_SEQUENCE = re.compile(r"(?P<seq>\d{1,10}):\s+")
_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,254}")
_TAG = re.compile(r"(?P<tag>[A-Za-z0-9_./\-]{1,48})(?:\[(?P<pid>[^\]\s]{0,32})\])?:(?:\s|$)")
_MNEMONIC = re.compile(r"%(?P<mnemonic>[A-Z0-9_]{1,32}-\d-[A-Z0-9_]{1,64})(?::|\s|$)")
_RFC5424_VERSION = re.compile(r"(?P<version>[1-9]\d{0,2}) ")

# C0 controls (but tab) and DEL become spaces: AP text ends up in Slack and logs,
# where a stray escape or carriage return must not rewrite what a reader sees.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
_CONTROLS = {c: " " for c in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F)}


class MessageFormat(StrEnum):
    RFC5424 = "rfc5424"
    RFC3164 = "rfc3164"
    BARE = "bare"  # no syslog header at all: a console line as is


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One parsed message; every field optional because real senders omit any of them.

    `text` is the message content with the AP's console timestamp removed
    (what the signatures match); `device_time` is that stamp as printed and
    `clock_unsynced` its `*` marker. `malformed` names why the listener
    should drop the message (`empty`, `binary`, `bad_pri`), None otherwise.
    """

    format: MessageFormat
    text: str
    facility: int | None = None
    severity: int | None = None
    timestamp: str | None = None
    timestamp_dt: datetime | None = None
    hostname: str | None = None
    app_name: str | None = None
    procid: str | None = None
    msgid: str | None = None
    structured_data: str | None = None
    sequence: int | None = None
    device_time: str | None = None
    clock_unsynced: bool | None = None
    mnemonic: str | None = None
    truncated: bool = False
    malformed: str | None = None
    raw_length: int = 0
    problems: tuple[str, ...] = field(default=())


def decode(data: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, bool]:
    """Bytes to text, never failing: cut to `max_bytes`, UTF-8 with replacement.

    A cut can split a multi-byte character; the replacement character marks
    it, which is the honest thing to show.
    """
    if isinstance(data, str):
        truncated = len(data) > max_bytes
        return (data[:max_bytes] if truncated else data), truncated
    truncated = len(data) > max_bytes
    raw = bytes(data[:max_bytes]) if truncated else bytes(data)
    return raw.decode("utf-8", "replace"), truncated


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value[:limit]


def _nil(value: str | None) -> str | None:
    return None if value in (None, "", "-") else value


def _looks_binary(text: str) -> bool:
    """Mostly replacement or control characters: not a log line anyone wrote."""
    if not text:
        return False
    sample = text[:512]
    return len(_BINARY.findall(sample)) * 4 >= len(sample)


def _parse_pri(text: str) -> tuple[int | None, str, str | None]:
    """`<13>rest` → (13, rest, None). No PRI → (None, text, None).

    A `<` followed by a digit that is not a valid PRI (`<999>`, `<12` cut
    short) is a broken header: (None, text, "bad_pri").
    """
    if not text.startswith("<"):
        return None, text, None
    end = text.find(">", 1, 5)
    if end == -1:
        if len(text) > 1 and text[1].isdigit():
            return None, text, "bad_pri"
        return None, text, None
    digits = text[1:end]
    if not digits.isdigit() or not digits.isascii():
        if digits[:1].isdigit():
            return None, text, "bad_pri"
        return None, text, None
    value = int(digits)
    if value > 191:
        return None, text, "bad_pri"
    return value, text[end + 1 :], None


def _split_device_time(content: str) -> tuple[str | None, bool | None, str]:
    """Take the AP/IOS console timestamp off the front of the content, if there is one.

    A zone after a time without milliseconds or a `*`/`.` marker is not taken:
    `Dec 6 08:47:20 WLC: ...` is a header and a hostname, not a stamp in zone WLC.
    """
    m = _DEVICE_TIME.match(content)
    if m is None:
        return None, None, content
    if m.group("tz") and not (m.group("mark") or m.group("frac")):
        return None, None, content
    mark = m.group("mark")
    return m.group("stamp"), (mark == "*") if mark else False, content[m.end() :]


def _mnemonic(text: str) -> str | None:
    idx = text.find("%")
    if idx == -1 or idx > 200:
        return None
    m = _MNEMONIC.match(text, idx)
    return m.group("mnemonic") if m else None


def _finish(
    fmt: MessageFormat,
    content: str,
    *,
    max_text: int,
    **fields: object,
) -> SyslogMessage:
    device_time, unsynced, text = _split_device_time(content.lstrip())
    text = text.strip()
    tag = _TAG.match(text) if fields.get("app_name") is None and fmt is not MessageFormat.RFC5424 else None
    if tag is not None and not text.startswith("%"):
        fields["app_name"] = tag.group("tag")
        fields["procid"] = _clip(tag.group("pid"), MAX_TOKEN)
    text = text[:max_text]
    return SyslogMessage(
        format=fmt,
        text=text,
        device_time=device_time,
        clock_unsynced=unsynced,
        mnemonic=_mnemonic(text),
        **fields,  # type: ignore[arg-type]
    )


def _parse_structured_data(rest: str) -> tuple[str | None, str, bool]:
    """RFC 5424 STRUCTURED-DATA: `-` or `[id k="v" ...]...`, with `\\"`, `\\\\`, `\\]` escapes.

    Returns (sd, remaining message, ok). On a broken element everything left
    is taken as the message (ok=False): losing the SD beats losing the text.
    """
    if rest.startswith("-"):
        return None, rest[2:] if rest.startswith("- ") else rest[1:], True
    if not rest.startswith("["):
        return None, rest, False
    i = 0
    n = len(rest)
    while i < n and rest[i] == "[":
        in_quotes = False
        j = i + 1
        closed = False
        while j < n:
            ch = rest[j]
            if in_quotes:
                if ch == "\\":
                    j += 2
                    continue
                if ch == '"':
                    in_quotes = False
            elif ch == '"':
                in_quotes = True
            elif ch == "]":
                closed = True
                break
            j += 1
        if not closed:
            return None, rest, False
        i = j + 1
    sd = rest[:i]
    msg = rest[i:]
    if msg.startswith(" "):
        msg = msg[1:]
    return sd, msg, True


def _parse_iso(stamp: str) -> datetime | None:
    try:
        value = stamp.replace("Z", "+00:00").replace("z", "+00:00")
        # Python 3.11 accepts at most 6 fractional digits.
        if "." in value:
            head, _, tail = value.partition(".")
            digits = len(tail) - len(tail.lstrip("0123456789"))
            tail = tail[: min(digits, 6)] + tail[digits:]
            value = f"{head}.{tail}" if tail and tail[0].isdigit() else head + tail
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _parse_5424(rest: str, pri: int, max_text: int, base: dict[str, object]) -> SyslogMessage | None:
    """`VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`, tolerating short headers."""
    m = _RFC5424_VERSION.match(rest)
    if m is None:
        return None
    after = rest[m.end() :]
    first = after.split(" ", 1)[0]
    if first != "-" and _ISO_TIME.match(first) is None:
        return None
    parts = after.split(" ", 5)
    while len(parts) < 6:
        parts.append("")
    stamp, host, app, procid, msgid, remainder = parts
    sd, msg, ok = _parse_structured_data(remainder)
    problems = () if ok else ("structured_data",)
    if msg.startswith("\ufeff"):
        msg = msg[1:]
    return _finish(
        MessageFormat.RFC5424,
        msg,
        max_text=max_text,
        facility=pri >> 3,
        severity=pri & 7,
        timestamp=_clip(_nil(stamp), MAX_TOKEN),
        timestamp_dt=_parse_iso(stamp) if _nil(stamp) else None,
        hostname=_clip(_nil(host), MAX_HOSTNAME),
        app_name=_clip(_nil(app), 48),
        procid=_clip(_nil(procid), 128),
        msgid=_clip(_nil(msgid), 32),
        structured_data=_clip(sd, MAX_STRUCTURED_DATA),
        problems=problems,
        **base,
    )


def _looks_like_cisco_body(text: str) -> bool:
    """What follows a Cisco origin-id: a console stamp or a `%FAC-SEV-MNEMONIC`."""
    return text.startswith("%") or _DEVICE_TIME.match(text) is not None


def _parse_3164(rest: str, pri: int | None, max_text: int, base: dict[str, object]) -> SyslogMessage:
    fields: dict[str, object] = dict(base)
    if pri is not None:
        fields["facility"] = pri >> 3
        fields["severity"] = pri & 7
    seq = _SEQUENCE.match(rest)
    if seq is not None:
        fields["sequence"] = int(seq.group("seq"))
        rest = rest[seq.end() :]

    # A console line sent as is: the AP stamp (with its colon) comes first.
    if _DEVICE_TIME.match(rest) is not None:
        device_time, _, _ = _split_device_time(rest)
        if device_time is not None:
            fmt = MessageFormat.RFC3164 if pri is not None else MessageFormat.BARE
            return _finish(fmt, rest, max_text=max_text, **fields)

    header = _BSD_TIME.match(rest) or _ISO_TIME.match(rest)
    if header is not None:
        stamp = header.group("stamp")
        fields["timestamp"] = _clip(stamp, MAX_TOKEN)
        if "T" in stamp:
            fields["timestamp_dt"] = _parse_iso(stamp)
        rest = rest[header.end() :]

    token, _, after = rest.partition(" ")
    after = after.lstrip(" ")
    if token.endswith(":") and len(token) > 1:
        name = token[:-1]
        if "[" not in name and _HOSTNAME.fullmatch(name) and _looks_like_cisco_body(after):
            fields["hostname"] = _clip(name, MAX_HOSTNAME)  # Cisco origin-id: `AP3702-1: *Dec 6 ...`
            rest = after
    elif (
        header is not None
        and token
        and not token.startswith(("%", "*", "."))
        and _HOSTNAME.fullmatch(token) is not None
    ):
        fields["hostname"] = _clip(token, MAX_HOSTNAME)
        rest = after
    fmt = MessageFormat.RFC3164 if (pri is not None or header is not None) else MessageFormat.BARE
    return _finish(fmt, rest, max_text=max_text, **fields)


def parse_message(
    data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_text: int | None = None
) -> SyslogMessage:
    """Parse one datagram or frame. Never raises; output bounded by `max_bytes`.

    RFC 5424 is recognised by its VERSION after the PRI (`<11>1 2022-...`),
    everything else is read as BSD syslog with Cisco's variations.
    """
    max_text = max_bytes if max_text is None else max_text
    try:
        text, truncated = decode(data, max_bytes)
        base: dict[str, object] = {"truncated": truncated, "raw_length": len(data)}
        binary = _looks_binary(text)
        text = text.translate(_CONTROLS).strip()
        if not text:
            return SyslogMessage(MessageFormat.BARE, "", malformed="empty", **base)  # type: ignore[arg-type]
        if binary:
            return SyslogMessage(MessageFormat.BARE, text[:max_text], malformed="binary", **base)  # type: ignore[arg-type]
        pri, rest, problem = _parse_pri(text)
        if problem is not None:
            return SyslogMessage(MessageFormat.BARE, text[:max_text], malformed=problem, **base)  # type: ignore[arg-type]
        rest = rest.lstrip(" ")
        if pri is not None:
            parsed = _parse_5424(rest, pri, max_text, base)
            if parsed is not None:
                return parsed
        return _parse_3164(rest, pri, max_text, base)
    except Exception:  # pragma: no cover - the fuzz test keeps this unreachable; never let a datagram crash us
        return SyslogMessage(MessageFormat.BARE, "", malformed="internal", raw_length=len(data))


__all__ = ["DEFAULT_MAX_BYTES", "MessageFormat", "SyslogMessage", "decode", "parse_message"]
