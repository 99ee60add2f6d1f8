"""Shared helpers for the parser tests: read captures and the expected parses
shipped beside them (ntc-templates `.yml`, genieparser `.py`, pyntc `.json`).

Everything is read from `tests/fixtures/corpus` so the suite runs from a
plain clone.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


class Corpus:
    """Access to one capture and its expected parses, by path relative to the corpus."""

    root = CORPUS

    def raw(self, rel: str | Path) -> str:
        # newline="" keeps CR / CRLF exactly as captured.
        with open(CORPUS / rel, encoding="utf-8", newline="") as handle:
            return handle.read()

    def yml(self, raw_rel: str | Path) -> list[dict[str, Any]]:
        path = (CORPUS / raw_rel).with_suffix(".yml")
        return list(yaml.safe_load(path.read_text(encoding="utf-8"))["parsed_sample"])

    def genie(self, raw_rel: str | Path) -> dict[str, Any]:
        """genieparser `expected_output = {...}` as a dict (literal_eval, no exec)."""
        path = (CORPUS / raw_rel).with_suffix(".py")
        source = path.read_text(encoding="utf-8")
        body = re.sub(r"^\s*expected_output\s*=\s*", "", source.strip(), count=1)
        value = ast.literal_eval(body)
        assert isinstance(value, dict)
        return value

    def json(self, rel: str | Path) -> Any:
        return json.loads((CORPUS / rel).read_text(encoding="utf-8"))


@pytest.fixture
def corpus() -> Corpus:
    return Corpus()
