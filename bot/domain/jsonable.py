"""`to_jsonable`: dataclasses, enums, datetimes, timedeltas and patterns as JSON-safe values.

One converter for every `to_dict()` of the domain's results and for the store's codec, so a
verdict reads the same in a chat reply, a JSON report and a stored row. Its own module because
it belongs to no one result: the advisory's, the fix verdict's and the time-back plan's
`to_dict()` all use it, and the store does too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes, timedeltas and patterns to JSON-safe values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


__all__ = ["to_jsonable"]
