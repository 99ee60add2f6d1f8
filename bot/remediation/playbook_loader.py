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

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.domain.models import Platform
from bot.inventory import Problem
from bot.remediation.actions import ACTIONS, ArgSpec
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
    platform: Platform
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
            "platform": self.platform.value,
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


def _scalar_value(node: yaml.ScalarNode) -> Any:
    """A scalar node as Python, by its resolved YAML tag (ints, floats, bools, strings)."""
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "int":
        return int(node.value.replace("_", ""), 0)
    if tag == "float":
        return float(node.value.replace("_", ""))
    if tag == "bool":
        return node.value.lower() in {"true", "yes", "on"}
    if tag == "null":
        return None
    return node.value


def _types_compatible(param_type: str, arg_type: str) -> bool:
    return param_type == arg_type or (param_type == "integer" and arg_type == "number")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, node: yaml.Node | None, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1 if node is not None else None, message))

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.add(node, f"{what} must be a mapping")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.add(key_node, f"{what}: keys must be plain names")
                continue
            if key_node.value in out:
                self.add(key_node, f"{what}: '{key_node.value}' is defined twice")
                continue
            out[key_node.value] = (key_node, value_node)
        return out

    def text(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            self.add(node, f"{what} must be a single value")
            return None
        return str(node.value)

    def unknown(self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], allowed: set[str], what: str) -> None:
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                self.add(key_node, f"{what}: unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})")


