"""Bulk location: a table of points in, the grid of every point out.

The one implementation behind ``geogrid locate --in FILE --out FILE`` and ``POST /api/v1/locate``.
It reads points, converts them to WGS-84, answers each with a
:class:`~geogrid.locate.Locator` and writes the answers back in the format the points came in.

Reading
    :func:`read_csv` takes CSV text or bytes: UTF-8, with or without the byte-order mark Excel
    writes, else GB18030 (Excel on Chinese Windows saves GBK, which GB18030 contains); other
    bytes are a :class:`~geogrid.errors.DataError`. The first non-blank row is the header; the
    coordinate columns are the first of :data:`LON_NAMES` and of :data:`LAT_NAMES` it has (case
    and surrounding spaces do not matter), or the columns the caller names. Blank lines are
    skipped. :func:`read_geojson` takes a FeatureCollection of Point features, a Feature, a
    MultiPoint or a Point, and the CRS named by a legacy (GeoJSON 2008) ``crs`` member. Both take
    a ``limit`` on the number of points (:class:`TooManyPoints`, HTTP 413). A file that cannot be
    used at all is a DataError; a row or feature whose coordinates cannot be read is not: it gets
    an error of its own, with its place in the file (:meth:`Points.where`: ``line 7``,
    ``feature 3``).
Locating
    :func:`locate` converts every readable point to WGS-84 at once (in the CRS the caller gives,
    else the file's ``crs`` member, else WGS-84), gives each point it cannot convert an error, and
    answers every other one with :meth:`Locator.locate <geogrid.locate.Locator.locate>`, as
    ``GET /api/v1/locate`` answers that point. Each answer is a dict of the fields the caller
    asks for (:data:`ALL_FIELDS`: :data:`ANSWER_FIELDS`, :data:`WGS84_FIELDS`, ``error``), made
    as the point is located (:attr:`Results.answers`); :meth:`Results.summary` counts them.
Writing
    :func:`write_csv` writes the input rows with the answers as added columns (a column already
    named like an answer field is filled in; candidates as their codes joined by ``;``; a GeoJSON
    input's properties and coordinates become columns). :func:`to_geojson` adds the answers to the
    properties of the input features, whose own geometry is kept (candidates as codes with
    distances); CSV rows become WGS-84 Point features. :func:`write_geojson` writes such an object
    to a file, a feature a line.

>>> from geogrid.locate import Locator
>>> from geogrid.model import District, default_data_dir
>>> locator = Locator(District.load(default_data_dir()))
>>> points = read_csv("编号,经度,纬度\\n1,118.93,32.11\\n\\n2,abc,32.1\\n3,118.5,32.0\\n")
>>> points.columns, len(points), points.where(1)
(('经度', '纬度'), 3, 'line 4')
>>> fields = ("grid2_code", "match", "needs_confirmation", "error")
>>> results = locate(points, locator, fields=fields)
>>> results.answers[0]
{'grid2_code': '320113005007007', 'match': 'interior', 'needs_confirmation': False, 'error': None}
>>> results.summary()
{'points': 3, 'located': 1, 'outside': 1, 'needs_confirmation': 0, 'errors': 1}
>>> results.problems()
["line 4: 经度 must be a number, got 'abc'"]
>>> import io
>>> out = io.StringIO()
>>> write_csv(results, out)
>>> print(out.getvalue().replace("\\r\\n", "\\n"), end="")
编号,经度,纬度,grid2_code,match,needs_confirmation,error
1,118.93,32.11,320113005007007,interior,false,
2,abc,32.1,,,,"经度 must be a number, got 'abc'"
3,118.5,32.0,,outside,false,
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, TextIO

import numpy as np
import orjson

from . import crs as _crs
from .errors import CoordinateError, DataError, InputError
from .io import CSV_X_NAMES, CSV_Y_NAMES
from .model import COORD_DECIMALS

if TYPE_CHECKING:
    from .locate import Location, Locator

#: Names of a CSV longitude (or x) and latitude (or y) column: those the importer reads.
LON_NAMES, LAT_NAMES = CSV_X_NAMES, CSV_Y_NAMES

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

#: Columns of a CSV header an error message shows at the most.
_SHOWN_COLUMNS = 20


class TooManyPoints(InputError):
    """More points than the caller's limit."""

    http_status = 413


class ColumnNotFound(DataError):
    """A CSV header without a longitude or latitude column (or without the column named)."""


