"""Normalising raw CLI output before any parser looks at it.

Real captures (and the SSH sessions the bot drives) deliver the same output in
many shapes: CRLF, CR CR LF, lone CR, pager remnants (`--More--` with
backspaces), ANSI escapes, tabs, trailing blanks, the echoed command with its
prompt on the first line and a bare prompt on the last. Every parser calls
`prepare()` first so that each of them sees one canonical shape and the
per-command code only deals with the command's own format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.controllers.parsers.errors import ParseError

# Pager prompts, with the backspace/space/backspace sequence IOS uses to erase
# them and the CR-based erase AireOS uses.
_PAGER_RE = re.compile(
    r"[ \t]*(?:--More--(?:\s*or\s*\(q\)uit)?|<--- More --->)[ \t]*(?:[\x08]+[ \t]*[\x08]*)*",
    re.IGNORECASE,
)
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL_RE = re.compile(r"[\x00-\x07\x08\x0b\x0c\x0e-\x1f\x7f]")

# `(Cisco Controller) >`, `(WLC-01) config>`, `(AireOS WLC)> show time`
_AIREOS_PROMPT_RE = re.compile(r"^\s*\([^()\n]*\)\s*(?:config\s*)?>\s?(?P<cmd>.*)$")
# `9800-L#show ap summary`, `wlc>`, `wlc(config)#`
_IOS_PROMPT_RE = re.compile(r"^\s*[A-Za-z0-9][\w.\-/:]*(?:\([\w.\-]+\))?[#>]\s?(?P<cmd>.*)$")
# A bare echoed command without a prompt (genieparser captures start like that).
_ECHO_RE = re.compile(r"^\s*(?:show|sh)\s+\S", re.IGNORECASE)
# `terminal exec prompt timestamp` noise printed before the output.
_TIMESTAMP_NOISE_RE = re.compile(r"^\s*Load for five secs:", re.IGNORECASE)

# Messages with which the controllers reject a command. Matching is per line
# and anchored so that a location or AP name containing these words in a
# table never triggers it.
_CLI_ERROR_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\s*%\s*Invalid input detected", re.IGNORECASE),
    re.compile(r"^\s*%\s*Incomplete command", re.IGNORECASE),
    re.compile(r"^\s*%\s*Ambiguous command", re.IGNORECASE),
    re.compile(r"^\s*%\s*Unknown command", re.IGNORECASE),
    re.compile(r"^\s*%\s*Unrecognized command", re.IGNORECASE),
    re.compile(r"^\s*%\s*Bad IP address or host name", re.IGNORECASE),
    re.compile(r"^\s*Incorrect usage\b", re.IGNORECASE),
    re.compile(r"^\s*Incorrect input\b", re.IGNORECASE),
    re.compile(r"^\s*Invalid command\b", re.IGNORECASE),
)


_NEWLINES_RE = re.compile(r"\r+\n?")


# The characters `_CONTROL_RE` removes, as bytes (they are all ASCII).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _has_control_characters(text: str) -> bool:
    """Whether `_CONTROL_RE` would remove anything, answered in C (bytes.translate) rather
    than by a regex scan of a megabyte of output."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def normalise_newlines(text: str) -> str:
    """CRLF, CR CR LF and lone CR all become LF (each CR run is one break)."""
    return _NEWLINES_RE.sub("\n", text) if "\r" in text else text


def _is_echo_line(line: str) -> bool:
    """First-line echo: `prompt>command`, `prompt#command` or a bare `show ...`."""
    return bool(_ECHO_RE.match(line) or _AIREOS_PROMPT_RE.match(line) or _IOS_PROMPT_RE.match(line))


def _is_bare_prompt(line: str) -> bool:
    """Last-line prompt with nothing typed after it."""
    for regex in (_AIREOS_PROMPT_RE, _IOS_PROMPT_RE):
        m = regex.match(line)
        if m and not m.group("cmd").strip():
            return True
    return False


def _dedent(lines: list[str]) -> list[str]:
    """Remove indentation common to every non-blank line (some captures are
    pasted indented as a whole); relative indentation is kept."""
    if any(ln[:1] not in ("", " ") for ln in lines):
        return lines  # some line starts at column 0 (the common case: decided at the first such line)
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
    common = min(indents, default=0)
    if not common:
        return lines
    return [ln[common:] if ln.strip() else "" for ln in lines]


