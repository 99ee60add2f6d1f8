"""One loader for every YAML data file the bot reads: parse, keep lines, validate with pydantic.

Inventory, playbooks, the advisory table, platform commands and change
templates, syslog signatures and simulator scenarios are all edited by hand,
and a mistake in any of them should be reported the same way: `file:line:
what is wrong`, every problem at once. PyYAML's `compose` keeps each node's
position; this module builds the plain Python data with the *safe* loader's
semantics (no arbitrary tags), remembers the line of every mapping key and
value by its path, and turns each pydantic error's `loc` back into that line.

The schemas themselves live next to the code that uses each file; this
module knows nothing about any one file kind. It imports only the standard
library, PyYAML and pydantic (no `bot` module), so it sits beneath every
layer, `bot.domain` included; reading the file (and its UTF-8 problems) stays
with each caller, through `bot.textfiles` where the operator wrote the file.
"""

from __future__ import annotations

import collections
import functools
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

#: The pydantic error type of messages written for an operator (see `refuse`).
CUSTOM = "datafile"
#: Issue kinds found while reading the YAML itself, before any schema runs.
DUPLICATE_KEY = "duplicate_key"
KEY_NOT_NAME = "key_not_name"


class Strict(BaseModel):
    """Base of every data-file model: unknown keys are refused, values are never mutated afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def refuse(message: str) -> PydanticCustomError:
    """An error whose text is shown as written (raise it from a validator)."""
    return PydanticCustomError(CUSTOM, message.replace("{", "{{").replace("}", "}}"))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file, where it is (file and 1-based line), and why.

    Without a file it reads `inventory: ...`: the inventory's problems that
    belong to no line (a credential variable not set) have always read so.
    """

    file: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file or "inventory"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class DataFileError(ValueError):
    """A data file that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Document:
    """A parsed YAML file: the data (as `yaml.safe_load` gives it) and where each part was written."""

    data: Any
    file: str
    root_line: int | None = None
    value_lines: dict[Loc, int] = field(default_factory=dict)
    key_lines: dict[Loc, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def line(self, loc: Sequence[str | int], *, key: bool = False) -> int | None:
        """The line of the value (or, with `key`, of the key) at `loc`, else of its nearest parent."""
        path = tuple(loc)
        if key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.value_lines:
                return self.value_lines[path]
            path = path[:-1]
        return self.root_line

    def value_at(self, loc: Sequence[str | int]) -> Any:
        """The raw data at `loc`, or None where the path leads nowhere (for wording a message)."""
        value = self.data
        for part in loc:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def entry_line(self, loc: Sequence[str | int]) -> int | None:
        """Where the entry at `loc` starts: its key for a mapping entry, the item for a list entry."""
        return self.line(loc, key=True)


@dataclass(frozen=True)
class Issue:
    """One schema error, with its path in the data, the pydantic kind and message, and its line."""

    loc: Loc
    kind: str
    message: str
    line: int | None
    input: Any = None
    # For `missing` and `extra_forbidden`: the keys the mapping at `loc[:-1]` allows.
    allowed: tuple[str, ...] = ()
    # What pydantic says was expected (e.g. an enum's values), when it says.
    expected: str | None = None

    @property
    def key(self) -> str:
        """The last part of the path, as written in the file."""
        return str(self.loc[-1]) if self.loc else ""


def _text_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str | None:
    if node.tag == "tag:yaml.org,2002:null" and node.value in {"", "~", "null", "Null", "NULL"}:
        return None
    return str(node.value)


def _first_key_wins(self: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """A mapping as the safe loader builds it, except that a key written twice keeps its first value.

    The second one is reported ("defined twice") and the lines are those of the
    first, so the checks that follow must see the value on that line. A key
    that is a list or mapping is left out (the index reports it) rather than
    failing the whole file as "found unhashable key".
    """
    own = list(node.value) if isinstance(node, yaml.MappingNode) else []
    if any(not isinstance(k, yaml.ScalarNode) for k, _ in own):  # reported as "keys must be plain names"
        own = [(k, v) for k, v in own if isinstance(k, yaml.ScalarNode)]
        node = yaml.MappingNode(node.tag, own, node.start_mark, node.end_mark, node.flow_style)
    mapping: dict[Any, Any] = yaml.SafeLoader.construct_mapping(self, node, deep=deep)
    written = collections.Counter(
        (k.tag, k.value) for k, _ in own if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge"
    )
    twice = {key for key, count in written.items() if count > 1}
    if not twice:
        return mapping
    for key_node, value_node in reversed(own):
        if isinstance(key_node, yaml.ScalarNode) and (key_node.tag, key_node.value) in twice:
            mapping[self.construct_object(key_node, deep=deep)] = self.construct_object(value_node, deep=deep)
    return mapping


def _loaders(base: type[yaml.SafeLoader]) -> dict[str, type[yaml.SafeLoader]]:
    """The safe loader `base` as is ("yaml"), with every scalar kept as its text ("text", as the
    inventory has always read them), and with dates and times kept as written ("no_dates", so a
    schema can refuse one without a zone). In each, a key written twice keeps its first value."""
    base = type(base.__name__, (base,), {"construct_mapping": _first_key_wins})
    text_loader: type[yaml.SafeLoader] = type("TextLoader", (base,), {})
    for tag in ("bool", "int", "float", "timestamp", "str", "null"):
        text_loader.add_constructor(f"tag:yaml.org,2002:{tag}", _text_scalar)  # type: ignore[arg-type]
    no_dates: type[yaml.SafeLoader] = type("NoDatesLoader", (base,), {})
    no_dates.add_constructor("tag:yaml.org,2002:timestamp", _text_scalar)  # type: ignore[arg-type]
    return {"yaml": base, "text": text_loader, "no_dates": no_dates}


# libyaml's parser where PyYAML has it (same safe semantics, several times faster); PyYAML's own
# parser words the "not valid YAML" messages, so they read the same on every installation.
_FAST = _loaders(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_WORDED = _loaders(yaml.SafeLoader)


def _text(value: object) -> object:
    """A scalar written in the file, as its text (`name: 5` is the name "5"); anything else as given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


