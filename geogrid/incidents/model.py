"""An incident as the application sees it: where it is, who owns the place and handles it, its
deadlines, and its log; and the flags (overdue, due soon, return visit due) read off them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .rules import DONE, RESOLVED, RUNNING

#: Fields that identify or reach the reporter and informant: never shown to the public
#: (Open311 reads) and left out of what a grid worker's neighbours see.
PRIVATE = ("reporter", "reporter_contact", "informant_name")

_TIMES = (
    "created_at",
    "updated_at",
    "dispatched_at",
    "due_at",
    "escalated_at",
    "office_due_at",
    "resolved_at",
    "revisit_due_at",
    "revisited_at",
    "closed_at",
)


@dataclass
class Incident:
    """A reported problem and everything recorded about it."""

    id: int
    district_code: str
    version_id: int
    grid_code: str | None
    grid1_code: str | None
    lon: float
    lat: float
    category: str
    description: str
    channel: str
    state: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    reporter: str | None = None
    reporter_contact: str | None = None
    informant_kind: str | None = None
    informant_name: str | None = None
    address: str | None = None
    unit_code: str | None = None
    worker: str | None = None
    office: str | None = None
    dispatched_at: datetime | None = None
    due_at: datetime | None = None
    escalated_at: datetime | None = None
    office_due_at: datetime | None = None
    resolved_at: datetime | None = None
    revisit_due_at: datetime | None = None
    revisited_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: str | None = None
    recurrences: int = 0
    merged_into: int | None = None
    media_url: str | None = None
    input: dict | None = None
    events: list[dict] = field(default_factory=list)
    photos: list[dict] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)

    # ---------------------------------------------------------------- flags
    def deadline(self) -> datetime | None:
        """The deadline running now: the office's while escalated, else the handling one."""
        if self.state not in RUNNING:
            return None
        return (
            self.office_due_at if self.state == "escalated" and self.office_due_at else self.due_at
        )

    def overdue(self, now: datetime) -> bool:
        d = self.deadline()
        return d is not None and now >= d

    def due_soon(self, now: datetime, within: timedelta) -> bool:
        d = self.deadline()
        return d is not None and now < d <= now + within

    def revisit_due(self, now: datetime) -> bool:
        """The return visit may be made: from the scheduled day on (the day before its deadline)."""
        return (
            self.state == RESOLVED
            and self.revisit_due_at is not None
            and now >= self.revisit_due_at - timedelta(days=1)
        )

    def flags(self, now: datetime, within: timedelta) -> dict:
        return {
            "overdue": self.overdue(now),
            "due_soon": self.due_soon(now, within),
            "revisit_due": self.revisit_due(now),
        }

    def closing_step(self) -> dict | None:
        """The entry of the log that ended the problem for its reporter (resolved, cancelled,
        merged: :data:`~geogrid.incidents.rules.DONE`), while the incident stays so; its note
        is the public answer to the report (Open311's ``status_notes``)."""
        if self.state not in DONE:
            return None
        return next(
            (
                e
                for e in reversed(self.events)
                if e["to_state"] in DONE and e["from_state"] not in DONE
            ),
            None,
        )

    def public(self) -> Incident:
        """A copy for readers outside the sub-district: no reporter's or informant's name or
        contact (:data:`PRIVATE`), no account names, no coordinates as typed, a log of steps without who took
        them or their notes (but the closing step's), photos without who took them."""
        closing = self.closing_step()
        events = [
            {k: e[k] for k in ("id", "at", "action", "from_state", "to_state")}
            | {"note": e["note"] if e is closing else "", "actor": "", "detail": {}}
            for e in self.events
        ]
        photos = [{**p, "key": "", "created_by": ""} for p in self.photos]
        return replace(
            self, **dict.fromkeys(PRIVATE), input=None, created_by="", events=events, photos=photos
        )

    def to_dict(self, *, private: bool = True) -> dict:
        """A JSON-ready mapping (datetimes as ISO 8601); without ``private``, no reporter's or
        informant's name or contact."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in _TIMES:
            d[k] = d[k].isoformat() if d[k] else None
        d["events"] = [{**e, "at": e["at"].isoformat()} for e in self.events]
        d["photos"] = [{**p, "created_at": p["created_at"].isoformat()} for p in self.photos]
        if not private:
            for k in PRIVATE:
                d.pop(k)
            d.pop("input")
            d["events"] = [
                {k: e[k] for k in ("at", "action", "from_state", "to_state")} for e in self.events
            ]
        return d
