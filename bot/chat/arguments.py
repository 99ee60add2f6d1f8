"""The argument types of `/ccert` subcommands: what a word may be, and the refusal when it is not.

A subcommand declares its arguments in its signature (`sites: SiteOrAll`,
`controller: ControllerOfSite`, `request_id: RequestId`, an `Option` or a
`Flag`), and `Signature.resolve` turns the user's words into those values or
into an `Invalid` with today's words for the user. Each type checks against
the inventory or a fixed rule, so a handler never sees unchecked text: a site
is an inventory site name, a controller one of that site's controllers, a
request id a positive number, an option value one of fixed choices or a match
of its pattern. The one kind of free text is a `Text` option (a reject's reason,
an approval's comment): bounded in length, its whitespace collapsed to single
spaces, never a control character, and never part of a command sent anywhere.

The words themselves come from `bot.chat.text.split_words` (linear time) with
invisible characters removed, so `site-a` pasted with a zero-width space still
names site-a and an escape sequence is never echoed back (`quote`).
"""

from __future__ import annotations

import difflib
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from bot.chat.text import printable, split_words
from bot.inventory import Inventory

REQUEST_ID = re.compile(r"^[1-9][0-9]{0,8}$")
# No command, site or controller name is this long: longer words get no did-you-mean
# (difflib's cost grows with the word, and nothing could be close to it anyway).
MAX_SUGGEST_CHARS = 64


@dataclass(frozen=True)
class Invalid:
    """Why the text is not a command, in words for the user, and a hint."""

    message: str
    suggestion: str | None = None
    show_help: bool = False


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    if len(word) > MAX_SUGGEST_CHARS:
        return None
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def quote(text: str, limit: int = 40) -> str:
    """Echo user text back safely: shortened, no backticks, mentions or invisible characters."""
    cleaned = re.sub(r"[`<>@*_~]", "", printable(text[: limit * 8]))[:limit]
    return f"`{cleaned}`" if cleaned else "that"


_QUOTED_SPACE = re.compile(r"[\t\r\n]")


def words(text: str) -> list[str]:
    """The words of `text`, invisible characters removed; a word that was nothing but
    invisible characters is dropped (an empty quoted word `''` stays). Raises ValueError
    for an unclosed quote. Whitespace inside a quoted word stays whitespace (a space)."""
    out = []
    for raw in split_words(text.strip()):
        # A tab or line break inside a quoted word (a multi-line reason) is a space, not nothing.
        word = printable(_QUOTED_SPACE.sub(" ", raw))
        if word or not raw:
            out.append(word)
    return out


# --------------------------------------------------------------------------- positional arguments


@dataclass(frozen=True)
class Resolved:
    """What a positional argument may look at: the inventory, the usage line for its refusals,
    and the site named before it (for a controller)."""

    inventory: Inventory
    usage: str
    site: str | None = None


class Positional:
    """A word in a fixed place. `sole_word`: the command's only word, options included
    (`approve --x` asks which request, it is not an unknown option); a command that
    declares options of its own (`audit 12 --export`, `reject 12 --reason …`) takes those
    beside it, and any other word or option still asks which one."""

    required = True
    sole_word = False
    default: object = None

    @property
    def placeholder(self) -> str:
        """How the usage line shows it (`<site>`, `[controller]`)."""
        raise NotImplementedError

    def missing(self, usage: str) -> str:
        """The refusal when the command has no word for it (for a `sole_word`, any other count too)."""
        return f"Usage: `{usage}`"

    def resolve(self, word: str, where: Resolved) -> object:
        """The checked value of `word`, or an `Invalid`."""
        raise NotImplementedError


@dataclass(frozen=True)
class SiteArg(Positional):
    """An inventory site (`str`), or with `allow_all` a site or `all` (a tuple of site names)."""

    allow_all: bool = False

    @property
    def placeholder(self) -> str:
        return "<site>|all" if self.allow_all else "<site>"

    def missing(self, usage: str) -> str:
        return f"Which site? Usage: `{usage}`"

    def resolve(self, word: str, where: Resolved) -> object:
        inventory = where.inventory
        if self.allow_all and word.lower() == "all":
            return tuple(inventory.sites)
        if word in inventory.sites:
            return (word,) if self.allow_all else word
        known = sorted(inventory.sites)
        guess = did_you_mean(word, known)
        shown = quote(word)
        if guess:
            return Invalid(f"I don't know a site called {shown}.", f"Did you mean `{guess}`?")
        listing = ", ".join(f"`{k}`" for k in known[:20]) or "none configured"
        return Invalid(f"I don't know a site called {shown}.", f"Known sites: {listing}.")


@dataclass(frozen=True)
class ControllerArg(Positional):
    """One controller of the site named before it (optional: the whole site without it)."""

    required = False

    @property
    def placeholder(self) -> str:
        return "[controller]"

    def resolve(self, word: str, where: Resolved) -> object:
        if where.site is None:
            raise TypeError("a controller argument needs a single site argument before it")
        site = where.inventory.sites[where.site]
        names = [c.name for c in site.controllers]
        if word in names:
            return word
        guess = did_you_mean(word, names)
        hint = f"Did you mean `{guess}`?" if guess else f"Its controllers: {', '.join(names)}."
        return Invalid(f"{quote(word)} is not a controller of site {site.name}.", hint)


