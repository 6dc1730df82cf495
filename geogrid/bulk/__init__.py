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
    MultiPoint or a Point, and the CRS named by a legacy (GeoJSON 2008) ``crs`` member; a
    feature nesting arrays and objects deeper than :data:`MAX_DEPTH` (32) levels is a DataError
    naming it, as its properties are written back with the answers. Both take
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

from .csvfile import read_csv
from .geojson import MAX_DEPTH, read_geojson
from .locating import (
    ALL_FIELDS,
    ANSWER_FIELDS,
    ERROR_FIELD,
    WGS84_FIELDS,
    Results,
    locate,
    resolve_crs,
)
from .points import (
    LAT_NAMES,
    LON_NAMES,
    ColumnNotFound,
    CsvPoints,
    GeoJSONPoints,
    Points,
    TooManyPoints,
)
from .writing import to_geojson, write_csv, write_geojson

__all__ = [
    "MAX_DEPTH",
    "ALL_FIELDS",
    "ANSWER_FIELDS",
    "ColumnNotFound",
    "CsvPoints",
    "ERROR_FIELD",
    "GeoJSONPoints",
    "LAT_NAMES",
    "LON_NAMES",
    "Points",
    "Results",
    "TooManyPoints",
    "WGS84_FIELDS",
    "locate",
    "read_csv",
    "read_geojson",
    "resolve_crs",
    "to_geojson",
    "write_csv",
    "write_geojson",
]
