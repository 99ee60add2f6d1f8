"""Controller software versions and APSP packages, parsed tolerantly.

Versions arrive however the controller printed them: AireOS `8.10.162.0`,
IOS-XE `17.3.4`, `17.03.04`, `17.3.4a`, `17.07.01prd16`, or the install
build `17.10.01.0.161496`. The fix table compares them, so they must parse
to the same thing whatever the spelling, and anything that does not parse
is `None` (reported as "unknown version"), never a guess.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

from bot.domain.models import Platform

# A dotted numeric version somewhere in the text, with an optional suffix
# glued to the last number (`17.3.4a`, `17.07.01prd16`).
# It must stand on its own: digits glued to a build label (`BLD_..._2020-01-04_00.18_mcpre`,
# `16.12.20200104:002126`) are a date or a build number, never a train.
_VERSION_RE = re.compile(r"(?<![\w.\-:])(\d{1,3}(?:\.\d{1,6}){1,5})([A-Za-z][A-Za-z0-9]*)?(?![\w.\-:])")
# Cisco bug ids: `CSC` + two letters + five digits (`CSCwe10047`).
_CSC_RE = re.compile(r"CSC([A-Za-z]{2})(\d{5})", re.IGNORECASE)
# `APSP7`, `apsp 7`, `APSP-7`, `apsp_07` — but not the `.apsp.bin` extension.
_APSP_NUMBER_RE = re.compile(r"APSP[\s_-]?0*(\d{1,3})(?!\d)", re.IGNORECASE)
# The release an APSP file was built for: `...wlc.17.03.06.CSCwe10047...`.
_APSP_RELEASE_RE = re.compile(r"(?<!\d)(1[6-9]\.\d{1,2}\.\d{1,2})(?![\d])")

# How many numeric components are significant per platform. IOS-XE builds
# append `.0.161496`, which is not part of the release.
_SIGNIFICANT_PARTS = {Platform.AIREOS: 4, Platform.IOSXE: 3}


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A parsed controller version.

    `parts` holds the significant numeric components (4 on AireOS, 3 on
    IOS-XE; fewer if the text had fewer). `suffix` is a rebuild letter
    (`a` in `17.3.4a`) or build tag (`prd16`); only a single-letter rebuild
    suffix takes part in ordering, because `17.3.4a` is a later rebuild of
    17.3.4 while a build tag says nothing about order.
    """

    parts: tuple[int, ...]
    suffix: str = ""
    raw: str = field(default="", compare=False)

    @property
    def _key(self) -> tuple[tuple[int, ...], str]:
        padded = self.parts + (0,) * (4 - len(self.parts))
        rebuild = self.suffix if len(self.suffix) == 1 else ""
        return padded, rebuild.lower()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    @property
    def release(self) -> tuple[int, int, int]:
        """The (major, minor, maintenance) triple, e.g. (17, 3, 6)."""
        padded = self.parts + (0,) * (3 - len(self.parts))
        return padded[0], padded[1], padded[2]

    @property
    def train(self) -> tuple[int, int]:
        return self.parts[0], (self.parts[1] if len(self.parts) > 1 else 0)

    def startswith(self, prefix: tuple[int, ...]) -> bool:
        return self.parts[: len(prefix)] == prefix

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts) + self.suffix


def infer_platform(version_text: str | None) -> Platform | None:
    """AireOS majors are 3..8, IOS-XE (Catalyst 9800) majors are 16 and up."""
    parsed = parse_version(version_text)
    if parsed is None:
        return None
    major = parsed.parts[0]
    if 3 <= major <= 8:
        return Platform.AIREOS
    if major >= 16:
        return Platform.IOSXE
    return None


def parse_version(text: str | None, platform: Platform | str | None = None) -> Version | None:
    """Parse the first dotted version in `text`; `None` if there is none.

    Leading zeros are dropped (`17.03.04` == `17.3.4`). With no platform
    given it is inferred from the major number.
    """
    if not text:
        return None
    match = _VERSION_RE.search(text.strip())
    if match is None:
        return None
    numbers = tuple(int(p) for p in match.group(1).split("."))
    suffix = match.group(2) or ""
    plat: Platform | None
    if platform is None:
        plat = Platform.AIREOS if 3 <= numbers[0] <= 8 else Platform.IOSXE if numbers[0] >= 16 else None
    else:
        plat = Platform(platform)
    keep = _SIGNIFICANT_PARTS.get(plat, 4) if plat else 4
    if len(numbers) > keep:
        # a build number after the significant parts: its suffix is not ours
        numbers = numbers[:keep]
        suffix = ""
    return Version(parts=numbers, suffix=suffix, raw=text.strip())


def compare_versions(a: str | Version, b: str | Version) -> int:
    """-1, 0 or 1 like the old `cmp`; raises ValueError on an unparsable version."""
    va = a if isinstance(a, Version) else parse_version(a)
    vb = b if isinstance(b, Version) else parse_version(b)
    if va is None or vb is None:
        raise ValueError(f"cannot compare unparsable versions {a!r} and {b!r}")
    return (va > vb) - (va < vb)


@dataclass(frozen=True)
class Apsp:
    """One installed AP Service Pack as far as its text tells.

    `show install summary` names APSPs by file (`C9800-universalk9_wlc.17.03.06.
    CSCwe10047.SPA.apsp.bin`): a CSC id and a release, rarely a number. An
    operator or a test may also write `APSP7`. Whatever is missing is None.
    """

    raw: str
    number: int | None = None
    csc_ids: tuple[str, ...] = ()
    release: tuple[int, int, int] | None = None


def normalise_csc(text: str) -> str | None:
    """`cscwe10047` -> `CSCwe10047` (Cisco's spelling); None if not a CSC id."""
    match = _CSC_RE.search(text)
    if match is None:
        return None
    return f"CSC{match.group(1).lower()}{match.group(2)}"


def parse_apsp(text: str) -> Apsp:
    """Pull the APSP number, CSC ids and target release out of one APSP string."""
    number_match = _APSP_NUMBER_RE.search(text)
    csc_ids = tuple(f"CSC{m.group(1).lower()}{m.group(2)}" for m in _CSC_RE.finditer(text))
    release_match = _APSP_RELEASE_RE.search(text)
    release: tuple[int, int, int] | None = None
    if release_match:
        a, b, c = (int(p) for p in release_match.group(1).split("."))
        release = (a, b, c)
    return Apsp(
        raw=text,
        number=int(number_match.group(1)) if number_match else None,
        csc_ids=csc_ids,
        release=release,
    )
