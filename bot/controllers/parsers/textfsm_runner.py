"""Running TextFSM templates: our own (package data) and ntc-templates' shipped ones.

Templates are data (architecture: "device knowledge is data"), so they live
under `bot/controllers/platforms/<platform>/*.textfsm` and can be fixed
without touching parser code. ntc-templates is used only for commands where
its template passes every capture in our corpus (see the parser modules for
which); it is looked up by file name rather than through its clitable index,
which is slow to load and prefix-matches platforms in surprising ways
(`cisco_ios` serving the 9800).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import textfsm

_PLATFORMS_DIR = Path(__file__).resolve().parent.parent / "platforms"


class TemplateError(RuntimeError):
    """A template is missing or the FSM rejected the text (`-> Error` rule)."""


@lru_cache(maxsize=64)
def _template_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc


@lru_cache(maxsize=64)
def _fsm(path: str) -> textfsm.TextFSM:
    """The compiled template: building one costs about a millisecond, more than most parses."""
    source = _template_text(path)
    try:
        return textfsm.TextFSM(io.StringIO(source))
    except textfsm.TextFSMError as exc:
        raise TemplateError(f"{Path(path).name}: {exc}") from exc


def run_template_file(path: Path | str, text: str) -> list[dict[str, str | list[str]]]:
    """Parse `text` with the template at `path`; keys are lower-case value names.

    One compiled FSM per template, reset before each parse (TextFSM objects keep state
    between parses). Parsers run on one thread at a time (the event loop, or one worker
    process each), so the shared FSM is never used by two parses at once.
    """
    fsm = _fsm(str(path))
    fsm.Reset()
    try:
        rows = fsm.ParseTextToDicts(text)
    except textfsm.TextFSMError as exc:
        raise TemplateError(f"{Path(path).name}: {exc}") from exc
    finally:
        fsm.Reset()
    return [{key.lower(): value for key, value in row.items()} for row in rows]


def own_template_path(platform: str, name: str) -> Path:
    """Path of one of our templates, e.g. (`iosxe`, `show_clock`)."""
    return _PLATFORMS_DIR / platform / f"{name}.textfsm"


def run_own_template(platform: str, name: str, text: str) -> list[dict[str, str | list[str]]]:
    return run_template_file(own_template_path(platform, name), text)


@lru_cache(maxsize=1)
def _ntc_templates_dir() -> Path:
    try:
        import ntc_templates
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise TemplateError("ntc-templates is not installed") from exc
    return Path(ntc_templates.__file__).resolve().parent / "templates"


def ntc_template_path(platform: str, command: str) -> Path:
    """ntc-templates file for e.g. (`cisco_ios`, `show version`)."""
    return _ntc_templates_dir() / f"{platform}_{command.replace(' ', '_')}.textfsm"


def run_ntc_template(platform: str, command: str, text: str) -> list[dict[str, str | list[str]]]:
    path = ntc_template_path(platform, command)
    if not path.exists():
        raise TemplateError(f"ntc-templates has no template {path.name}")
    return run_template_file(path, text)