#: A single value read as text: numbers and booleans as written, lists, mappings and nothing refused.
Text = Annotated[str, BeforeValidator(_text)]


def parse_yaml(text: str, file: str, *, scalars_as_text: bool = False, dates_as_text: bool = False) -> Document:
    """Parse `text`; DataFileError (`not valid YAML: ...` at its line) when it is not YAML.

    `scalars_as_text` keeps every scalar as the text written (None for an empty
    value), for files whose values are names and addresses rather than numbers;
    `dates_as_text` only dates and times (so a schema can refuse one without a zone).
    """
    kind = "text" if scalars_as_text else "no_dates" if dates_as_text else "yaml"
    try:
        node, data = _compose(_FAST[kind], text)
    except yaml.YAMLError:
        try:
            node, data = _compose(_WORDED[kind], text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            reason = getattr(exc, "problem", None) or str(exc)
            raise DataFileError([Problem(file, line, f"not valid YAML: {reason}")]) from None
    doc = Document(data=data, file=file, root_line=node.start_mark.line + 1 if node is not None else None)
    if node is not None:
        _index(_FAST[kind](""), node, (), doc)
    return doc


def _compose(loader_class: type[yaml.SafeLoader], text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (with marks) and the data built from it, as `yaml.safe_load` builds it."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _index(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, doc: Document) -> None:
    """Record the line of every value and key under `node`; note duplicate and non-name keys."""
    doc.value_lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.key_lines[(*loc, i)] = item.start_mark.line + 1
            _index(loader, item, (*loc, i), doc)
    elif isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                doc.issues.append(Issue(loc, KEY_NOT_NAME, "keys must be plain names", key_node.start_mark.line + 1))
                continue
            key = loader.construct_object(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key_node.value)
            if key in seen:
                doc.issues.append(Issue((*loc, key), DUPLICATE_KEY, "defined twice", key_node.start_mark.line + 1))
                continue
            seen.add(key)
            doc.key_lines[(*loc, key)] = key_node.start_mark.line + 1
            _index(loader, value_node, (*loc, key), doc)


def schema_issues(model: type[BaseModel] | Any, data: Any, doc: Document | None = None) -> tuple[Any, list[Issue]]:
    """Validate `data` against `model` (a model class or any type pydantic takes).

    Returns (the validated value, []) or (None, the issues with their lines).
    Lines come from `doc` when the data was read from a file, else are None.
    """
    adapter = _adapter(model)
    try:
        return adapter.validate_python(data), []
    except ValidationError as exc:
        return None, [_issue(error, model, doc) for error in exc.errors(include_url=False)]


@functools.lru_cache(maxsize=256)
def _adapter(model: Any) -> TypeAdapter[Any]:
    """One validator per schema (building one costs far more than running it)."""
    return TypeAdapter(model)


def _issue(error: Any, model: Any, doc: Document | None) -> Issue:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if loc and loc[-1] == "[key]":  # a dict key that failed its own type: point at the key
        loc = loc[:-1]
        line = doc.line(loc, key=True) if doc else None
    elif kind == "missing":
        line = doc.entry_line(loc[:-1]) if doc else None
    elif kind == "extra_forbidden":
        line = doc.line(loc, key=True) if doc else None
    elif doc is not None and isinstance(doc.value_at(loc), dict | list):
        line = doc.entry_line(loc)  # a rule about a whole entry: where the entry starts
    else:
        line = doc.line(loc) if doc else None
    allowed: tuple[str, ...] = ()
    if kind in {"missing", "extra_forbidden"}:
        owner = _model_at(model, loc[:-1])
        if owner is not None:
            allowed = tuple(sorted(f.alias or name for name, f in owner.model_fields.items()))
    expected = (error.get("ctx") or {}).get("expected")
    return Issue(
        loc, kind, error["msg"], line, error.get("input"), allowed, None if expected is None else str(expected)
    )


def _model_at(model: Any, loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (following fields, lists and dicts)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            found = next((f for n, f in current.model_fields.items() if part in {n, f.alias}), None)
            if found is None:
                return None
            current = found.annotation
            continue
        args = [a for a in typing.get_args(current) if a is not type(None)]
        if not args:
            return None
        current = args[-1]  # list[X] / tuple[X, ...] -> X; dict[K, V] -> V
        if current is Ellipsis:
            current = args[0]
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` -> X (the first model or container among the options)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is UnionType:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        for option in options:
            unwrapped = _unwrap(option)
            if (isinstance(unwrapped, type) and issubclass(unwrapped, BaseModel)) or typing.get_args(unwrapped):
                return unwrapped
        return options[0] if options else annotation
    return annotation


_TYPE_WORDS = {
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "string_type": "must be a single value",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def plain_path(loc: Sequence[str | int]) -> str:
    """`families[0].match` for ("families", 0, "match"): how a path reads in a message."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def default_message(issue: Issue, where: str) -> str:
    """The generic wording of an issue, after `where` (what the path names, e.g. "site 'a'")."""
    if issue.kind == CUSTOM:
        return f"{where}: {issue.message}"
    if issue.kind == "missing":
        return f"{where}: missing `{issue.key}`"
    if issue.kind == "extra_forbidden":
        expected = f" (expected one of: {', '.join(issue.allowed)})" if issue.allowed else ""
        return f"{where}: unknown key '{issue.key}'{expected}"
    if issue.kind == DUPLICATE_KEY:
        return f"{where}: '{issue.key}' is defined twice"
    if issue.kind == KEY_NOT_NAME:
        return f"{where}: keys must be plain names"
    if issue.kind in _TYPE_WORDS:
        return f"{where} {_TYPE_WORDS[issue.kind]} (not {_shape(issue.input)})"
    if issue.kind in {"literal_error", "enum"} and issue.expected:
        return f"{where}: {issue.input!r} is not one of {issue.expected}"
    return f"{where}: {issue.message[:1].lower()}{issue.message[1:]}"


def _shape(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def default_where(issue: Issue) -> str:
    """The dotted path an issue is about: the mapping for a missing, unknown or doubled key, else the value."""
    loc = issue.loc[:-1] if issue.kind in {"missing", "extra_forbidden", DUPLICATE_KEY} else issue.loc
    return plain_path(loc) or "the file"


def to_problems(
    issues: Iterable[Issue], file: str | None, describe: Callable[[Issue], str] | None = None
) -> list[Problem]:
    """Problems in file order; `describe` words each issue (default: its dotted path and the generic text)."""
    words = describe or (lambda issue: default_message(issue, default_where(issue)))
    problems = [Problem(file, issue.line, words(issue)) for issue in issues]
    return sorted(problems, key=lambda p: p.line or 0)


def load(
    model: type[M],
    doc: Document,
    describe: Callable[[Issue], str] | None = None,
) -> M:
    """`doc` validated against `model`, or DataFileError with every problem at its line."""
    value, issues = schema_issues(model, doc.data, doc)
    issues = doc.issues + issues
    if issues:
        raise DataFileError(to_problems(issues, doc.file, describe))
    return typing.cast(M, value)


__all__ = [
    "CUSTOM",
    "DUPLICATE_KEY",
    "KEY_NOT_NAME",
    "DataFileError",
    "Document",
    "Issue",
    "Problem",
    "Strict",
    "Text",
    "default_message",
    "default_where",
    "load",
    "parse_yaml",
    "plain_path",
    "refuse",
    "schema_issues",
    "to_problems",
]