# ============================================================================ points
class Points:
    """Points read from a file: coordinates as floats (NaN where unreadable), per-point errors
    (index: message), and the CRS the file names (a GeoJSON ``crs`` member), if any."""

    def __init__(self, xs, ys, errors: dict[int, str], crs: str | None = None):
        self.xs = np.asarray(xs, dtype=float)
        self.ys = np.asarray(ys, dtype=float)
        self.errors = errors
        self.crs = crs

    def __len__(self) -> int:
        return len(self.xs)

    def where(self, i: int) -> str:
        """The place of point ``i`` in the file, for messages."""
        return f"point {i + 1}"


class CsvPoints(Points):
    """The rows of a CSV file: ``header``, ``rows`` (lists of text, each as long as the
    header), the file ``lines`` they end on, the coordinate ``columns`` (indices ``xi``, ``yi``)
    and whether the text began with a byte-order mark (``bom``)."""

    def __init__(self, header, rows, lines, xi, yi, xs, ys, errors, bom: bool):
        super().__init__(xs, ys, errors)
        self.header = header
        self.rows = rows
        self.lines = lines
        self.xi, self.yi = xi, yi
        self.bom = bom

    @property
    def columns(self) -> tuple[str, str]:
        """The names of the longitude and latitude columns, as the header spells them."""
        return self.header[self.xi], self.header[self.yi]

    def where(self, i: int) -> str:
        return f"line {self.lines[i]}"


class GeoJSONPoints(Points):
    """The points of a GeoJSON object ``obj`` (``kind``: its type); ``items`` are its features
    (a FeatureCollection), the object itself (a Feature or a Point), or its positions (a
    MultiPoint)."""

    def __init__(self, kind: str, obj: dict, items: list, xs, ys, errors, crs):
        super().__init__(xs, ys, errors, crs)
        self.kind = kind
        self.obj = obj
        self.items = items

    def where(self, i: int) -> str:
        return f"{'point' if self.kind in ('MultiPoint', 'Point') else 'feature'} {i + 1}"

    def properties(self, i: int) -> dict:
        """The properties of point ``i`` (a MultiPoint's points have their ``index``)."""
        if self.kind == "MultiPoint":
            return {"index": i}
        item = self.items[i]
        props = item.get("properties") if type(item) is dict else None
        return props if type(props) is dict else {}

    def position(self, i: int) -> list | None:
        """The coordinates of point ``i`` as the file has them (None when there are none)."""
        item = self.items[i]
        if self.kind in ("FeatureCollection", "Feature"):
            item = item.get("geometry") if type(item) is dict else None
        if self.kind != "MultiPoint":
            item = item.get("coordinates") if type(item) is dict else None
        return item if type(item) is list else None


# ---------------------------------------------------------------------------- CSV
def _decode(data: bytes | str) -> tuple[str, bool]:
    """CSV text, and whether it began with a UTF-8 byte-order mark."""
    if isinstance(data, str):
        return (data[1:], True) if data.startswith("\ufeff") else (data, False)
    bom = data.startswith(codecs.BOM_UTF8)
    skip = len(codecs.BOM_UTF8) if bom else 0
    try:
        return data[skip:].decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        where = exc.start + skip
    if not bom:  # a byte-order mark says UTF-8: no second guess then
        try:
            return data.decode("gb18030"), False  # Excel on Chinese Windows saves GBK
        except UnicodeDecodeError:
            pass
    raise DataError(
        f"the CSV is neither UTF-8 nor GB18030 text (not UTF-8 from byte {where})"
    ) from None


def _shown(header: list[str]) -> str:
    names = ", ".join(h[:30] for h in header[:_SHOWN_COLUMNS])
    more = len(header) - _SHOWN_COLUMNS
    return names + (f" and {more} more" if more > 0 else "")


def _column(header: list[str], given: str | None, names: tuple[str, ...], what: str) -> int:
    folded: dict[str, int] = {}
    for i, name in enumerate(header):
        folded.setdefault(name.strip().casefold(), i)
    if given is not None:
        if given in header:
            return header.index(given)
        if given.strip().casefold() in folded:
            return folded[given.strip().casefold()]
        raise ColumnNotFound(f"no column {given[:60]!r}; the columns are: {_shown(header)}")
    for name in names:
        if name in folded:
            return folded[name]
    raise ColumnNotFound(
        f"no {what} column (looked for {', '.join(names)}): the CSV header needs lon and lat "
        f"(or x and y) columns; it has: {_shown(header)}"
    )


