"""Writing the answers back: CSV with added columns, GeoJSON with added properties."""

from __future__ import annotations

import csv
import json
from typing import TextIO

import orjson

from .. import crs as _crs
from ..model import COORD_DECIMALS
from .locating import Results
from .points import CsvPoints, GeoJSONPoints


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
