"""What a request for features asks for (OGC API – Features): a page, a box, a time interval,
property values and an output CRS, parsed once from a mapping of strings and checked against
what the collection offers.

>>> q = FeatureQuery.parse({"limit": "5", "bbox": "118.9,32.0,119.0,32.2", "kind": "住宅小区"},
...                        queryables=("code", "kind"))
>>> q.limit, q.offset, q.bbox, q.filters
(5, 0, (118.9, 32.0, 119.0, 32.2), (('kind', '住宅小区'),))
>>> FeatureQuery.parse({"limit": "100000"}).limit  # beyond the maximum: the maximum
10000
>>> FeatureQuery.parse({"colour": "red"})
Traceback (most recent call last):
...
geogrid.errors.InputError: unknown parameter 'colour' (this collection takes: f, limit, offset, bbox, bbox-crs, crs)
>>> FeatureQuery.parse({"datetime": "2026-01-01T00:00:00Z/.."}, temporal=True).since
datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InputError
from ..incidents.query import moment
from .crs import bbox_to_wgs84, crs_key

#: Features in a page unless the request says (the standard's example default).
DEFAULT_LIMIT = 10
#: Most features in one page; a larger ``limit`` gets this many (the standard: not an error).
MAX_LIMIT = 10_000
#: Parameters every items request may carry: the format of the answer, the page,
#: the box and the CRSs.
COMMON = ("f", "limit", "offset", "bbox", "bbox-crs", "crs")
#: Parameters a request for one feature may carry.
ONE = ("f", "crs")


@dataclass(frozen=True)
class FeatureQuery:
    """A page of features (``limit`` from ``offset``) in a WGS-84 box, reported in a time
    interval, with these property values, in output CRS ``crs`` (``'CRS84'`` or ``'EPSG:N'``)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None  # WGS-84 west, south, east, north
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before
    filters: tuple[tuple[str, str], ...] = ()
    crs: str = "CRS84"
    version: int | None = None

    @classmethod
    def parse(
        cls,
        args: Mapping[str, str],
        *,
        queryables=(),
        temporal: bool = False,
        versioned: bool = False,
        max_limit: int = MAX_LIMIT,
        one: bool = False,
    ) -> FeatureQuery:
        """From a query string's values; :class:`InputError` naming the parameter for a value
        that is wrong, and for a parameter the collection does not take."""
        allowed = [
            *COMMON,
            *(["datetime"] if temporal else []),
            *(["version"] if versioned else []),
        ]
        for name in args:
            if name not in allowed and name not in queryables:
                raise InputError(
                    f"unknown parameter {name[:40]!r} (this collection takes: "
                    f"{', '.join([*allowed, *queryables])})"
                )
        since, until = _interval(args.get("datetime"))
        return cls(
            limit=min(_whole(args.get("limit"), "limit", DEFAULT_LIMIT, 1), max_limit),
            offset=_whole(args.get("offset"), "offset", 0, 0),
            bbox=_bbox(args.get("bbox"), crs_key(args.get("bbox-crs"), "bbox-crs")),
            since=since,
            until=until,
            filters=tuple((k, args[k]) for k in queryables if k in args),
            crs=crs_key(args.get("crs")),
            version=_whole(args.get("version"), "version", None, 1),
        )


def _whole(value, name: str, default, low: int) -> int | None:
    if value is None:
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or int(text) < low:
        raise InputError(f"{name}: a whole number of at least {low}, got {str(value)[:40]!r}")
    return int(text)


def _bbox(value, key: str) -> tuple[float, float, float, float] | None:
    """``bbox``: 4 numbers (or 6, with heights, which are ignored), lower corner first, in the
    axis order of ``bbox-crs``; answered as a WGS-84 box."""
    if value is None:
        return None
    parts = str(value).split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (4, 6) or not all(math.isfinite(n) for n in nums):
        raise InputError(
            f"bbox: 4 numbers separated by commas (lower corner, then upper corner), "
            f"got {str(value)[:80]!r}"
        )
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if nums[0] > nums[2] or nums[1] > nums[3]:
        raise InputError(f"bbox: the lower corner must come first, got {str(value)[:80]!r}")
    if key == "CRS84" and not (
        nums[0] >= -180 and nums[2] <= 180 and nums[1] >= -90 and nums[3] <= 90
    ):
        raise InputError(f"bbox: longitudes within ±180 and latitudes within ±90, got {value!r}")
    if key == "CRS84":
        return tuple(nums)
    try:
        return bbox_to_wgs84(nums, key)
    except InputError as exc:  # a box outside the area where the CRS converts
        raise InputError(f"bbox: {exc.message}") from None


def _interval(value) -> tuple[datetime | None, datetime | None]:
    """``datetime``: an instant, or an interval ``start/end`` with ``..`` (or nothing) for an
    open end; RFC 3339 times (a time without an offset, or a date, is Beijing's)."""
    if value is None:
        return None, None
    text = str(value).strip()
    if "/" not in text:
        if len(text) == 10:  # a whole day
            return moment(text, "datetime"), moment(text, "datetime", end=True)
        at = moment(text, "datetime")
        return at, at + timedelta(microseconds=1)
    start, _, end = text.partition("/")
    if start in ("", "..") and end in ("", ".."):
        raise InputError(f"datetime: an interval needs at least one end, got {text[:80]!r}")
    since = None if start in ("", "..") else moment(start, "datetime")
    if end in ("", ".."):
        until = None
    elif len(end) == 10:
        until = moment(end, "datetime", end=True)
    else:
        until = moment(end, "datetime") + timedelta(microseconds=1)
    if since is not None and until is not None and since >= until:
        raise InputError(f"datetime: the interval ends before it starts, got {text[:80]!r}")
    return since, until


__all__ = ["COMMON", "DEFAULT_LIMIT", "MAX_LIMIT", "FeatureQuery"]
