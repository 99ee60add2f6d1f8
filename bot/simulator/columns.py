"""Fixed-width table cells, as the controllers' C `printf` formats make them.

A value shorter than its column is padded; a longer one (real captures show
AP names longer than their column) pushes the rest of the row right but is
still followed by a space, so the row stays readable as words.
"""

from __future__ import annotations


def cell(value: object, width: int) -> str:
    """`value` left-aligned in `width` characters, at least one space after it."""
    return f"{value!s:<{width - 1}} "