def parse_playbook(text: str, file: str = "<playbook>") -> Playbook:
    """Parse and check a playbook; raise PlaybookError listing every problem with its line."""
    r = _Reader(file)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError([Problem(file, mark.line + 1 if mark else None, f"not valid YAML: {reason}")]) from None
    if root is None:
        raise PlaybookError([Problem(file, None, "the playbook is empty")])
    top = r.mapping(root, "the playbook")
    r.unknown(top, {"name", "description", "platform", "parameters", "steps"}, "the playbook")
    values: dict[str, str] = {}
    for key in ("name", "description", "platform"):
        if key not in top:
            r.add(root, f"missing `{key}:`")
            continue
        value = r.text(top[key][1], key)
        if value is not None:
            values[key] = value
    platform: Platform | None = None
    if "platform" in values:
        try:
            platform = Platform(values["platform"])
        except ValueError:
            r.add(
                top["platform"][1],
                f"platform '{values['platform']}' is not one of {', '.join(p.value for p in Platform)}",
            )

    parameters = _parameters(r, top["parameters"][1]) if "parameters" in top else {}
    steps: list[StepSpec] = []
    if "steps" not in top:
        r.add(root, "missing `steps:`")
    elif not isinstance(top["steps"][1], yaml.SequenceNode) or not top["steps"][1].value:
        r.add(top["steps"][1], "`steps` must be a non-empty list")
    else:
        seen: dict[str, int] = {}
        for node in top["steps"][1].value:
            step = _step(r, node, parameters)
            if step is None:
                continue
            if step.id in seen:
                r.add(node, f"step id '{step.id}' is already used at line {seen[step.id]}")
                continue
            seen[step.id] = step.line or 0
            steps.append(step)
        if not r.problems:
            _check_order(r, steps)

    if r.problems or platform is None:
        raise PlaybookError(r.problems or [Problem(file, None, "no platform")])
    return Playbook(
        name=values["name"],
        description=values.get("description", ""),
        platform=platform,
        parameters=parameters,
        steps=tuple(steps),
        source=file,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def _parameters(r: _Reader, node: yaml.Node) -> dict[str, ParamSpec]:
    out: dict[str, ParamSpec] = {}
    for name, (key_node, value_node) in r.mapping(node, "parameters").items():
        where = f"parameter '{name}'"
        if not PARAM_NAME.match(name):
            r.add(key_node, f"{where}: names use lower-case letters, digits and '_'")
            continue
        entry = r.mapping(value_node, where)
        r.unknown(entry, {"type", "default", "min", "max", "choices", "default_from", "description"}, where)
        if "type" not in entry:
            r.add(key_node, f"{where}: missing `type` (one of {', '.join(sorted(PARAM_TYPES))})")
            continue
        kind = r.text(entry["type"][1], f"{where} type")
        if kind not in PARAM_TYPES:
            r.add(entry["type"][1], f"{where}: type '{kind}' is not one of {', '.join(sorted(PARAM_TYPES))}")
            continue
        bounds: dict[str, float | None] = {"min": None, "max": None}
        for bound in ("min", "max"):
            if bound in entry:
                bnode = entry[bound][1]
                bvalue = _scalar_value(bnode) if isinstance(bnode, yaml.ScalarNode) else None
                if kind not in {"integer", "number"}:
                    r.add(bnode, f"{where}: `{bound}` only applies to integer and number parameters")
                elif isinstance(bvalue, bool) or not isinstance(bvalue, int | float):
                    r.add(bnode, f"{where}: `{bound}` must be a number")
                else:
                    bounds[bound] = float(bvalue)
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            r.add(key_node, f"{where}: min is greater than max")
        choices: tuple[str, ...] = ()
        if "choices" in entry:
            cnode = entry["choices"][1]
            if not isinstance(cnode, yaml.SequenceNode) or not all(isinstance(c, yaml.ScalarNode) for c in cnode.value):
                r.add(cnode, f"{where}: `choices` must be a list of words")
            else:
                choices = tuple(str(c.value) for c in cnode.value)
        default_from = None
        if "default_from" in entry:
            default_from = r.text(entry["default_from"][1], f"{where} default_from")
            if default_from not in SETTING_DEFAULTS:
                r.add(
                    entry["default_from"][1],
                    f"{where}: default_from '{default_from}' is not one of {', '.join(sorted(SETTING_DEFAULTS))}",
                )
        description = ""
        if "description" in entry:
            description = r.text(entry["description"][1], f"{where} description") or ""
        spec = ParamSpec(
            name=name,
            type=kind,
            minimum=bounds["min"],
            maximum=bounds["max"],
            choices=choices,
            default_from=default_from,
            description=description,
            line=key_node.start_mark.line + 1,
        )
        if "default" not in entry:
            r.add(key_node, f"{where}: missing `default` (every parameter needs one, so a request can run as shown)")
            continue
        dnode = entry["default"][1]
        if not isinstance(dnode, yaml.ScalarNode):
            r.add(dnode, f"{where}: `default` must be a single value")
            continue
        raw = _scalar_value(dnode)
        try:
            default = check_value(spec, raw)
        except ValueError as exc:
            r.add(dnode, f"{where}: default {exc}")
            continue
        out[name] = replace(spec, default=default)
    return out


def _step(r: _Reader, node: yaml.Node, parameters: Mapping[str, ParamSpec]) -> StepSpec | None:
    entry = r.mapping(node, "step")
    r.unknown(entry, {"id", "action", "title", "args", "undo"}, "step")
    if "action" not in entry:
        r.add(node, "step: missing `action`")
        return None
    action = r.text(entry["action"][1], "step action")
    if action is None:
        return None
    spec = ACTIONS.get(action)
    if spec is None or spec.undo_only:
        allowed = sorted(a for a, s in ACTIONS.items() if not s.undo_only)
        r.add(entry["action"][1], f"unknown action '{action}' (the registry has: {', '.join(allowed)})")
        return None
    step_id = r.text(entry["id"][1], "step id") if "id" in entry else action
    if step_id is None or not STEP_ID.match(step_id):
        r.add(entry["id"][1] if "id" in entry else node, f"step id '{step_id}': use lower-case letters, digits, '_'")
        return None
    title = spec.title
    if "title" in entry:
        title = r.text(entry["title"][1], "step title") or title
    args = _args(r, entry["args"][1] if "args" in entry else None, spec.args, parameters, f"step '{step_id}'")

    undo: UndoSpec | None = None
    if spec.changes_device:
        if "undo" not in entry:
            r.add(
                node,
                f"step '{step_id}' ({action}) changes the device but has no `undo` "
                f"(allowed: {', '.join(sorted(spec.undo_actions))})",
            )
            return None
        undo = _undo(r, entry["undo"][1], step_id, spec.undo_actions, parameters)
        if undo is None:
            return None
    elif "undo" in entry:
        r.add(entry["undo"][0], f"step '{step_id}' ({action}) changes nothing on the device: remove its `undo`")
        return None
    if args is None:
        return None
    return StepSpec(id=step_id, action=action, title=title, args=args, undo=undo, line=node.start_mark.line + 1)


def _undo(
    r: _Reader, node: yaml.Node, step_id: str, allowed: frozenset[str], parameters: Mapping[str, ParamSpec]
) -> UndoSpec | None:
    where = f"step '{step_id}' undo"
    args_node: yaml.Node | None = None
    if isinstance(node, yaml.ScalarNode):
        name = r.text(node, where)
    else:
        entry = r.mapping(node, where)
        r.unknown(entry, {"action", "args"}, where)
        if "action" not in entry:
            r.add(node, f"{where}: missing `action`")
            return None
        name = r.text(entry["action"][1], f"{where} action")
        args_node = entry["args"][1] if "args" in entry else None
    if name is None:
        return None
    if name not in allowed:
        r.add(node, f"{where}: '{name}' cannot undo this step (allowed: {', '.join(sorted(allowed))})")
        return None
    args = _args(r, args_node, ACTIONS[name].args, parameters, where)
    return None if args is None else UndoSpec(name, args)


def _args(
    r: _Reader,
    node: yaml.Node | None,
    specs: Mapping[str, ArgSpec],
    parameters: Mapping[str, ParamSpec],
    where: str,
) -> dict[str, Any] | None:
    entries = r.mapping(node, f"{where} args") if node is not None else {}
    before = len(r.problems)
    r.unknown(entries, set(specs), f"{where} args")
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in entries:
            if spec.required:
                r.add(node, f"{where}: missing argument '{name}'")
            elif spec.default is not None:
                out[name] = spec.default
            continue
        _, value_node = entries[name]
        if not isinstance(value_node, yaml.ScalarNode):
            r.add(value_node, f"{where}: argument '{name}' must be a single value or $parameter")
            continue
        raw = _scalar_value(value_node)
        if isinstance(raw, str) and raw.startswith("$"):
            ref = raw[1:]
            param = parameters.get(ref)
            if param is None:
                r.add(value_node, f"{where}: argument '{name}' refers to unknown parameter '{ref}'")
            elif not _types_compatible(param.type, spec.type):
                r.add(
                    value_node, f"{where}: argument '{name}' needs a {spec.type}, parameter '{ref}' is a {param.type}"
                )
            else:
                for bound, limit in (("minimum", spec.minimum), ("maximum", spec.maximum)):
                    own = getattr(param, bound)
                    if limit is not None and (own is None or (own < limit if bound == "minimum" else own > limit)):
                        r.add(
                            value_node,
                            f"{where}: parameter '{ref}' must declare a {bound} within the "
                            f"action's range ({bound} {limit:g})",
                        )
                out[name] = ParamRef(ref)
            continue
        try:
            out[name] = check_value(spec, raw)
        except ValueError as exc:
            r.add(value_node, f"{where}: argument '{name}': {exc}")
    return out if len(r.problems) == before else None


# ---------------------------------------------------------------------------
# Order
# ---------------------------------------------------------------------------


def _check_order(r: _Reader, steps: list[StepSpec]) -> None:
    """Refuse playbooks whose order could leave a controller worse off."""
    position: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.action in position:
            other = steps[position[step.action]]
            r.problems.append(
                Problem(
                    r.file,
                    step.line,
                    f"step '{step.id}': action '{step.action}' already runs in step '{other.id}' (line {other.line})",
                )
            )
            continue
        position[step.action] = i

    def problem(step: StepSpec, message: str) -> None:
        r.problems.append(Problem(r.file, step.line, f"step '{step.id}': {message}"))

    def before(a: str, b: str) -> bool:
        return a in position and b in position and position[a] < position[b]

    first_change = next((i for i, s in enumerate(steps) if s.changes_device), None)
    if first_change is not None:
        capture = position.get("capture_time_config")
        if capture is None or capture > first_change:
            problem(
                steps[first_change],
                "changes the device before the NTP configuration and clock are recorded "
                "(a capture_time_config step must come first)",
            )
    if "set_clock" in position:
        step = steps[position["set_clock"]]
        if "delete_ntp_servers" not in position or not before("delete_ntp_servers", "set_clock"):
            problem(
                step,
                "sets the clock while NTP is still configured: NTP would pull it straight back; "
                "delete_ntp_servers must come first",
            )
        if not before("check_clock_target_safe", "set_clock"):
            problem(
                step,
                "sets the clock without checking the target against the controller certificate "
                "(check_clock_target_safe must come first)",
            )
        if not before("set_clock", "verify_clock_current"):
            problem(step, "sets the clock back but no later verify_clock_current step brings it to the current time")
    if "delete_ntp_servers" in position:
        step = steps[position["delete_ntp_servers"]]
        if not before("delete_ntp_servers", "restore_ntp_servers"):
            problem(step, "deletes NTP but no later restore_ntp_servers step puts it back")
        if not before("restore_ntp_servers", "verify_clock_current"):
            problem(step, "deletes NTP but no verify_clock_current step after the restore checks it")
    if "restore_ntp_servers" in position:
        step = steps[position["restore_ntp_servers"]]
        for earlier in ("set_clock", "wait_for_aps"):
            if earlier in position and not before(earlier, "restore_ntp_servers"):
                problem(step, f"restores NTP before {earlier}: NTP would pull the clock back while APs download")
    if "save_config" in position:
        step = steps[position["save_config"]]
        if "delete_ntp_servers" in position and not before("restore_ntp_servers", "save_config"):
            problem(step, "saves the configuration while NTP is deleted: the deletion would survive a reload")
    if "wait_for_aps" in position and "set_clock" in position and not before("set_clock", "wait_for_aps"):
        problem(steps[position["wait_for_aps"]], "waits for APs before the clock is set back")
    if "verify_clock" in position and "set_clock" in position and not before("set_clock", "verify_clock"):
        problem(steps[position["verify_clock"]], "verifies the set-back clock before it is set")


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


def playbook_for(platform: Platform | str, directory: Path | None = None) -> Playbook:
    """The shipped time-back playbook for a platform (`timeback-<platform>.yaml`)."""
    plat = Platform(platform)
    return load_playbook((directory or default_playbook_dir()) / f"timeback-{plat.value}.yaml")
