"""Controller software versions and APSP packages, parsed tolerantly.

Versions arrive however the controller printed them: AireOS `8.10.162.0`,
IOS-XE `17.3.4`, `17.03.04`, `17.3.4a`, `17.07.01prd16`, or the install
build `17.10.01.0.161496`. The fix table compares them, so they must parse
to the same thing whatever the spelling, and anything that does not parse
is `None` (reported as "unknown version"), never a guess.

How each family numbers its releases (which majors, how many parts) is
Cisco's fact and lives in the advisory data (`platforms:` in
`data/advisory.yaml`) as `VersionScheme`s: callers that hold an `Advisory`
pass its schemes; others get the packaged ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import total_ordering

from bot.domain.models import PlatformName

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

# Significant numeric components when no scheme speaks for a version.
_DEFAULT_PARTS = 4


@dataclass(frozen=True)
class VersionScheme:
    """How one controller family numbers its releases (one `platforms:` entry of the advisory data).

    `first_major`..`last_major` (None: no upper bound) tell a family from its version alone;
    `significant_parts` numbers are the release, any more a build (IOS-XE `.0.161496`).
    """

    platform: PlatformName
    first_major: int
    last_major: int | None
    significant_parts: int

    def owns(self, major: int) -> bool:
        return self.first_major <= major and (self.last_major is None or major <= self.last_major)


def packaged_schemes() -> tuple[VersionScheme, ...]:
    """The schemes of the packaged advisory data.

    Imported at call time, not at the top: `bot.domain.advisory_file` (and the
    `advisory_data` it builds) import this module at load time for `Version` and
    `VersionScheme`, and parse their own versions with the file's own schemes, never these;
    a top-level import here would be a load-time cycle.
    """
    from bot.domain.advisory_file import load_advisory

    return load_advisory().version_schemes


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


def infer_platform(version_text: str | None, schemes: Sequence[VersionScheme] | None = None) -> PlatformName | None:
    """The family whose majors include this version's (AireOS 3..8, IOS-XE 16 and up); None if none."""
    parsed = parse_version(version_text, schemes=schemes)
    if parsed is None:
        return None
    scheme = _scheme(schemes, major=parsed.parts[0])
    return scheme.platform if scheme else None


def _scheme(
    schemes: Sequence[VersionScheme] | None, *, platform: str | None = None, major: int = 0
) -> VersionScheme | None:
    """The scheme of `platform`, or (no platform) the one owning `major`."""
    table = packaged_schemes() if schemes is None else schemes
    if platform is not None:
        return next((s for s in table if s.platform == platform), None)
    return next((s for s in table if s.owns(major)), None)


def parse_version(
    text: str | None, platform: PlatformName | None = None, schemes: Sequence[VersionScheme] | None = None
) -> Version | None:
    """Parse the first dotted version in `text`; `None` if there is none.

    Leading zeros are dropped (`17.03.04` == `17.3.4`). With no platform
    given it is inferred from the major number. `schemes` default to the
    packaged advisory data's.
    """
    if not text:
        return None
    match = _VERSION_RE.search(text.strip())
    if match is None:
        return None
    numbers = tuple(int(p) for p in match.group(1).split("."))
    suffix = match.group(2) or ""
    scheme = _scheme(schemes, platform=None if platform is None else str(platform), major=numbers[0])
    keep = scheme.significant_parts if scheme else _DEFAULT_PARTS
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
