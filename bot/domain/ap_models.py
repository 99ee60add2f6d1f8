"""Classifying AP models against the advisory's family table: affected, likely, not, or unknown.

Never a guess: a model no family matches is `unknown`, with the string kept for the report.
The table is data (`bot.domain.advisory_data.ModelFamily`, read by `advisory_file`); this
module only matches a model string against it.

Public API:
- `model_key(model)` -> the key the family table matches (`3702`, `C9120`, `IW3702`)
- `classify_model(model)` -> `ModelClass`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.advisory_data import Advisory, ModelCategory
from bot.domain.advisory_file import load_advisory
from bot.domain.jsonable import to_jsonable


@dataclass(frozen=True)
class ModelClass:
    """What the advisory says about one AP model string, and why."""

    model: str | None
    category: ModelCategory
    reason: str
    family_id: str | None = None
    family_label: str | None = None
    key: str | None = None
    source: str | None = None

    @property
    def at_risk(self) -> bool:
        """Affected or likely affected: an IOS image that can loop in Downloading."""
        return self.category in (ModelCategory.AFFECTED, ModelCategory.LIKELY_AFFECTED)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def model_key(model: str | None, advisory: Advisory | None = None) -> str | None:
    """Reduce a model string to the key the family table matches (`3702`, `C9120`, `IW3702`)."""
    if not model or not model.strip():
        return None
    adv = advisory or load_advisory()
    match = adv.model_key_pattern.match(model.strip().upper())
    if match is None:
        return None
    return f"{match.group('series') or ''}{match.group('number')}"


def classify_model(model: str | None, advisory: Advisory | None = None) -> ModelClass:
    """Classify an AP model (full PID or short 9800 name) from the data table.

    Never guesses: a model that matches no family is `unknown`, with the
    string kept so the report can show it.
    """
    adv = advisory or load_advisory()
    if not model or not model.strip():
        return ModelClass(model, ModelCategory.UNKNOWN, "the controller did not report a model")
    key = model_key(model, adv)
    if key is None:
        return ModelClass(
            model,
            ModelCategory.UNKNOWN,
            f"{model!r} does not look like an AP model the advisory table knows; check it by hand",
        )
    for family in adv.families:
        if family.pattern.fullmatch(key):
            generic = adv.category_reasons.get(family.category.value, family.category.value)
            detail = family.reason or generic
            generation = f", {family.generation}" if family.generation else ""
            return ModelClass(
                model=model,
                category=family.category,
                reason=f"{family.label}{generation}: {detail}",
                family_id=family.id,
                family_label=family.label,
                key=key,
                source=family.source,
            )
    return ModelClass(
        model,
        ModelCategory.UNKNOWN,
        f"{model!r} (family {key}) is not in the advisory table; cannot tell whether it is affected",
        key=key,
    )


__all__ = ["ModelClass", "classify_model", "model_key"]
