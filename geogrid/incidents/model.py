"""An incident as the application sees it: where it is, who owns the place, its event log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Incident:
    """A reported problem, where it is, who owns the place, and its event log."""

    id: int
    district_code: str
    version_id: int
    grid_code: str | None
    grid1_code: str | None
    lon: float
    lat: float
    category: str
    subcategory: str | None
    description: str
    channel: str
    reporter: str | None
    state: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    input: dict | None = None
    events: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("created_at", "updated_at", "due_at", "closed_at"):
            d[k] = d[k].isoformat() if d[k] else None
        d["events"] = [{**e, "at": e["at"].isoformat()} for e in self.events]
        return d
