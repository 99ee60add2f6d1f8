"""AP summary and AP image tables, shared by AireOS and IOS-XE.

Both platforms print the same families of tables with different column sets
(three `show ap summary` layouts on AireOS, two on the 9800, several image
tables). The layouts are told apart by their header, not by platform or
release, so one header-driven reader handles all of them and any future
variant with known column names (see `tables.py` for how rows are fitted).
"""

from __future__ import annotations

import re

from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.results import ApImageEntry, ApImageReport, ApSummary, ApSummaryRow
from bot.controllers.parsers.tables import (
    Column,
    ColumnSpec,
    Token,
    estimate_shift,
    fit_row,
    is_bracketed,
    is_count_or_placeholder,
    is_country,
    is_int,
    is_ip,
    is_mac,
    is_regdomain,
    is_text,
    is_token,
    is_version_or_placeholder,
    scan_header,
    scan_two_line_header,
    tokenize,
)
from bot.controllers.parsers.text import colon_pairs, dotted_pairs, int_or_none, norm_key

AP_SUMMARY_VOCABULARY: tuple[ColumnSpec, ...] = (
    ColumnSpec("AP Name", "name", is_text, multi=True, required=True),
    ColumnSpec("Slots", "slots", is_int),
    ColumnSpec("AP Model", "model", is_token),
    ColumnSpec("Ethernet MAC", "mac", is_mac),
    ColumnSpec("Radio MAC", "radio_mac", is_mac),
    ColumnSpec("DSE Location", "dse_location", is_bracketed, multi=True),
    ColumnSpec("Location", "location", is_text, multi=True),
    ColumnSpec("Country", "country", is_country),
    ColumnSpec("CC", "country", is_country),
    ColumnSpec("RD", "regulatory_domain", is_regdomain),
    ColumnSpec("IP Address", "ip", is_ip),
    ColumnSpec("Clients", "clients", is_int),
    ColumnSpec("Port", "port", is_token),
    ColumnSpec("Priority", "priority", is_int),
    # A state is kept verbatim, whatever it says, possibly several words.
    ColumnSpec("State", "state", is_text, multi=True),
)

AP_IMAGE_VOCABULARY: tuple[ColumnSpec, ...] = (
    ColumnSpec("AP Name", "name", is_text, multi=True, required=True),
    ColumnSpec("Primary Image", "primary_image", is_version_or_placeholder),
    ColumnSpec("Backup Image", "backup_image", is_version_or_placeholder),
    ColumnSpec("Download Status", "download_status", is_text, multi=True),
    ColumnSpec("Predownload Status", "predownload_status", is_text, multi=True),
    ColumnSpec("Predownload Version", "predownload_version", is_version_or_placeholder),
    ColumnSpec("Next Retry Time", "next_retry_time", is_token),
    ColumnSpec("Retry Count", "retry_count", is_count_or_placeholder),
    ColumnSpec("Method", "method", is_token),
    ColumnSpec("Flexconnect Predownload", "flexconnect_predownload", is_text, multi=True),
)

_AP_SUMMARY_HEADER_RE = re.compile(r"^\s*AP\s+Name\s+Slots\b", re.IGNORECASE)
_AP_IMAGE_HEADER_RE = re.compile(r"^\s*AP\s+Name\s+Primary\s+Image\b", re.IGNORECASE)
_AP_COUNT_RE = re.compile(r"^\s*Number\s+of\s+(?:Fabric\s+)?APs?\b\s*(?:\.{2,}|:)\s*(?P<count>\d+)\s*$", re.IGNORECASE)
_RULE_RE = re.compile(r"^\s*-{3,}[-\s]*$")
_LEGEND_RE = re.compile(r"^\s*[A-Z]{1,4}\s+=\s+\S")
# Fits of real rows cost < 2 (about 3.5 with two empty cells and an overflowing
# name; see tables.py). A row needing many empty columns and misplaced cells
# to fit is kept but reported as doubtful.
LOW_CONFIDENCE_COST = 5.0
_DOTTED_KV_RE = re.compile(r"^\s*\S.*?\.{4,}(?:\s|$)")
_VERSION_TOKEN_RE = re.compile(r"\d+(?:\.\d+){2,}")

