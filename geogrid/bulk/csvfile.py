"""Reading points from CSV: the encoding, the header and its coordinate columns, the numbers."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re

import numpy as np

from .. import crs as _crs
from ..errors import CoordinateError, DataError
from .points import (
    _SHOWN_COLUMNS,
    LAT_NAMES,
    LON_NAMES,
    ColumnNotFound,
    CsvPoints,
    _check_count,
)


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
