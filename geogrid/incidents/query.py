"""What a list of incidents asks for: filters, sort and page, parsed once from a mapping of
strings (a page's query string, the API's, a command's options) and read alike by every caller.

>>> q = IncidentQuery.parse({"state": "dispatched,handling", "overdue": "1", "sort": "-due_at"})
>>> q.states, q.overdue, q.sort
(('dispatched', 'handling'), True, '-due_at')
>>> IncidentQuery.parse({"id": "12, 7"}).ids
(12, 7)
>>> IncidentQuery.parse({"bbox": "118.9,32.0,119.0,32.2"}).bbox
(118.9, 32.0, 119.0, 32.2)
>>> IncidentQuery.parse({"limit": "0"})
Traceback (most recent call last):
...
geogrid.errors.InputError: limit: a whole number from 1 to 1000, got '0'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from ..errors import InputError
from ..workdays import BEIJING
from .rules import CHANNELS, STATES

#: Sort keys (``-`` first: descending).
SORTS = ("created_at", "updated_at", "due_at", "id", "grid_code", "category", "state")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
#: A list exported as a file holds at most this many rows.
MAX_EXPORT = 200_000


@dataclass(frozen=True)
class IncidentQuery:
    """Filters (each optional; all must hold), a sort key and a page."""

    ids: tuple[int, ...] = ()  # any of these incidents
    states: tuple[str, ...] = ()
    community: str | None = None  # a first-level grid's code
    grid: str | None = None  # a second-level grid's code
    category: str | None = None  # a category's code, or its major class's two digits
    channel: str | None = None
    office: str | None = None
    overdue: bool | None = None
    since: datetime | None = None  # reported at or after
    until: datetime | None = None  # reported before
    text: str | None = None  # in the description, address, reporter's name; or an id
    bbox: tuple[float, float, float, float] | None = None  # WGS-84 west, south, east, north
    sort: str = "-created_at"
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> IncidentQuery:
        """From strings; :class:`InputError` naming the parameter that is wrong."""

        def text(name):
            v = args.get(name)
            return v.strip() if v and v.strip() else None

        ids = tuple(i.strip() for i in (text("id") or "").split(",") if i.strip())
        if len(ids) > MAX_LIMIT or not all(
            i.isascii() and i.isdigit() and len(i) <= 18 for i in ids
        ):
            raise InputError(
                f"id: up to {MAX_LIMIT} incident numbers separated by commas, got {text('id')[:80]!r}"
            )
        states = tuple(s for s in (text("state") or "").split(",") if s.strip())
        for s in states:
            if s.strip() not in STATES:
                raise InputError(f"state: unknown state {s!r} (states: {', '.join(STATES)})")
        channel = text("channel")
        if channel and channel not in CHANNELS:
            raise InputError(
                f"channel: unknown channel {channel!r} (channels: {', '.join(CHANNELS)})"
            )
        category = text("category")
        if category and not (category.isdigit() and len(category) in (2, 4)):
            raise InputError(
                f"category: a category's 4-digit code or its class's 2 digits, got {category!r}"
            )
        sort = text("sort") or cls.sort
        if sort.lstrip("-") not in SORTS:
            raise InputError(
                f"sort: one of {', '.join(SORTS)} (with - first for descending), got {sort!r}"
            )
        overdue = text("overdue")
        if overdue is not None:
            if overdue.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise InputError(f"overdue: true or false, got {overdue!r}")
            overdue = overdue.lower() in ("1", "true", "yes")
        return cls(
            ids=tuple(int(i) for i in ids),
            states=tuple(s.strip() for s in states),
            community=text("community"),
            grid=text("grid"),
            category=category,
            channel=channel,
            office=text("office"),
            overdue=overdue,
            since=moment(text("since"), "since"),
            until=moment(text("until"), "until", end=True),
            text=text("q"),
            bbox=_box(text("bbox")),
            sort=sort,
            limit=_int(text("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
            offset=_int(text("offset"), "offset", 0, 0, 10**9),
        )

    def page(self, limit: int, offset: int = 0) -> IncidentQuery:
        return replace(self, limit=limit, offset=offset)

    def to_args(self) -> dict[str, str]:
        """The non-default parameters as strings (for links to other pages of the list)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v in (None, (), f.default):
                continue
            key = {"ids": "id", "states": "state", "text": "q"}.get(f.name, f.name)
            if isinstance(v, tuple):
                v = ",".join(map(str, v))
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, datetime):
                v = v.isoformat()
            out[key] = str(v)
        return out


def _box(value: str | None) -> tuple[float, float, float, float] | None:
    """``bbox``: a WGS-84 box, ``west,south,east,north``."""
    if value is None:
        return None
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        w = s = e = n = math.nan
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InputError(
            f"bbox: west,south,east,north in WGS-84 degrees, west before east, got {value[:80]!r}"
        )
    return w, s, e, n


def _int(value, name, default, low, high) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except ValueError:
        n = low - 1
    if not low <= n <= high:
        raise InputError(f"{name}: a whole number from {low} to {high}, got {value!r}")
    return n


def moment(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A date (Beijing day; ``until`` a date means to the end of that day) or an ISO 8601 time
    (local times are Beijing's)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1 if end else 0), time(0), BEIJING)
        else:
            moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=BEIJING)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError(
            f"{name}: a date (2026-12-06) or an ISO 8601 time, got {value[:40]!r}"
        ) from None
    if not 1900 <= moment.year <= 2200:
        raise InputError(f"{name}: a time between the years 1900 and 2200, got {value[:40]!r}")
    return moment
