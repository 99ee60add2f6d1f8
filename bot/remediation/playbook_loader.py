"""Load and check a playbook (`playbooks/*.yaml`) before anything runs.

A playbook is data: a name, a platform, typed parameters with defaults and
ranges, and ordered steps naming actions from the fixed registry in
`bot.remediation.actions`. Because it drives changes on production
controllers, the loader is strict and says exactly where a problem is
(file:line, from the YAML node marks, like the inventory):

* unknown keys, unknown actions, arguments the action does not take,
  literal values of the wrong type or out of range;
* a step that changes the device without an `undo` (and an undo the action
  does not allow);
* wrong order: no change before the configuration is recorded; the clock is
  never set while NTP is configured (NTP would pull it straight back, which
  the simulator acts out too); NTP is restored only after the wait; the
  configuration is never saved while NTP is deleted; a playbook that deletes
  NTP must restore it and verify the clock is current again.

Parameters are validated again, with their overrides, by
`Playbook.resolve_params` before a run or a dry-run starts.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.controllers.platforms import registry
from bot.datafile import (
    CUSTOM,
    DUPLICATE_KEY,
    DataFileError,
    Document,
    Issue,
    Loc,
    Problem,
    Strict,
    Text,
    default_message,
    parse_yaml,
    plain_path,
    refuse,
    schema_issues,
    to_problems,
)
from bot.domain.models import PlatformName
from bot.remediation.actions import ACTIONS
from bot.remediation.steps import SELF, ArgSpec
from bot.textfiles import NotUTF8Error, read_utf8

PARAM_TYPES = frozenset({"integer", "number", "boolean", "string", "datetime"})
STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STRING_PARAM = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
AUTO = "auto"

#: Defaults a playbook parameter may take from the bot's settings (`default_from:`).
SETTING_DEFAULTS: dict[str, str] = {
    "playbook_wait_seconds": "CCERT_PLAYBOOK_WAIT_MINUTES × 60 (default 3600)",
    "playbook_poll_seconds": "CCERT_PLAYBOOK_POLL_SECONDS (default 120)",
}


class PlaybookError(Exception):
    """A playbook that must not run, with every problem found (file, line, reason)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class ParameterError(PlaybookError):
    """Parameter values (defaults or overrides) that fail their type or range."""


@dataclass(frozen=True)
class ParamRef:
    """An argument that takes the value of a playbook parameter (`$name` in YAML)."""

    name: str


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default_from: str | None = None
    description: str = ""
    line: int | None = None


@dataclass(frozen=True)
class UndoSpec:
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepSpec:
    id: str
    action: str
    title: str
    args: Mapping[str, Any] = field(default_factory=dict)
    undo: UndoSpec | None = None
    line: int | None = None

    @property
    def changes_device(self) -> bool:
        return ACTIONS[self.action].changes_device


