"""Points read from a file: the CSV rows or GeoJSON items, their coordinates, their errors and
where each is in the file; the limit on their number."""

from __future__ import annotations

import numpy as np

from ..errors import DataError, InputError
from ..io.schema import CSV_X_NAMES, CSV_Y_NAMES

#: Names of a CSV longitude (or x) and latitude (or y) column: those the importer reads.
LON_NAMES, LAT_NAMES = CSV_X_NAMES, CSV_Y_NAMES


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


def _check_count(n: int, limit: int | None) -> None:
    if limit is not None and n > limit:
        raise TooManyPoints(f"too many points: {n} (limit {limit}); split the file")
