"""Locating the points read: the answer fields, converting to WGS-84, the answers and their
summary."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .. import crs as _crs
from ..errors import CoordinateError, InputError
from ..model import COORD_DECIMALS
from .points import Points

if TYPE_CHECKING:
    from ..locate import Location, Locator


#: The fields of a located point's answer, in column order (``candidates``: the other grids
#: within the confirmation distance, nearest first).
ANSWER_FIELDS = (
    "grid2_code",
    "grid2_name",
    "grid1_code",
    "grid1_name",
    "worker",
    "worker_phone",
    "match",
    "distance_m",
    "needs_confirmation",
    "candidates",
)


#: The point in WGS-84, for input in another CRS.
WGS84_FIELDS = ("wgs84_lon", "wgs84_lat")


#: Why a point has no answer (empty for a located point).
ERROR_FIELD = "error"


#: Every field an answer can have, in the order answers have them.
ALL_FIELDS = (*ANSWER_FIELDS, *WGS84_FIELDS, ERROR_FIELD)


# ============================================================================ locating
@lru_cache(maxsize=64)
def resolve_crs(points: Points, crs: str | None = None) -> str:
    """The CRS to read ``points`` in: ``crs`` when given, else the file's, else WGS-84.

    Raises :class:`~geogrid.errors.InputError` when both are given and differ.
    """
    if crs is None or crs == "":
        return points.crs or "wgs84"
    crs = _crs.normalize_crs(crs)
    if points.crs is not None and points.crs != crs:
        raise InputError(
            f"the CRS given ({crs}) and the file's crs member ({points.crs}) disagree; "
            "give one of them"
        )
    return crs


def _to_wgs84(points: Points, crs: str):
    """WGS-84 lon/lat of the readable points, whether each is good, and every point's error."""
    xs, ys = points.xs, points.ys
    errors = dict(points.errors)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if _crs.is_geographic(crs):
        ok &= (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
    lon, lat = np.full(len(xs), math.nan), np.full(len(xs), math.nan)
    idx = np.flatnonzero(ok)
    if len(idx):
        with np.errstate(all="ignore"):  # results that are not finite are reported below
            lon[idx], lat[idx] = _crs.to_wgs84(xs[idx], ys[idx], crs)
    good = ok & np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    for i in np.flatnonzero(~good).tolist():
        if i in errors:
            continue
        try:  # the single-point check words the problem exactly as a single locate would
            _crs.input_to_wgs84(float(xs[i]), float(ys[i]), crs)
            errors[i] = f"({xs[i]!r}, {ys[i]!r}) in {crs} has no lon/lat"
        except CoordinateError as exc:
            errors[i] = exc.message
    return lon, lat, good, errors


@lru_cache(maxsize=16)
def _answer_maker(fields: tuple[str, ...]) -> Callable[[Location], dict]:
    """A function giving the ``fields`` of the answer for a located point, as JSON values.

    One plain function with the choice of fields made beforehand, rather than a getter per
    field: it runs once for each of up to 100,000 points of a request, where every call counts.
    """
    has = [f in fields for f in ALL_FIELDS]
    code2, name2, code1, name1, worker, phone, match, distance, confirm, cands = has[:10]
    lon, lat, error = has[10:]

    def answer(a: Location) -> dict:
        g2, g1 = a.grid2, a.grid1
        out = {}
        if code2:
            out["grid2_code"] = g2.code if g2 is not None else None
        if name2:
            out["grid2_name"] = g2.name if g2 is not None else None
        if code1:
            out["grid1_code"] = g1.code if g1 is not None else None
        if name1:
            out["grid1_name"] = g1.name if g1 is not None else None
        if worker:
            out["worker"] = g2.people.get("worker") if g2 is not None else None
        if phone:
            out["worker_phone"] = g2.people.get("worker_phone") if g2 is not None else None
        if match:
            out["match"] = a.match
        if distance:
            out["distance_m"] = round(a.distance_m, 2)
        if confirm:
            out["needs_confirmation"] = a.needs_confirmation
        if cands:
            out["candidates"] = [
                {"code": c.grid.code, "distance_m": round(c.distance_m, 2)} for c in a.candidates
            ]
        if lon:
            out["wgs84_lon"] = round(a.lon, COORD_DECIMALS)
        if lat:
            out["wgs84_lat"] = round(a.lat, COORD_DECIMALS)
        if error:
            out[ERROR_FIELD] = None
        return out

    return answer


def locate(
    points: Points,
    locator: Locator,
    crs: str | None = None,
    *,
    fields: Iterable[str] = ALL_FIELDS,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> Results:
    """Answer every point: the answer ``fields`` (in the order of :data:`ALL_FIELDS`) of
    ``locator``'s answer, or, all None but ``error``, why the point has none.

    ``crs`` is the CRS of the coordinates (see :func:`resolve_crs`). ``progress(iterable,
    total)``, if given, wraps the loop over the points (a progress bar).
    """
    want = set(fields)
    if not want <= set(ALL_FIELDS):
        raise ValueError(f"unknown answer fields {sorted(want - set(ALL_FIELDS))}")
    fields = tuple(f for f in ALL_FIELDS if f in want)
    crs = resolve_crs(points, crs)
    lon, lat, good, errors = _to_wgs84(points, crs)
    todo: Iterable = zip(lon.tolist(), lat.tolist(), good.tolist(), strict=True)
    if progress is not None:
        todo = progress(todo, len(points))
    one, answer = locator.locate, _answer_maker(fields)
    answers = [answer(one(x, y)) if g else None for x, y, g in todo]
    blank = dict.fromkeys(fields)
    for i, message in errors.items():  # every point not located has its error
        answers[i] = {**blank, ERROR_FIELD: message} if ERROR_FIELD in want else blank.copy()
    return Results(points, crs, fields, answers, lon, lat, errors)


class Results:
    """The answers for a set of points: ``answers`` (dicts of the ``fields``, in order, with
    JSON values), each point's WGS-84 ``lon``/``lat`` (NaN for a point in error), ``errors``
    (index: message), and the ``crs`` the points were read in."""

    def __init__(self, points, crs, fields, answers, lon, lat, errors):
        self.points = points
        self.crs = crs
        self.fields = fields
        self.answers = answers
        self.lon, self.lat = lon, lat
        self.errors = errors

    def __len__(self) -> int:
        return len(self.answers)

    def _field(self, name: str) -> list:
        if name not in self.fields:
            raise ValueError(f"the answers have no {name!r} field; locate with it")
        return [a[name] for a in self.answers]

    @cached_property
    def outside(self) -> list[int]:
        """Indices of the points outside the district (needs the ``match`` field)."""
        return [i for i, m in enumerate(self._field("match")) if m == "outside"]

    def summary(self) -> dict:
        """How many points there are, located in a grid, outside the district, near a boundary
        (confirm with the caller), and in error (needs the ``match`` and ``needs_confirmation``
        fields)."""
        n, outside, errors = len(self.answers), len(self.outside), len(self.errors)
        return {
            "points": n,
            "located": n - outside - errors,
            "outside": outside,
            "needs_confirmation": sum(1 for c in self._field("needs_confirmation") if c),
            "errors": errors,
        }

    def problems(self) -> list[str]:
        """``"<where>: <error>"`` for every point in error, in file order."""
        where = self.points.where
        return [f"{where(i)}: {self.errors[i]}" for i in sorted(self.errors)]