def normalise(text: str) -> str:
    """Return `text` as clean LF-separated lines without echo, prompts or pager noise.

    Leading/trailing blank lines are removed, trailing spaces stripped, tabs
    expanded (column positions stay meaningful), the echoed command (with or
    without prompt) dropped from the top and a bare prompt from the bottom.
    """
    if not text:
        return ""
    # Each pass only when its trigger is in the text at all: a 6,000-AP table is a megabyte.
    if "\x1b" in text:
        text = _ANSI_RE.sub("", text)
    if "more" in text.lower():
        text = _PAGER_RE.sub("", text)
    text = normalise_newlines(text)
    if _has_control_characters(text):
        text = _CONTROL_RE.sub("", text)
    lines = [ln.expandtabs(8).rstrip() if "\t" in ln else ln.rstrip() for ln in text.split("\n")]
    if "Load for" in text or "load for" in text.lower():
        lines = [ln for ln in lines if not _TIMESTAMP_NOISE_RE.match(ln)]

    while lines and not lines[0].strip():
        lines.pop(0)
    # The echo may span more than one line when the session echoed a command
    # and then the prompt printed it again (seen with scrapli's return_raw).
    while lines and _is_echo_line(lines[0]):
        lines.pop(0)
        while lines and not lines[0].strip():
            lines.pop(0)
    while lines and (not lines[-1].strip() or _is_bare_prompt(lines[-1])):
        lines.pop()
    return "\n".join(_dedent(lines))


# All of the above in one pass over the text (a 6,000-AP table is 6,000 lines);
# `\s` becomes "a blank within the line", as when each line was matched alone.
_CLI_ERROR_ANY_RE = re.compile(
    "|".join("(?:" + r.pattern.replace(r"\s", r"[^\S\n]") + ")" for r in _CLI_ERROR_RES),
    re.IGNORECASE | re.MULTILINE,
)


def find_cli_error(text: str) -> str | None:
    """The device's own error line, if the output is a rejected command."""
    if "%" not in text:
        lowered = text.lower()
        if "incorrect" not in lowered and "invalid command" not in lowered:
            return None  # none of the messages can be there: no need for the line-by-line search
    m = _CLI_ERROR_ANY_RE.search(normalise_newlines(text))
    if m is None:
        return None
    start = m.string.rfind("\n", 0, m.start()) + 1
    end = m.string.find("\n", m.end())
    return m.string[start : len(m.string) if end < 0 else end].strip()


def prepare(text: str | None, command: str) -> str:
    """Normalise `text` and raise `ParseError` if the device rejected the command.

    Every public parser starts with this, so error detection is uniform.
    """
    if text is None:
        raise ParseError(command, "no output (None)")
    error = find_cli_error(text)
    if error is not None:
        raise ParseError(command, f"device rejected the command: {error}", cli_error=True)
    return normalise(text)


def norm_key(key: str) -> str:
    """`"S/W  Version"` → `"s_w_version"`, `"Total AP's Downloading"` → `"total_aps_downloading"`.

    Keys printed by the controllers vary in spacing, case and punctuation
    between releases; comparing normalised keys keeps parsers release-proof.
    """
    key = key.replace("'", "")
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


_DOTTED_RE = re.compile(r"^\s*(?P<key>\S.*?)\s*\.{3,}\s*:?\s*(?P<value>.*?)\s*$")
_COLON_RE = re.compile(r"^\s*(?P<key>[^:]*?\S)\s*:\s*(?P<value>.*?)\s*$")
_EQUALS_RE = re.compile(r"^\s*(?P<key>[^=]*?\S)\s*=\s*(?P<value>.*?)\s*$")


def _clean_key(key: str) -> str:
    return key.rstrip(" :").strip()


def dotted_pairs(lines: Iterable[str]) -> list[tuple[str, str]]:
    """AireOS `Key........ value` lines as (key, value), in order (dups kept)."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        m = _DOTTED_RE.match(line)
        if m:
            pairs.append((_clean_key(m.group("key")), m.group("value")))
    return pairs


def colon_pairs(lines: Iterable[str]) -> list[tuple[str, str]]:
    """IOS-XE `Key      : value` lines as (key, value), in order (dups kept)."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        m = _COLON_RE.match(line)
        if m:
            pairs.append((_clean_key(m.group("key")), m.group("value")))
    return pairs


def equals_pairs(lines: Iterable[str]) -> list[tuple[str, str]]:
    """AireOS `Key = value` lines (redundancy summary) as (key, value)."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        m = _EQUALS_RE.match(line)
        if m:
            pairs.append((_clean_key(m.group("key")), m.group("value")))
    return pairs


def kv_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Normalised-key dict; the first occurrence of a key wins (later
    repeats are usually sub-sections with the same label)."""
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(norm_key(key), value)
    return out


_INT_RE = re.compile(r"-?[0-9]+")


def int_or_none(value: str | None) -> int | None:
    """`"12"` → 12; `"NA"`, `"X"`, `""`, None → None (placeholders are not zero)."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if _INT_RE.fullmatch(value) else None


def none_if_blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None
