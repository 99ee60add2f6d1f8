"""AP model classification against the advisory's family table (`bot.domain.ap_models`)."""

from __future__ import annotations

import pytest

from bot.domain.advisory_data import ModelCategory
from bot.domain.ap_models import classify_model

A = ModelCategory.AFFECTED
L = ModelCategory.LIKELY_AFFECTED
N = ModelCategory.NOT_AFFECTED
U = ModelCategory.UNKNOWN


# ---------------------------------------------------------------------------
# model classification
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "category", "family"),
    [
        # full PIDs from the brief / domain reference
        ("AIR-CAP3702I-E-K9", A, "ap3700"),
        ("AIR-LAP1142N-A-K9", L, "ap1140"),
        ("AIR-AP1852I-E-K9", N, "ap1800"),
        ("C9120AXI-E", N, "c91xx"),
        ("IW3702-2E-UXK9", A, "iw3702"),
        ("AIR-CAP1532I-E-K9", A, "ap1530"),
        ("AIR-AP1562E", N, "ap1560"),
        ("C9130AXI-B", N, "c91xx"),
        ("CW9166I-B", N, "cw91xx"),
        ("AIR-CAP702W", A, "ap700"),
        ("AIR-AP802GN", A, "ap802"),
        ("AP803", A, "ap803"),
        # short 9800 names
        ("3702I", A, "ap3700"),
        ("2702E", A, "ap2700"),
        ("9130AXI", N, "c91xx"),
        ("1852I", N, "ap1800"),
        ("1702I", A, "ap1700"),
        # seen in the corpus captures
        ("AIR-CAP2602I-A-K9", A, "ap2600"),
        ("AIR-AP3802I-B-K9", N, "ap3800"),
        ("AIR-AP2802I-E-K9", N, "ap2800"),
        ("AIR-AP4800-B-K9", N, "ap4800"),
        ("AIR-AP1815I-A-K9", N, "ap1800"),
        ("C9124AXE-B", N, "c91xx"),
        ("3802I", N, "ap3800"),
        ("9120AXI", N, "c91xx"),
        ("AIR-CAP2702E-E-K9", A, "ap2700"),
        # the rest of the named families
        ("AIR-CAP1572EAC-B-K9", A, "ap1570"),
        ("AIR-CAP1552E-A-K9", A, "ap1550"),
        ("AIR-CAP3602I-A-K9", A, "ap3600"),
        ("AIR-CAP1602I-E-K9", A, "ap1600"),
        ("AIR-CAP3502I-A-K9", A, "ap3500"),
        ("AIR-AP1542I-B-K9", N, "ap1540"),
        ("AIR-AP1832I-E-K9", N, "ap1800"),
        # likely affected: older lightweight IOS
        ("AIR-LAP1142N-E-K9", L, "ap1140"),
        ("AIR-LAP1041N-E-K9", L, "ap1040"),
        ("AIR-LAP1262N-A-K9", L, "ap1260"),
        ("AIR-LAP1252AG-E-K9", L, "ap1250"),
        # tolerant of case and whitespace
        ("air-cap3702i-e-k9", A, "ap3700"),
        ("  3702I  ", A, "ap3700"),
    ],
)
def test_classify_model(model: str, category: ModelCategory, family: str) -> None:
    result = classify_model(model)
    assert result.category is category, result.reason
    assert result.family_id == family
    assert result.model == model
    assert result.reason


@pytest.mark.parametrize(
    "model",
    [
        None,
        "",
        "   ",
        "AIR-CT3504-K9",
        "AIR-OEAP602I-A-K9",
        "IW-6300H-AC-B-K9",
        "C9800-CL",
        "hello",
        "ESW6300",
    ],
)
def test_unknown_models_are_reported_not_guessed(model: str | None) -> None:
    result = classify_model(model)
    assert result.category is U
    assert result.family_id is None
    assert not result.at_risk
    if model and model.strip():
        assert repr(model) in result.reason  # the string is shown, not swallowed


def test_iw3702_is_its_own_family_not_3700() -> None:
    # the 17.6.4 / 17.9.2 APSPs fix IW3702 only, so the two must never merge
    assert classify_model("IW3702-2E-UXK9").family_id == "iw3702"
    assert classify_model("AIR-CAP3702I-E-K9").family_id == "ap3700"


def test_reasons_say_why() -> None:
    assert "not named" in classify_model("AIR-LAP1142N-A-K9").reason
    assert "AP-COS" in classify_model("AIR-AP1852I-E-K9").reason
    assert "affected" in classify_model("AIR-CAP3702I-E-K9").reason
    assert classify_model("AIR-CAP3702I-E-K9").at_risk
    assert classify_model("AIR-LAP1142N-A-K9").at_risk
    assert not classify_model("C9120AXI-E").at_risk
