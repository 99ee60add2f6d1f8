"""Folding an AP table's own count and leftovers into the snapshot, for both platforms.

A read that returned 37 of the 4,135 APs the controller counts is not a
healthy 37-AP controller: the snapshot keeps the controller's count and an
`incomplete` error with the reason, so the verdict can never be ok and every
view says what is missing.
"""

from __future__ import annotations

from bot.controllers.parsers.results import ApImageReport, ApSummary
from bot.domain.models import ControllerSnapshot, ErrorKind, SnapshotError


def apply_summary(snapshot: ControllerSnapshot, summary: ApSummary, command: str) -> None:
    """The summary's APs become the snapshot's, with its count and any reason it is incomplete."""
    snapshot.aps = list(summary.access_points)
    snapshot.declared_ap_count = summary.declared_count
    snapshot.aps_read = True
    for reason in summary.incomplete_reasons:
        snapshot.errors.append(SnapshotError(ErrorKind.INCOMPLETE, reason, command))


def note_image_gaps(snapshot: ControllerSnapshot, report: ApImageReport, command: str) -> None:
    """Lines of the image table that could not be read hide download states: say so."""
    for reason in report.incomplete_reasons:
        snapshot.errors.append(SnapshotError(ErrorKind.INCOMPLETE, f"AP image table: {reason}", command))