@dataclass(frozen=True)
class Playbook:
    name: str
    description: str
    platform: PlatformName
    parameters: Mapping[str, ParamSpec]
    steps: tuple[StepSpec, ...]
    source: str = "<playbook>"
    digest: str = ""

    def resolve_params(
        self, overrides: Mapping[str, Any] | None = None, setting_defaults: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every parameter's value (override, else setting default, else default), type- and range-checked.

        Raises ParameterError listing every bad value. Datetimes come back as
        aware UTC datetimes (or the string "auto").
        """
        problems: list[Problem] = []
        overrides = dict(overrides or {})
        setting_defaults = setting_defaults or {}
        for unknown in sorted(set(overrides) - set(self.parameters)):
            problems.append(Problem(self.source, None, f"unknown parameter '{unknown}'"))
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            if name in overrides:
                raw, origin = overrides[name], "value"
            elif spec.default_from and spec.default_from in setting_defaults:
                raw, origin = setting_defaults[spec.default_from], f"setting default ({spec.default_from})"
            else:
                raw, origin = spec.default, "default"
            try:
                values[name] = check_value(spec, raw)
            except ValueError as exc:
                problems.append(Problem(self.source, spec.line, f"parameter '{name}' {origin}: {exc}"))
        if problems:
            raise ParameterError(problems)
        return values

    def to_plan(self) -> dict[str, Any]:
        """The steps as JSON, stored with a run so recovery never depends on the file changing."""
        return {
            "name": self.name,
            "platform": self.platform,
            "source": self.source,
            "digest": self.digest,
            "parameters": {name: spec.type for name, spec in self.parameters.items()},
            "steps": [
                {
                    "id": s.id,
                    "action": s.action,
                    "title": s.title,
                    "args": {k: _plan_value(v) for k, v in s.args.items()},
                    "undo": None
                    if s.undo is None
                    else {"action": s.undo.action, "args": {k: _plan_value(v) for k, v in s.undo.args.items()}},
                }
                for s in self.steps
            ],
        }


def _plan_value(value: Any) -> Any:
    return {"$param": value.name} if isinstance(value, ParamRef) else value


def steps_from_plan(plan: Mapping[str, Any]) -> tuple[StepSpec, ...]:
    """Inverse of `Playbook.to_plan()` for the steps (used by the engine and recovery)."""

    def value(v: Any) -> Any:
        return ParamRef(v["$param"]) if isinstance(v, dict) and "$param" in v else v

    steps = []
    for s in plan["steps"]:
        if s["action"] not in ACTIONS:
            raise PlaybookError([Problem(str(plan.get("source")), None, f"unknown action '{s['action']}'")])
        undo = s.get("undo")
        steps.append(
            StepSpec(
                id=s["id"],
                action=s["action"],
                title=s["title"],
                args={k: value(v) for k, v in s.get("args", {}).items()},
                undo=None if undo is None else UndoSpec(undo["action"], {k: value(v) for k, v in undo["args"].items()}),
            )
        )
    return tuple(steps)


def resolve_args(args: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Replace `$param` references with the run's parameter values."""
    return {k: params[v.name] if isinstance(v, ParamRef) else v for k, v in args.items()}


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def parse_datetime(value: Any) -> datetime | str:
    """`auto`, or an ISO-8601 instant with its zone (a naive one is refused: which zone?)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if value.strip().lower() == AUTO:
            return AUTO
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date and time (e.g. 2022-12-02T00:00:00Z)") from None
    else:
        raise ValueError(f"{value!r} is not a date and time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone; write it in UTC with a trailing Z")
    return parsed.astimezone(UTC)


def check_value(spec: ParamSpec | ArgSpec, value: Any) -> Any:
    """`value` converted to `spec.type` and range-checked, or ValueError with the reason."""
    kind = spec.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not true or false")
    if kind in {"integer", "number"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a{'n integer' if kind == 'integer' else ' number'}")
        if kind == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise ValueError(f"{value!r} is not an integer")
        number: int | float = int(value) if kind == "integer" else float(value)
        if spec.minimum is not None and number < spec.minimum:
            raise ValueError(f"{value!r} is below the minimum {spec.minimum:g}")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"{value!r} is above the maximum {spec.maximum:g}")
        return number
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "string":
        if not isinstance(value, str) or not STRING_PARAM.match(value):
            raise ValueError(f"{value!r} is not a short plain word")
        if spec.choices and value not in spec.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    raise ValueError(f"unknown type {kind!r}")


def _types_compatible(param_type: str, arg_type: str) -> bool:
    return param_type == arg_type or (param_type == "integer" and arg_type == "number")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _param_type(value: str) -> str:
    if value not in PARAM_TYPES:
        raise refuse(f"type '{value}' is not one of {', '.join(sorted(PARAM_TYPES))}")
    return value


def _param_name(value: str) -> str:
    if not PARAM_NAME.match(value):
        raise refuse("names use lower-case letters, digits and '_'")
    return value


def _platform(value: object) -> object:
    if value is None or isinstance(value, dict | list):
        return value  # the type error says it: "platform must be a single value"
    if str(_text_of(value)) not in registry.names():
        raise refuse(f"platform '{_text_of(value)}' is not one of {', '.join(registry.names())}")
    return value


def _words(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or any(isinstance(c, dict | list) or c is None for c in value):
        raise refuse("`choices` must be a list of words")
    return tuple(str(_text_of(c)) for c in value)


def _text_of(value: object) -> object:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _written(kind: str) -> Callable[[object], object]:
    """A check that an optional key, when written, has a value: `title:` with nothing is a mistake.

    Pydantic lets None through an optional field; the playbook has always refused it
    where the key is written, worded as any other value of the wrong shape (`kind`).
    """

    def check(value: object) -> object:
        if value is None:
            raise PydanticCustomError(kind, "no value")
        return value

    return check


#: An optional text that, when its key is written, must have a value.
WrittenText = Annotated[Text | None, BeforeValidator(_written("string_type"))]
#: An optional mapping that, when its key is written, must be one.
WrittenMapping = Annotated[dict[str, Any] | None, BeforeValidator(_written("dict_type"))]


class ParameterEntry(Strict):
    """One `parameters:` entry. Field order matters: each check sees the fields declared before it."""

    type: Annotated[Text, AfterValidator(_param_type)]
    min: float | None = None
    max: float | None = None
    choices: Annotated[tuple[str, ...], BeforeValidator(_words)] = ()
    default_from: WrittenText = None
    description: Text = ""
    default: Any

    @field_validator("min", "max", mode="before")
    @classmethod
    def _bound(cls, value: object, info: ValidationInfo) -> object:
        if info.data.get("type", "number") not in {"integer", "number"}:
            raise refuse(f"`{info.field_name}` only applies to integer and number parameters")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse(f"`{info.field_name}` must be a number")
        return value

    @field_validator("default_from")
    @classmethod
    def _setting(cls, value: str | None) -> str | None:
        if value is not None and value not in SETTING_DEFAULTS:
            raise refuse(f"default_from '{value}' is not one of {', '.join(sorted(SETTING_DEFAULTS))}")
        return value

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, dict | list):  # `default:` with nothing is checked as None, as before
            raise refuse("`default` must be a single value")
        if "type" not in info.data:
            return value  # the type is wrong: that is the problem to report
        spec = ParamSpec(
            name="",
            type=info.data["type"],
            minimum=info.data.get("min"),
            maximum=info.data.get("max"),
            choices=info.data.get("choices", ()),
        )
        try:
            return check_value(spec, value)
        except ValueError as exc:
            raise refuse(f"default {exc}") from None

    @model_validator(mode="after")
    def _range(self) -> ParameterEntry:
        if _inverted(self.min, self.max):
            raise refuse(INVERTED_RANGE)
        return self


INVERTED_RANGE = "min is greater than max"


def _inverted(low: object, high: object) -> bool:
    """Both bounds are numbers and the minimum is above the maximum."""
    if isinstance(low, bool) or isinstance(high, bool):
        return False
    return isinstance(low, int | float) and isinstance(high, int | float) and low > high


def _range_issue(doc: Document, name: str, raw: object, issues: list[Issue]) -> Issue | None:
    """`min is greater than max` for an entry whose other fields failed too.

    The model's own range check runs only once every field is valid; the operator
    should still hear about the bounds when, say, the default is out of them.
    """
    if not isinstance(raw, dict) or any(i.kind == CUSTOM and i.message == INVERTED_RANGE for i in issues):
        return None
    bad = {i.loc[0] for i in issues if i.loc}
    if raw.get("type") not in ("integer", "number") or {"type", "min", "max"} & bad:
        return None
    if not _inverted(raw.get("min"), raw.get("max")):
        return None
    loc: Loc = ("parameters", name)
    return Issue(loc, CUSTOM, INVERTED_RANGE, doc.entry_line(loc))


class UndoEntry(Strict):
    action: Text
    args: WrittenMapping = None


class StepEntry(Strict):
    """One step as written; what its action allows is checked against the registry afterwards."""

    id: WrittenText = None
    action: Text
    title: WrittenText = None
    args: WrittenMapping = None
    undo: UndoEntry | None = None

    @field_validator("undo", mode="before")
    @classmethod
    def _undo_shape(cls, value: object) -> object:
        """`undo: restore_clock` is short for `undo: {action: restore_clock}`.

        Nothing reads "undo must be a single value" and a list "undo must be a
        mapping", as they always have.
        """
        if value is None:
            raise PydanticCustomError("string_type", "no value")
        if isinstance(value, list):
            raise PydanticCustomError("dict_type", "a list")
        return value if isinstance(value, dict) else {"action": _text_of(value)}


class PlaybookFile(Strict):
    """The whole file (see the module docstring for the rules beyond its shape)."""

    name: Text
    description: Text
    platform: Annotated[PlatformName, BeforeValidator(_platform)]
    parameters: dict[Annotated[Text, AfterValidator(_param_name)], ParameterEntry] = Field(default_factory=dict)
    steps: Annotated[list[StepEntry], Field(min_length=1)]


def _where(doc: Document, place: Loc) -> str:
    """How messages name a place in a playbook: `parameter 'wait'`, `step 'clock' undo`, `step action`."""
    match place:
        case ():
            return "the playbook"
        case ("parameters", name, *rest):
            return f"parameter '{name}' {plain_path(rest)}".strip()
        case ("steps", int()):
            return "step"
        case ("steps", int(), "undo" | "args" as part, *rest):
            return f"{_step_name(doc, place[:2])} {part} {plain_path(rest)}".strip()
        case ("steps", int(), *rest):
            return f"step {plain_path(rest)}"
    return plain_path(place)


def _step_name(doc: Document, loc: Loc) -> str:
    """`step 'clock'` (its id, else its action, as the step checks name it), or `step` when it has neither."""
    step_id = doc.value_at((*loc, "id")) or doc.value_at((*loc, "action"))
    return f"step '{step_id}'" if isinstance(step_id, str) else "step"


#: Shape errors: today's messages name the shape wanted, not the one found.
_SHAPE_KINDS = frozenset({"dict_type", "model_type", "model_attributes_type", "list_type", "tuple_type", "string_type"})


def _describe(doc: Document) -> Callable[[Issue], str]:
    def describe(issue: Issue) -> str:
        loc, kind = issue.loc, issue.kind
        if len(loc) == 1 and kind == "missing":
            return f"missing `{loc[0]}:`"
        if loc == ("steps",) and kind in {"list_type", "too_short"}:
            return "`steps` must be a non-empty list"
        if loc == ("platform",) and kind == CUSTOM:
            return issue.message
        if loc == ("platform",) and kind == "enum":
            if issue.input is None or isinstance(issue.input, dict | list):
                return "platform must be a single value"
            return f"platform '{_text_of(issue.input)}' is not one of {', '.join(registry.names())}"
        if len(loc) == 3 and loc[0] == "parameters" and kind == "missing" and loc[2] == "type":
            return f"parameter '{loc[1]}': missing `type` (one of {', '.join(sorted(PARAM_TYPES))})"
        if len(loc) == 3 and loc[0] == "parameters" and kind == "missing" and loc[2] == "default":
            return f"parameter '{loc[1]}': missing `default` (every parameter needs one, so a request can run as shown)"
        keyed = kind in {"missing", "extra_forbidden", DUPLICATE_KEY}
        place = loc[:-1] if keyed else loc
        if kind == CUSTOM and place[:1] == ("parameters",):
            place = place[:2]  # the parameter's own messages name the key they are about
        message = default_message(issue, _where(doc, place))
        return message.rsplit(" (not ", 1)[0] if kind in _SHAPE_KINDS else message

    return describe


def parse_playbook(text: str, file: str = "<playbook>") -> Playbook:
    """Parse and check a playbook; raise PlaybookError listing every problem with its line."""
    try:
        doc = parse_yaml(text, file, dates_as_text=True)
    except DataFileError as exc:
        raise PlaybookError(exc.problems) from None
    if doc.data is None:
        raise PlaybookError([Problem(file, None, "the playbook is empty")])
    parsed, issues = schema_issues(PlaybookFile, doc.data, doc)
    raw = doc.data if isinstance(doc.data, dict) else {}
    parameters, range_issues = _valid_parameters(doc, raw.get("parameters"))
    raw_steps = raw.get("steps")
    items = [_without_idle_undo(item) for item in (raw_steps if isinstance(raw_steps, list) else [])]
    # The undo of a step that changes nothing is not read: the step is told to remove it.
    idle = {("steps", i, "undo") for i, (_, idle_undo) in enumerate(items) if idle_undo}
    issues = [issue for issue in issues if issue.loc[:3] not in idle]
    problems = to_problems(doc.issues + issues + range_issues, file, _describe(doc))
    steps: list[StepSpec] = []
    seen: dict[str, int] = {}
    for i, (item, idle_undo) in enumerate(items):
        entry = _usable(StepEntry, item, {("action",), ("id",), ("undo",)})  # the whole-file check reported the rest
        if entry is None:
            continue
        step = _step(doc, ("steps", i), entry, parameters, problems, idle_undo=idle_undo)
        if step is None:
            continue
        if step.id in seen:
            problems.append(Problem(file, step.line, f"step id '{step.id}' is already used at line {seen[step.id]}"))
            continue
        seen[step.id] = step.line or 0
        steps.append(step)
    if not problems:
        _check_order(file, steps, problems)
    if problems or parsed is None:
        raise PlaybookError(problems or [Problem(file, None, "no platform")])
    return Playbook(
        name=parsed.name,
        description=parsed.description,
        platform=parsed.platform,
        parameters=parameters,
        steps=tuple(steps),
        source=file,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def _without_idle_undo(item: object) -> tuple[object, bool]:
    """A raw step without its `undo` when its action changes nothing (and whether it had one).

    Such an undo is wrong whatever it says; the step check says to remove it.
    """
    action = item.get("action") if isinstance(item, dict) else None
    spec = ACTIONS.get(action) if isinstance(action, str) else None
    if isinstance(item, dict) and "undo" in item and spec is not None and not spec.changes_device:
        return {k: v for k, v in item.items() if k != "undo"}, True
    return item, False


def _usable(model: type[Strict], value: object, fatal: set[Loc]) -> Any:
    """`value` validated by `model`, leaving out the parts that fail, unless a `fatal` one does.

    The problems were reported already; this is what the checks that follow
    (steps against parameters, arguments against their action) still look at,
    as the loader always has: a bad `min` or `title` is reported and the rest of
    the entry is checked, so its steps are not told a parameter is unknown.
    Fatal are a missing key, a rule about the whole entry and the `fatal` keys.
    """
    entry, issues = schema_issues(model, value)
    if not issues:
        return entry
    if not isinstance(value, dict):
        return None
    kept = copy.deepcopy(value)
    for issue in issues:
        if not issue.loc or issue.kind == "missing" or issue.loc in fatal:
            return None
        *parents, last = issue.loc
        owner: Any = kept
        for part in parents:
            owner = owner.get(part) if isinstance(owner, dict) else None
        if not isinstance(owner, dict):
            return None  # inside a list or a value the model reshaped: not worth guessing
        owner.pop(last, None)
    entry, issues = schema_issues(model, kept)
    return None if issues else entry


def _valid_parameters(doc: Document, raw: object) -> tuple[dict[str, ParamSpec], list[Issue]]:
    """The parameters steps may refer to, and the inverted ranges the whole-file check could not see.

    A parameter is usable when its type and default are (see `_usable`).
    """
    out: dict[str, ParamSpec] = {}
    extra: list[Issue] = []
    for name, value in (raw if isinstance(raw, dict) else {}).items():
        if not isinstance(name, str) or not PARAM_NAME.match(name):
            continue
        entry, issues = schema_issues(ParameterEntry, value)
        inverted = _range_issue(doc, name, value, issues) if issues else None
        if inverted is not None:
            extra.append(inverted)
        entry = _usable(ParameterEntry, value, {("type",), ("default",)})
        if entry is None:
            continue
        out[name] = ParamSpec(
            name=name,
            type=entry.type,
            default=entry.default,
            minimum=entry.min,
            maximum=entry.max,
            choices=entry.choices,
            default_from=entry.default_from,
            description=entry.description,
            line=doc.line(("parameters", name), key=True),
        )
    return out, extra


def _step(
    doc: Document,
    loc: Loc,
    entry: StepEntry,
    parameters: Mapping[str, ParamSpec],
    problems: list[Problem],
    *,
    idle_undo: bool = False,
) -> StepSpec | None:
    """The step checked against the action registry: known action, its arguments, its undo."""

    def add(at: Loc, message: str, *, key: bool = False) -> None:
        problems.append(Problem(doc.file, doc.line(at, key=key) if at != loc else doc.entry_line(loc), message))

    spec = ACTIONS.get(entry.action)
    if spec is None or spec.undo_only:
        allowed = sorted(a for a, s in ACTIONS.items() if not s.undo_only)
        add((*loc, "action"), f"unknown action '{entry.action}' (the registry has: {', '.join(allowed)})")
        return None
    step_id = entry.id if entry.id is not None else entry.action
    if not STEP_ID.match(step_id):
        add((*loc, "id") if entry.id is not None else loc, f"step id '{step_id}': use lower-case letters, digits, '_'")
        return None
    where = f"step '{step_id}'"
    args = _args(doc, (*loc, "args"), entry.args, spec.args, parameters, where, problems)

    undo: UndoSpec | None = None
    if spec.changes_device:
        if entry.undo is None:
            add(
                loc,
                f"{where} ({entry.action}) changes the device but has no `undo` "
                f"(allowed: {', '.join(sorted(spec.undo_actions))})",
            )
            return None
        name, undo_args, args_loc = entry.undo.action, entry.undo.args, (*loc, "undo", "args")
        if name not in spec.undo_actions:
            add(
                (*loc, "undo"),
                f"{where} undo: '{name}' cannot undo this step (allowed: {', '.join(sorted(spec.undo_actions))})",
            )
            return None
        checked = _args(doc, args_loc, undo_args, ACTIONS[name].args, parameters, f"{where} undo", problems)
        if checked is None:
            return None
        undo = UndoSpec(name, checked)
    elif entry.undo is not None or idle_undo:
        add((*loc, "undo"), f"{where} ({entry.action}) changes nothing on the device: remove its `undo`", key=True)
        return None
    if args is None:
        return None
    return StepSpec(
        id=step_id,
        action=entry.action,
        title=entry.title or spec.title,
        args=args,
        undo=undo,
        line=doc.entry_line(loc),
    )


def _args(
    doc: Document,
    loc: Loc,
    given: Mapping[str, Any] | None,
    specs: Mapping[str, ArgSpec],
    parameters: Mapping[str, ParamSpec],
    where: str,
    problems: list[Problem],
) -> dict[str, Any] | None:
    """An action's arguments: only those it takes, literals of its types and ranges, or `$parameter`s that fit."""
    before = len(problems)
    entries = dict(given or {})

    def add(at: Loc, message: str, *, key: bool = False) -> None:
        # without a mapping to point into: the `args:` written (not a mapping), else the step or undo
        line = doc.line(at, key=key) if given is not None else doc.line(loc)
        problems.append(Problem(doc.file, line, message))

    for name in entries:
        if name not in specs:
            add(
                (*loc, name),
                f"{where} args: unknown key '{name}' (expected one of: {', '.join(sorted(specs))})",
                key=True,
            )
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in entries:
            if spec.required:
                add(loc, f"{where}: missing argument '{name}'")
            elif spec.default is not None:
                out[name] = spec.default
            continue
        raw = entries[name]
        at = (*loc, name)
        if isinstance(raw, dict | list):  # nothing (`target:`) is a literal that fails its type, as before
            add(at, f"{where}: argument '{name}' must be a single value or $parameter")
            continue
        if isinstance(raw, str) and raw.startswith("$"):
            ref = raw[1:]
            param = parameters.get(ref)
            if param is None:
                add(at, f"{where}: argument '{name}' refers to unknown parameter '{ref}'")
            elif not _types_compatible(param.type, spec.type):
                add(at, f"{where}: argument '{name}' needs a {spec.type}, parameter '{ref}' is a {param.type}")
            else:
                for bound, limit in (("minimum", spec.minimum), ("maximum", spec.maximum)):
                    own = getattr(param, bound)
                    if limit is not None and (own is None or (own < limit if bound == "minimum" else own > limit)):
                        add(
                            at,
                            f"{where}: parameter '{ref}' must declare a {bound} within the "
                            f"action's range ({bound} {limit:g})",
                        )
                out[name] = ParamRef(ref)
            continue
        try:
            out[name] = check_value(spec, raw)
        except ValueError as exc:
            add(at, f"{where}: argument '{name}': {exc}")
    return out if len(problems) == before else None


# ---------------------------------------------------------------------------
# Order
# ---------------------------------------------------------------------------


def _check_order(file: str, steps: list[StepSpec], problems: list[Problem]) -> None:
    """Refuse playbooks whose order could leave a controller worse off.

    The rules are the actions' own (`ActionSpec.order`, `ActionSpec.records`): the loader
    applies them and names no action, so a new step brings its rules with it.
    """
    position: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.action in position:
            other = steps[position[step.action]]
            problems.append(
                Problem(
                    file,
                    step.line,
                    f"step '{step.id}': action '{step.action}' already runs in step '{other.id}' (line {other.line})",
                )
            )
            continue
        position[step.action] = i

    def problem(step: StepSpec, message: str) -> None:
        problems.append(Problem(file, step.line, f"step '{step.id}': {message}"))

    def before(a: str, b: str) -> bool:
        return a in position and b in position and position[a] < position[b]

    first_change = next((i for i, s in enumerate(steps) if s.changes_device), None)
    if first_change is not None:
        for recorder in (spec for spec in ACTIONS.values() if spec.records):
            at = position.get(recorder.name)
            if at is None or at > first_change:
                problem(
                    steps[first_change],
                    f"changes the device before {recorder.records} are recorded "
                    f"(a {recorder.name} step must come first)",
                )
    for name, at in position.items():
        spec = ACTIONS.get(name)
        for rule in spec.order if spec is not None else ():
            first, then = (name if a == SELF else a for a in (rule.first, rule.then))
            if rule.when is not None and rule.when not in position:
                continue
            if not rule.required and not (first in position and then in position):
                continue
            if not before(first, then):
                problem(steps[at], rule.why)


def load_playbook(path: str | Path) -> Playbook:
    """Read and check the playbook file at `path` (PlaybookError names file and line)."""
    p = Path(path)
    try:
        text = read_utf8(p)
    except NotUTF8Error as exc:
        raise PlaybookError([Problem(str(p), exc.line, str(exc))]) from None
    except OSError as exc:
        raise PlaybookError([Problem(str(p), None, f"cannot read: {exc.strerror or exc}")]) from None
    return parse_playbook(text, str(p))


def default_playbook_dir() -> Path:
    """Where the shipped playbooks are (CCERT_PLAYBOOK_DIR overrides it).

    An installed wheel carries them as package data in `bot/playbooks/` (see
    setup.py); a checkout or editable install reads `playbooks/` at the project
    root, the copy operators review.
    """
    package = Path(__file__).resolve().parents[1]
    shipped = package / "playbooks"
    if shipped.is_dir():
        return shipped
    return package.parent / "playbooks"


def playbook_for(platform: PlatformName, directory: Path | None = None) -> Playbook:
    """The shipped time-back playbook for a platform (`timeback-<platform>.yaml`)."""
    return load_playbook((directory or default_playbook_dir()) / f"timeback-{platform}.yaml")