_SUMMARY_FIELDS = {
    "name",
    "slots",
    "model",
    "mac",
    "radio_mac",
    "location",
    "country",
    "regulatory_domain",
    "ip",
    "state",
}
_IMAGE_FIELDS = {
    "name",
    "primary_image",
    "backup_image",
    "download_status",
    "predownload_status",
    "predownload_version",
    "next_retry_time",
    "retry_count",
    "method",
}


def _layout_name(columns: list[Column]) -> str:
    keys = [c.key for c in columns]
    if "regulatory_domain" in keys and "state" in keys:
        return "iosxe-cc-rd"
    if "radio_mac" in keys and keys and keys[-1] == "state":
        return "iosxe-state-last"
    if "clients" in keys or "dse_location" in keys:
        return "aireos-ip-clients"
    if "priority" in keys or "port" in keys:
        return "aireos-port-priority"
    if "ip" in keys and "state" not in keys:
        return "aireos-ip"
    return "unknown"


def _after_slots(toks: list[Token], index: int) -> bool:
    """The Ethernet MAC follows `<slots> <model>`."""
    return index >= 2 and toks[index - 2].text.isdigit()


def _best_effort_summary_row(line: str) -> ApSummaryRow | None:
    """A row no layout fits is still an AP if it carries a MAC or an IP.

    Kept with what can be read (name, MAC, IP) so the AP is never dropped;
    callers see it in `unparsed_lines` too and can flag the controller.
    """
    toks = tokenize(line)
    mac = next((t.text for t in toks[1:] if is_mac(t.text)), None)
    ip = next((t.text for t in toks[1:] if is_ip(t.text)), None)
    if mac is None and ip is None:
        return None
    name = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
    return ApSummaryRow(name=name, mac=mac, ip=ip, raw=line)


def parse_ap_summary(text: str, command: str) -> ApSummary:
    """Read any `show ap summary`-like table (already normalised text)."""
    columns: list[Column] | None = None
    layout = "unknown"
    declared: int | None = None
    rows: list[ApSummaryRow] = []
    unparsed: list[str] = []
    structure = False

    for line in text.split("\n"):
        if not line.strip():
            continue
        count = _AP_COUNT_RE.match(line)
        if count:
            structure = True
            if declared is None:
                declared = int(count.group("count"))
            continue
        if _AP_SUMMARY_HEADER_RE.match(line):
            structure = True
            columns = scan_header(line, AP_SUMMARY_VOCABULARY)
            if layout == "unknown":
                layout = _layout_name(columns)
            continue
        if columns is None or _RULE_RE.match(line) or _LEGEND_RE.match(line) or _DOTTED_KV_RE.search(line):
            continue  # preamble/legend lines, also when a block repeats mid-table
        shift = estimate_shift(line, columns, "mac", is_mac, _after_slots)
        fitted = fit_row(line, columns, shift)
        # Every AP row has a MAC (or at least an IP); a "row" with neither is
        # stray text, and turning it into an AP would invent one.
        if fitted is not None and not ({"mac", "ip"} & fitted.cells.keys()):
            fitted = None
        if fitted is None:
            unparsed.append(line)
            fallback = _best_effort_summary_row(line)
            if fallback is not None:
                rows.append(fallback)
            continue
        if fitted.cost > LOW_CONFIDENCE_COST:
            unparsed.append(line)  # kept below, but flagged: the fit needed many guesses
        cells = fitted.cells
        rows.append(
            ApSummaryRow(
                name=cells["name"],
                slots=int_or_none(cells.get("slots")),
                model=cells.get("model"),
                mac=cells.get("mac"),
                radio_mac=cells.get("radio_mac"),
                location=cells.get("location"),
                country=cells.get("country"),
                regulatory_domain=cells.get("regulatory_domain"),
                ip=cells.get("ip"),
                state=cells.get("state"),
                extra={k: v for k, v in cells.items() if k not in _SUMMARY_FIELDS},
                raw=line,
            )
        )

    if not structure:
        raise ParseError(command, "no AP table header and no AP count in the output")
    return ApSummary(rows=tuple(rows), declared_count=declared, layout=layout, unparsed_lines=tuple(unparsed))