def read_csv(
    data: bytes | str,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    limit: int | None = None,
) -> CsvPoints:
    """The rows of a CSV file (bytes or text) and the point of each.

    ``lon_column``/``lat_column`` name the coordinate columns (else they are found by
    :data:`LON_NAMES`, :data:`LAT_NAMES`). A row whose coordinates are missing, empty or not
    numbers gets an error; so does a row with more values than the header (unless the extra ones
    are empty). Raises :class:`~geogrid.errors.DataError` for text that is not UTF-8 or GB18030,
    a malformed or empty file, or a missing column (:class:`ColumnNotFound`), and
    :class:`TooManyPoints` for more than ``limit`` rows.
    """
    text, bom = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if any(row):  # blank lines, and rows of nothing but separators
                records.append(row)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"not a readable CSV file: {exc} (line {reader.line_num})") from None
    if not records:
        raise DataError(
            "the CSV is empty: it needs a header row with lon and lat (or x and y) columns"
        )
    header, rows, lines = records[0], records[1:], lines[1:]
    xi = _column(header, lon_column, LON_NAMES, "longitude")
    yi = _column(header, lat_column, LAT_NAMES, "latitude")
    if xi == yi:
        raise ColumnNotFound(f"the longitude and the latitude column are both {header[xi]!r}")
    _check_count(len(rows), limit)
    n, width, need = len(rows), len(header), max(xi, yi)
    errors: dict[int, str] = {}
    for i, row in enumerate(rows):  # every row as long as the header
        if len(row) > width:
            extra = any(v.strip() for v in row[width:])
            rows[i] = row[:width]
            if extra:
                errors[i] = f"the row has more values than the header's {width} columns"
        elif len(row) < width:
            rows[i] = row + [""] * (width - len(row))
            if len(row) <= need:
                errors[i] = f"the row has {len(row)} values, fewer than the header's {width}"
    xs, ys = np.full(n, math.nan), np.full(n, math.nan)
    todo = [i for i in range(n) if i not in errors] if errors else list(range(n))
    fx = _plain_floats([rows[i][xi] for i in todo])
    fy = _plain_floats([rows[i][yi] for i in todo]) if fx is not None else None
    if fx is not None and fy is not None:  # the usual file: plain numbers only
        xs[todo], ys[todo] = fx, fy
        todo = [todo[k] for k in np.flatnonzero(~(np.isfinite(fx) & np.isfinite(fy))).tolist()]
    xname, yname = header[xi].strip(), header[yi].strip()
    parse = _crs.parse_coordinate
    for i in todo:  # one by one, as a single point's coordinates are read
        x, y = rows[i][xi], rows[i][yi]
        try:
            xs[i], ys[i] = parse(x, xname), parse(y, yname)
        except CoordinateError:
            xs[i] = ys[i] = math.nan
            errors[i] = _coordinate_problem(((x, xname), (y, yname)))
    return CsvPoints(header, rows, lines, xi, yi, xs, ys, errors, bom)


