"""The workflow's settings: when a return visit falls due, what counts as due soon and as a
possible duplicate, and where photos go. Read once per process from the ``GEOGRID_*`` variables
(:mod:`geogrid.settings`); a test or a caller may pass its own.

>>> p = Policy()
>>> p.revisit_workdays, p.due_soon.total_seconds() / 3600, p.duplicate_radius_m
(3, 24.0, 100.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .. import settings
from .photos import PhotoFolder
from .warnings import WarningSettings

#: At most this many photos per step of the workflow.
MAX_PHOTOS = 9


@dataclass(frozen=True)
class Policy:
    revisit_workdays: int = 3
    due_soon: timedelta = timedelta(hours=24)
    duplicate_radius_m: float = 100.0
    duplicate_window: timedelta = timedelta(days=7)
    photo_dir: Path | None = None
    photo_max_bytes: int = 10 * 2**20
    #: the early-warning rules' thresholds (:mod:`.warnings`)
    warnings: WarningSettings = field(default_factory=WarningSettings)

    @classmethod
    def from_settings(cls) -> Policy:
        n = settings.number
        photo_dir = settings.get("GEOGRID_PHOTO_DIR")
        return cls(
            revisit_workdays=int(n("GEOGRID_REVISIT_WORKDAYS", 3, 1, 40)),
            due_soon=timedelta(hours=n("GEOGRID_DUE_SOON_HOURS", 24, 0, 24 * 30)),
            duplicate_radius_m=n("GEOGRID_DUPLICATE_RADIUS_M", 100, 0, 5000),
            duplicate_window=timedelta(days=n("GEOGRID_DUPLICATE_DAYS", 7, 0, 365)),
            photo_dir=Path(photo_dir) if photo_dir else settings.instance_dir() / "photos",
            photo_max_bytes=int(n("GEOGRID_PHOTO_MAX_MB", 10, 0.01, 100) * 2**20),
            warnings=WarningSettings.from_settings(),
        )

    def photos(self) -> PhotoFolder:
        return PhotoFolder(
            self.photo_dir or settings.instance_dir() / "photos", max_bytes=self.photo_max_bytes
        )
