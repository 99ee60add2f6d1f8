"""Merging the per-AP image table into the AP list, shared by both platforms."""

from __future__ import annotations

from dataclasses import replace

from bot.controllers.parsers.results import ApImageReport
from bot.domain.models import AccessPoint, ControllerSnapshot

# Image-table statuses that mean "no download going on": the AP keeps the
# state the summary gave it (or Registered, when the summary has no state).
IDLE_DOWNLOAD_STATUS = frozenset({"", "none", "complete", "completed", "na", "n/a", "-", "success", "registered"})


def merge_image_report(snapshot: ControllerSnapshot, report: ApImageReport, *, state_from_image: bool) -> None:
    """Add image versions, retry counts, predownloads (and, on AireOS, the download state) by AP name.

    An AP the image table names but the summary does not (AireOS lists only
    joined APs; a looping AP is not joined) is added, never dropped.
    """
    by_name = {ap.name: i for i, ap in enumerate(snapshot.aps)}
    for entry in report.entries:
        status = (entry.download_status or "").strip()
        predownload = (entry.predownload_status or "").strip() if entry.is_predownloading else None
        index = by_name.get(entry.name)
        if index is None:
            snapshot.aps.append(
                AccessPoint(
                    name=entry.name,
                    image_version=entry.primary_image,
                    state=status or None,
                    retry_count=entry.retry_count,
                    predownload=predownload,
                    predownload_version=entry.predownload_version if predownload else None,
                )
            )
            by_name[entry.name] = len(snapshot.aps) - 1
            continue
        ap = snapshot.aps[index]
        changes: dict[str, object] = {}
        if entry.primary_image and not ap.image_version:
            changes["image_version"] = entry.primary_image
        if entry.retry_count is not None:
            changes["retry_count"] = entry.retry_count
        if predownload:
            changes["predownload"] = predownload
            changes["predownload_version"] = entry.predownload_version
        if state_from_image and status.lower() not in IDLE_DOWNLOAD_STATUS:
            changes["state"] = status
        if changes:
            snapshot.aps[index] = replace(ap, **changes)  # type: ignore[arg-type]