def _image_header_columns(lines: list[str], index: int) -> list[Column]:
    """Columns of the image table header at `lines[index]`, using the line
    above when it carries the first word of split labels (AireOS)."""
    header = lines[index]
    upper = lines[index - 1] if index > 0 else ""
    if _is_upper_header(upper):
        return scan_two_line_header(upper, header, AP_IMAGE_VOCABULARY)
    return scan_header(header, AP_IMAGE_VOCABULARY)


def _is_upper_header(line: str) -> bool:
    """The label-prefix line above a two-line header: deeply indented words only."""
    return bool(line.strip()) and len(line) - len(line.lstrip()) >= 10 and not re.search(r"[:.\d]", line)


def parse_ap_image(text: str, command: str) -> ApImageReport:
    """Read AireOS `show ap image all|status` or 9800 `show ap image` (normalised text)."""
    lines = text.split("\n")
    header_index = next((i for i, ln in enumerate(lines) if _AP_IMAGE_HEADER_RE.match(ln)), None)
    preamble = lines if header_index is None else lines[:header_index]

    counters: dict[str, str] = {}
    for key, value in [*dotted_pairs(preamble), *colon_pairs(preamble)]:
        if value and not key.startswith("-"):
            counters.setdefault(norm_key(key), value)
    total_raw = counters.get("total_number_of_aps")

    if header_index is None and not counters:
        raise ParseError(command, "no AP image counters and no AP image table in the output")

    entries: list[ApImageEntry] = []
    unparsed: list[str] = []
    if header_index is not None:
        columns = _image_header_columns(lines, header_index)
        for i, line in enumerate(lines[header_index + 1 :], start=header_index + 1):
            if not line.strip() or _RULE_RE.match(line):
                continue
            if _AP_IMAGE_HEADER_RE.match(line):  # repeated header
                columns = _image_header_columns(lines, i)
                continue
            if i + 1 < len(lines) and _AP_IMAGE_HEADER_RE.match(lines[i + 1]) and _is_upper_header(line):
                continue  # upper half of a repeated two-line header
            shift = estimate_shift(line, columns, "primary_image", is_version_or_placeholder)
            fitted = fit_row(line, columns, shift)
            if fitted is not None and not ({"primary_image", "backup_image"} & fitted.cells.keys()):
                fitted = None
            if fitted is None:
                unparsed.append(line)
                # Kept (never dropped) when it still names an AP with an image version.
                version = next((t.text for t in tokenize(line)[1:] if _VERSION_TOKEN_RE.fullmatch(t.text)), None)
                if version is not None:
                    name = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
                    entries.append(ApImageEntry(name=name, primary_image=version, raw=line))
                continue
            cells = fitted.cells
            entries.append(
                ApImageEntry(
                    name=cells["name"],
                    primary_image=cells.get("primary_image"),
                    backup_image=cells.get("backup_image"),
                    download_status=cells.get("download_status"),
                    predownload_status=cells.get("predownload_status"),
                    predownload_version=cells.get("predownload_version"),
                    next_retry_time=cells.get("next_retry_time"),
                    retry_count=int_or_none(cells.get("retry_count")),
                    method=cells.get("method"),
                    extra={k: v for k, v in cells.items() if k not in _IMAGE_FIELDS},
                    raw=line,
                )
            )
    return ApImageReport(
        total_aps=int_or_none(total_raw),
        counters=counters,
        entries=tuple(entries),
        unparsed_lines=tuple(unparsed),
    )