@dataclass(frozen=True)
class RequestIdArg(Positional):
    """A remediation request's number, `12` or `#12` (as the request message shows it)."""

    sole_word = True

    @property
    def placeholder(self) -> str:
        return "<request-id>"

    def missing(self, usage: str) -> str:
        return f"Which request? Usage: `{usage}` (the number in the request message, e.g. 12)"

    def resolve(self, word: str, where: Resolved) -> object:
        number = word.lstrip("#")
        if not REQUEST_ID.match(number):
            return Invalid(self.missing(where.usage))
        return int(number)


# --------------------------------------------------------------------------- options and flags


class Named:
    """An argument named by a `--word`, anywhere among the words."""

    flag = ""
    default: object = None

    @property
    def placeholder(self) -> str:
        return f"[{self.flag}]"

    def matches(self, word: str) -> bool:
        return word == self.flag

    def take(self, args: Sequence[str], at: int) -> tuple[object, int]:
        """(the value, or an Invalid; the index of the last word used)."""
        raise NotImplementedError

    def refusal(self, value: object, values: Mapping[str, object]) -> Invalid | None:
        """Checked once every argument is read: why `value` (None when not given) will not do,
        with the other `values` at hand for the words; None when it will."""
        return None


@dataclass(frozen=True)
class Option(Named):
    """`--state Downloading` or `--state=Downloading`: a value from `choices` or matching `pattern`.

    `what` names the value in the refusal (`... is not an AP state (e.g. Downloading, Registered).`),
    `example` shows it in the usage line and in the refusal of a missing value.
    """

    flag: str = ""
    example: str = ""
    what: str = ""
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()

    @property
    def placeholder(self) -> str:
        return f"[{self.flag} {self.example}]"

    def matches(self, word: str) -> bool:
        return word.startswith(self.flag)

    def take(self, args: Sequence[str], at: int) -> tuple[object, int]:
        word = args[at]
        if "=" in word:
            value = word.split("=", 1)[1]
        elif at + 1 < len(args):
            at += 1
            value = args[at]
        else:
            return Invalid(f"`{self.flag}` needs a value, e.g. `{self.flag} {self.example}`."), at
        allowed = value in self.choices if self.choices else True
        if self.pattern is not None and not self.pattern.match(value):
            allowed = False
        if not allowed:
            return Invalid(f"{quote(value)} is not {self.what}."), at
        return value, at


#: The longest reason or comment a vote may carry (the Slack form's own limit, too).
MAX_TEXT_CHARS = 500
_SAYS_SOMETHING = re.compile(r"\w")


def clean_text(value: str) -> str:
    """Free text as the bot keeps it: invisible characters removed, every run of
    whitespace (newlines included) one space, no leading or trailing space."""
    return " ".join(printable(value.replace("\n", " ").replace("\t", " ")).split())


def says_something(value: str) -> bool:
    """True when `value` has a letter or digit: `...` or `-` is no reason."""
    return bool(_SAYS_SOMETHING.search(value))


@dataclass(frozen=True)
class Text(Named):
    """`--reason "wrong controller"`: free text (a vote's reason or comment), at most `max_chars`.

    The value is the word after the flag (quote it) and every word after that up to the
    next `--option`, so `--reason the window is tonight` needs no quotes when it comes last;
    `--reason=...` works too. Its whitespace is collapsed (`clean_text`). Optional text that
    is empty is no text (None). `required` is the refusal when it is missing, empty or says
    nothing (`...`), formatted with the other arguments' values (`{request_id}`), so it can
    say exactly what to type.
    """

    flag: str = ""
    what: str = "text"
    required: str | None = None
    max_chars: int = MAX_TEXT_CHARS

    @property
    def placeholder(self) -> str:
        shown = f'{self.flag} "<{self.what}>"'
        return shown if self.required else f"[{shown}]"

    def matches(self, word: str) -> bool:
        return word == self.flag or word.startswith(self.flag + "=")

    def take(self, args: Sequence[str], at: int) -> tuple[object, int]:
        word = args[at]
        if "=" in word:
            parts = [word.split("=", 1)[1]]
        elif at + 1 < len(args):
            at += 1
            parts = [args[at]]
        else:
            parts = []
        while at + 1 < len(args) and not args[at + 1].startswith("--"):
            at += 1
            parts.append(args[at])
        value = clean_text(" ".join(parts))
        if len(value) > self.max_chars:
            return (
                Invalid(
                    f"The {self.what} is {len(value):,} characters long: at most {self.max_chars:,}, please shorten it."
                ),
                at,
            )
        if not value and self.required is None:
            return None, at
        return value, at

    def refusal(self, value: object, values: Mapping[str, object]) -> Invalid | None:
        if self.required is None or (isinstance(value, str) and says_something(value)):
            return None
        return Invalid(self.required.format(**values))