#: A number :func:`~geogrid.crs.parse_coordinate` reads as ``float`` does, written plainly.
_PLAIN_NUMBER = re.compile(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")


def _plain_floats(values: list[str]) -> np.ndarray | None:
    """The values as floats when every one is a plainly written number, else None (then they
    are read one by one)."""
    if all(map(_PLAIN_NUMBER.fullmatch, values)):
        return np.fromiter(map(float, values), dtype=float, count=len(values))
    return None


def _coordinate_problem(pairs) -> str:
    """What is wrong with the first bad (value, column name) pair."""
    for value, name in pairs:
        if not value.strip():
            return f"{name} is empty"
        try:
            _crs.parse_coordinate(value, name)
        except CoordinateError as exc:
            return exc.message
    return "unreadable coordinates"


def _check_count(n: int, limit: int | None) -> None:
    if limit is not None and n > limit:
        raise TooManyPoints(f"too many points: {n} (limit {limit}); split the file")


# ---------------------------------------------------------------------------- GeoJSON
_GEOJSON_KINDS = "a GeoJSON FeatureCollection of Points, a Feature, a MultiPoint or a Point"


def _loads(data: bytes | str):
    """Parsed JSON: orjson (several times faster on 100,000 features), else the standard module,
    which also reads what orjson refuses but a point can still be told about (integers beyond
    64 bits, ``NaN``) and words its errors better."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError):
        pass
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DataError(f"not valid JSON: {str(exc)[:120]}") from None


def _number(v) -> float:
    """A JSON coordinate as a float (NaN when it is not a number)."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        try:
            return float(v)
        except OverflowError:
            return math.nan
    return math.nan


def _position(pos) -> tuple[float, float, str | None]:
    if type(pos) is not list or len(pos) < 2:
        return math.nan, math.nan, "coordinates must be an array [x, y]"
    if type(pos[0]) not in (int, float) or type(pos[1]) not in (int, float):
        return math.nan, math.nan, "coordinates must be numbers"
    return _number(pos[0]), _number(pos[1]), None


def _point_of(feature) -> tuple[float, float, str | None]:
    if type(feature) is not dict:
        return math.nan, math.nan, "not a GeoJSON Feature"
    geom = feature.get("geometry")
    if type(geom) is not dict:
        return math.nan, math.nan, "the feature has no geometry"
    if geom.get("type") != "Point":
        return math.nan, math.nan, f"geometry must be a Point, got {str(geom.get('type'))[:30]!r}"
    return _point(geom)


def _point(geometry: dict) -> tuple[float, float, str | None]:
    return _position(geometry.get("coordinates"))


#: Per kind of GeoJSON object, the member holding its points (None: the object is the one point)
#: and how a point is read.
_READERS = {
    "FeatureCollection": ("features", _point_of),
    "Feature": (None, _point_of),
    "MultiPoint": ("coordinates", _position),
    "Point": (None, _point),
}


def _legacy_crs(obj: dict) -> str | None:
    """The CRS named by a GeoJSON 2008 ``crs`` member (as QGIS and GDAL still write)."""
    member = obj.get("crs")
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise DataError('the "crs" member must be {"type": "name", "properties": {"name": ...}}')
    return _crs.normalize_crs(name)


def read_geojson(data: bytes | str, *, limit: int | None = None) -> GeoJSONPoints:
    """The points of a GeoJSON text: a FeatureCollection of Point features, a Feature, a
    MultiPoint or a Point.

    A feature without a Point, or a position that is not two numbers, gets an error. Raises
    :class:`~geogrid.errors.DataError` for text that is not JSON or not one of those objects (or
    a malformed ``crs`` member), :class:`~geogrid.errors.CRSError` for an unknown CRS there, and
    :class:`TooManyPoints` for more than ``limit`` points.
    """
    obj = _loads(data)
    kind = obj.get("type") if isinstance(obj, dict) else None
    member, read = _READERS.get(kind, (None, None)) if isinstance(kind, str) else (None, None)
    if read is None:
        got = str(kind)[:40] if kind else "something else"
        raise DataError(f"expected {_GEOJSON_KINDS}, got {got}")
    if member is None:
        items = [obj]
    else:
        items = obj.get(member)
        if not isinstance(items, list):
            raise DataError(f'a {kind} needs a "{member}" array')
        _check_count(len(items), limit)
    found = [read(item) for item in items]
    crs = _legacy_crs(obj)
    xs = [p[0] for p in found]
    ys = [p[1] for p in found]
    errors = {i: p[2] for i, p in enumerate(found) if p[2] is not None}
    return GeoJSONPoints(kind, obj, items, xs, ys, errors, crs)


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


# ============================================================================ writing
def _cell(value) -> str:
    """A GeoJSON property value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _table(results: Results) -> tuple[list[str], list[list]]:
    """The input as a header and rows of text."""
    points = results.points
    if isinstance(points, CsvPoints):
        return list(points.header), points.rows
    props = [points.properties(i) for i in range(len(points))]
    header = list(dict.fromkeys(k for p in props for k in p))
    rows = [[_cell(p.get(c)) for c in header] for p in props]
    for k, axis in enumerate(_crs.axis_names(results.crs)):  # the points as two columns
        if axis not in header:
            header.append(axis)
            for i, row in enumerate(rows):
                pos = points.position(i)
                row.append(_cell(pos[k]) if pos is not None and len(pos) > k else "")
    return header, rows


def write_csv(results: Results, out: TextIO, *, bom: bool = False) -> None:
    """Write the input rows with the answer fields added, as CSV, to text file ``out``.

    A column already named like a field (case and spaces aside) is filled in, not repeated.
    Booleans are written true/false, candidates as their codes joined by ``;``. ``bom`` starts
    the text with a byte-order mark, which Excel needs to read UTF-8.
    """
    header, rows = _table(results)
    folded: dict[str, int] = {}
    for j, name in enumerate(header):
        folded.setdefault(name.strip().casefold(), j)
    given = len(header)
    columns = []
    for f in results.fields:
        j = folded.get(f)
        if j is None:
            j = len(header)
            header.append(f)
        columns.append(j)
    appended = columns == list(range(given, len(header)))  # the usual case: no column reused
    pad = [""] * (len(header) - given)
    fields = results.fields
    candidates = fields.index("candidates") if "candidates" in fields else None
    confirm = fields.index("needs_confirmation") if "needs_confirmation" in fields else None
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)  # writes None as an empty cell
    writer.writerow(header)
    for row, answer in zip(rows, results.answers, strict=True):
        values = list(answer.values())
        if candidates is not None and values[candidates] is not None:
            values[candidates] = ";".join(c["code"] for c in values[candidates])
        if confirm is not None and values[confirm] is not None:
            values[confirm] = "true" if values[confirm] else "false"
        if appended:
            row = row + values
        else:
            row = row + pad
            for j, value in zip(columns, values, strict=True):
                row[j] = value
        writer.writerow(row)


def _with_answer(feature, answer: dict, index: int | None = None) -> dict:
    """The feature (changed in place) with the answer added to its properties."""
    if type(feature) is not dict:
        props = answer if index is None else {"index": index, **answer}
        return {"type": "Feature", "geometry": None, "properties": props}
    props = feature.get("properties")
    if type(props) is dict:
        if index is not None:
            props["index"] = index
        props.update(answer)
    else:
        feature["properties"] = answer if index is None else {"index": index, **answer}
    return feature


def to_geojson(results: Results, *, version: int | None = None) -> dict:
    """The points as GeoJSON with the answers in their properties.

    The input's own features are used, changed in place, with their geometry as it came; a
    Feature or a Point gives a Feature, anything else a FeatureCollection with a ``summary``
    (a MultiPoint's points become features with an ``index`` property, CSV rows WGS-84 Point
    features). A ``crs`` member is kept; ``version`` is added when given.
    """
    points, answers = results.points, results.answers
    crs_member = None
    if isinstance(points, GeoJSONPoints):
        obj, kind = points.obj, points.kind
        if kind in ("Feature", "Point"):
            feature = obj if kind == "Feature" else {"type": "Feature", "geometry": obj}
            out = _with_answer(feature, answers[0])
            if version is not None:
                out["version"] = version
            return out
        if kind == "MultiPoint":
            features = [
                _with_answer(
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": p}}
                    if isinstance(p, list)
                    else None,
                    a,
                    index=i,
                )
                for i, (p, a) in enumerate(zip(points.items, answers, strict=True))
            ]
        else:
            features = [_with_answer(f, a) for f, a in zip(points.items, answers, strict=True)]
        crs_member = obj.get("crs")
    else:
        header, rows = _table(results)
        lons = [round(v, COORD_DECIMALS) for v in results.lon.tolist()]
        lats = [round(v, COORD_DECIMALS) for v in results.lat.tolist()]
        features = []
        for row, a, x, y in zip(rows, answers, lons, lats, strict=True):
            props = dict(zip(header, row, strict=False))
            props.update(a)
            geometry = None
            if x == x:  # not NaN: located, a WGS-84 point (RFC 7946)
                geometry = {"type": "Point", "coordinates": [x, y]}
            features.append({"type": "Feature", "properties": props, "geometry": geometry})
    out = {"type": "FeatureCollection"}
    if version is not None:
        out["version"] = version
    out["summary"] = results.summary()
    out["features"] = features
    if crs_member is not None:
        out["crs"] = crs_member
    return out


def _dumps(obj) -> str:
    try:
        return orjson.dumps(obj).decode()
    except TypeError:  # an integer beyond 64 bits: the standard library keeps it exact
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_geojson(obj: dict, out: TextIO) -> None:
    """Write a GeoJSON object to text file ``out``, a FeatureCollection a feature a line."""
    features = obj.get("features")
    if obj.get("type") != "FeatureCollection" or not isinstance(features, list):
        out.write(_dumps(obj) + "\n")
        return
    head = _dumps({k: v for k, v in obj.items() if k != "features"})
    out.write(head[:-1] + ',"features":[\n')
    for n, feature in enumerate(features):
        out.write(("," if n else "") + _dumps(feature) + "\n")
    out.write("]}\n")
