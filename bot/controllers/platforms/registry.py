"""The one place a platform name becomes its `Platform`: `get(name)`.

The shipped platforms are the packages under `bot/controllers/platforms/` that
export a `PLATFORM`; they are found on first use, so adding one is adding its
package. Tests (and plugins) add more with `register`. An unknown name is an
`UnknownPlatform` error, never a fallback to some other platform's behaviour.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import bot.controllers.platforms as _platforms
from bot.controllers.platforms.base import Platform

_lock = threading.RLock()  # re-entrant: a platform package may look others up while it loads
_registered: dict[str, Platform] = {}
_discovered = False


class UnknownPlatform(ValueError):
    """A platform name no package provides (an inventory typo, or a platform not installed)."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown platform '{name}' (known: {', '.join(known) or 'none'})")
        self.name = name
        self.known = known


def _discover() -> None:
    global _discovered
    with _lock:
        if _discovered:
            return
        for info in pkgutil.iter_modules(_platforms.__path__):
            if not info.ispkg:
                continue
            module = importlib.import_module(f"{_platforms.__name__}.{info.name}")
            platform = getattr(module, "PLATFORM", None)
            if isinstance(platform, Platform):
                _registered.setdefault(platform.name, platform)
        _discovered = True


def register(platform: Platform) -> Platform:
    """Add `platform` (a name already taken by another platform is an error); returns it."""
    _discover()
    with _lock:
        existing = _registered.get(platform.name)
        if existing is not None and existing is not platform:
            raise ValueError(f"platform '{platform.name}' is already registered ({existing!r})")
        _registered[platform.name] = platform
    return platform


def unregister(name: str) -> None:
    """Forget a platform `register` added (tests clean up with this)."""
    with _lock:
        _registered.pop(str(name), None)


def get(name: str) -> Platform:
    """The platform called `name` (a `bot.domain.models.Platform` member works too)."""
    _discover()
    try:
        return _registered[str(name)]
    except KeyError:
        raise UnknownPlatform(str(name), names()) from None


def names() -> tuple[str, ...]:
    """Every known platform name, sorted."""
    _discover()
    return tuple(sorted(_registered))