@dataclass(frozen=True)
class Flag(Named):
    """`--dry-run`: True when given."""

    flag: str = ""
    default: object = False

    def take(self, args: Sequence[str], at: int) -> tuple[object, int]:
        return True, at


# The types a subcommand's signature uses. `Annotated` keeps mypy's view (a site is a `str`)
# and carries the checker the parser runs.
Site = Annotated[str, SiteArg()]
SiteOrAll = Annotated[tuple[str, ...], SiteArg(allow_all=True)]
ControllerOfSite = Annotated[str | None, ControllerArg()]
RequestId = Annotated[int, RequestIdArg()]


# --------------------------------------------------------------------------- a signature


@dataclass(frozen=True)
class Signature:
    """A subcommand's arguments, read from its function's parameters after the context."""

    positionals: tuple[tuple[str, Positional], ...] = ()
    named: tuple[tuple[str, Named], ...] = ()

    @classmethod
    def of(cls, func: Callable[..., Any]) -> Signature:
        """Every parameter after the first (the context) must be annotated with an argument type."""
        hints = typing.get_type_hints(func, include_extras=True)
        positionals: list[tuple[str, Positional]] = []
        named: list[tuple[str, Named]] = []
        for param in list(inspect.signature(func).parameters.values())[1:]:
            kinds = [m for m in getattr(hints.get(param.name), "__metadata__", ()) if isinstance(m, Positional | Named)]
            if len(kinds) != 1:
                raise TypeError(f"{func.__name__}({param.name}): annotate it with one argument type (Site, Option, …)")
            if isinstance(kinds[0], Positional):
                positionals.append((param.name, kinds[0]))
            else:
                named.append((param.name, kinds[0]))
        required = [p.required for _, p in positionals]
        if required != sorted(required, reverse=True):
            raise TypeError(f"{func.__name__}: an optional argument comes after every required one")
        return cls(tuple(positionals), tuple(named))

    def usage_args(self) -> str:
        return " ".join([p.placeholder for _, p in self.positionals] + [n.placeholder for _, n in self.named])

    def sites(self, values: Mapping[str, object]) -> list[str]:
        """The site names the resolved `values` name (for the "checking site-a: 2 controllers…" ack)."""
        names: list[str] = []
        for name, kind in self.positionals:
            value = values.get(name)
            if isinstance(kind, SiteArg) and isinstance(value, str):
                names.append(value)
            elif isinstance(kind, SiteArg) and isinstance(value, tuple):
                names.extend(value)
        return names

    def resolve(self, args: Sequence[str], inventory: Inventory, usage: str) -> dict[str, object] | Invalid:
        """The words after the command name → the handler's keyword arguments, or why not.

        The order of the checks (and so which refusal a user sees first) is today's:
        no words at all, options left to right, the count of positional words, then
        each positional word in turn.
        """
        if not self.positionals and not self.named:
            return Invalid(f"`{usage}` takes no arguments.") if args else {}
        first = self.positionals[0][1] if self.positionals else None
        if not args and first is not None and first.required:
            return Invalid(first.missing(usage))
        sole = first is not None and first.sole_word
        if sole and not self.named:
            if len(args) != 1:
                return Invalid(first.missing(usage))  # type: ignore[union-attr]
            return self._positional_values(args, inventory, usage)
        values: dict[str, object] = {name: kind.default for name, kind in self.named}
        positional: list[str] = []
        at = 0
        while at < len(args):
            word = args[at]
            option = next(((n, k) for n, k in self.named if k.matches(word)), None)
            if option is not None:
                value, at = option[1].take(args, at)
                if isinstance(value, Invalid):
                    return value
                values[option[0]] = value
            elif word.startswith("--") and not sole:
                return Invalid(f"Unknown option {quote(word)}. Usage: `{usage}`")
            else:
                positional.append(word)
            at += 1
        if sole and len(positional) != 1:
            return Invalid(first.missing(usage))  # type: ignore[union-attr]
        needed = sum(p.required for _, p in self.positionals)
        if not needed <= len(positional) <= len(self.positionals):
            return Invalid(f"Usage: `{usage}`")
        resolved = self._positional_values(positional, inventory, usage)
        if isinstance(resolved, Invalid):
            return resolved
        everything = {**resolved, **values}
        for name, kind in self.named:
            refused = kind.refusal(everything[name], everything)
            if refused is not None:
                return refused
        return everything

    def _positional_values(self, args: Sequence[str], inventory: Inventory, usage: str) -> dict[str, object] | Invalid:
        where = Resolved(inventory, usage)
        values: dict[str, object] = {}
        for at, (name, kind) in enumerate(self.positionals):
            if at >= len(args):
                values[name] = kind.default
                continue
            value = kind.resolve(args[at], where)
            if isinstance(value, Invalid):
                return value
            values[name] = value
            if isinstance(kind, SiteArg) and isinstance(value, str):
                where = Resolved(inventory, usage, value)
        return values
