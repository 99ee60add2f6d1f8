"""Command matching shared by both simulated CLIs.

Both AireOS and IOS-XE accept any unique prefix of a keyword (`sh ap sum`,
`conf t`, `wr mem`), and IOS points a caret at the first word it could not
match. A command table entry is a pattern of words: plain words are keywords,
`<name>` takes any one word, `<name...>` takes the rest of the line (at least
one word). `Grammar.match` returns the handler and its arguments, or what went
wrong and at which word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[..., Any]


@dataclass(frozen=True)
class _Token:
    text: str
    kind: str  # "kw", "arg" or "rest"


@dataclass(frozen=True)
class Syntax:
    """One command pattern and its handler."""

    pattern: str
    handler: Handler
    tokens: tuple[_Token, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, pattern: str, handler: Handler) -> Syntax:
        tokens = []
        for word in pattern.split():
            if word.startswith("<") and word.endswith("...>"):
                tokens.append(_Token(word[1:-4], "rest"))
            elif word.startswith("<") and word.endswith(">"):
                tokens.append(_Token(word[1:-1], "arg"))
            else:
                tokens.append(_Token(word.lower(), "kw"))
        return cls(pattern, handler, tuple(tokens))


@dataclass(frozen=True)
class Word:
    text: str
    column: int


def split_words(line: str) -> list[Word]:
    """Words of a command line with their columns (for IOS's caret)."""
    words = []
    i = 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        start = i
        while i < len(line) and not line[i].isspace():
            i += 1
        words.append(Word(line[start:i], start))
    return words


@dataclass(frozen=True)
class Match:
    handler: Handler
    args: dict[str, Any]
    canonical: str  # keywords spelt out, arguments as typed


@dataclass(frozen=True)
class Failure:
    kind: str  # "invalid", "incomplete" or "ambiguous"
    word_index: int


class Grammar:
    """A command table."""

    def __init__(self, entries: list[tuple[str, Handler]]) -> None:
        self.syntaxes = [Syntax.parse(pattern, handler) for pattern, handler in entries]

    def match(self, words: list[Word]) -> Match | Failure:
        texts = [w.text for w in words]
        alive = list(self.syntaxes)
        for i, word in enumerate(texts):
            lowered = word.lower()
            finished = [s for s in alive if len(s.tokens) > i and s.tokens[i].kind == "rest"]
            if finished and not any(
                s.tokens[i].kind == "kw" and s.tokens[i].text.startswith(lowered) for s in alive if len(s.tokens) > i
            ):
                return self._result(finished[0], texts)
            here = [s for s in alive if len(s.tokens) > i]
            exact = [s for s in here if s.tokens[i].kind == "kw" and s.tokens[i].text == lowered]
            prefixed = [s for s in here if s.tokens[i].kind == "kw" and s.tokens[i].text.startswith(lowered)]
            args = [s for s in here if s.tokens[i].kind in ("arg", "rest")]
            if exact:
                alive = exact
            elif prefixed:
                if len({s.tokens[i].text for s in prefixed}) > 1:
                    return Failure("ambiguous", i)
                alive = prefixed
            elif args:
                alive = args
            else:
                return Failure("invalid", i)
        complete = [s for s in alive if len(s.tokens) == len(texts)]
        if complete:
            return self._result(complete[0], texts)
        return Failure("incomplete", len(texts))

    @staticmethod
    def _result(syntax: Syntax, texts: list[str]) -> Match:
        args: dict[str, Any] = {}
        canonical = []
        for i, token in enumerate(syntax.tokens):
            if token.kind == "kw":
                canonical.append(token.text)
            elif token.kind == "arg":
                args[token.text] = texts[i]
                canonical.append(texts[i])
            else:
                args[token.text] = texts[i:]
                canonical.extend(texts[i:])
                break
        return Match(syntax.handler, args, " ".join(canonical))
