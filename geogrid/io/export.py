"""Writing one layer of a district out: GeoJSON, GeoPackage, Shapefile (short field names) or CSV."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .. import model
from ..errors import DataError, InputError
from .attributes import _text
from .schema import (
    _FORMAT_ALIASES,
    _SHP_MAX_NAME_BYTES,
    _SUFFIXES,
    FORMATS,
    LAYERS,
    SHAPEFILE_NAMES,
    SUFFIX_FORMATS,
)


# ---------------------------------------------------------------------- exporting
def export_layer(district: model.District, layer: str, path, fmt=None) -> Path:
    """Write one layer of ``district`` to ``path`` and return the path.

    ``layer`` is one of :data:`LAYERS`; ``fmt`` (geojson, gpkg, shp, csv) defaults to the one the
    suffix names (:data:`SUFFIX_FORMATS`). Grids get a ``level`` column (1 or 2). GeoJSON is RFC
    7946 (WGS-84, 7 decimals, UTF-8 Chinese as is); a GeoPackage gets a layer named ``layer``
    (other layers already in the file are kept, so all four can share one file); a Shapefile is
    UTF-8 with a ``.cpg``, long field names shortened by :data:`SHAPEFILE_NAMES`; CSV is UTF-8 with
    a byte-order mark (for Excel), points as ``lon``/``lat`` columns and polygons as a ``wkt``
    column. An existing file is replaced. When ``fmt`` is given and ``path`` lacks its suffix, the
    suffix is added (``grids`` with ``fmt="gpkg"`` writes ``grids.gpkg``): the returned path is
    the file written.
    """
    if layer not in LAYERS:
        raise InputError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    path = Path(path)
    fmt = _format(path, fmt)
    if SUFFIX_FORMATS.get(path.suffix.lower()) != fmt:
        path = path.with_name(path.name + _SUFFIXES[fmt])
    frame = _export_frame(district, layer)
    # an empty layer needs its type named; otherwise pyogrio takes it from the data (and
    # promotes mixed Polygon/MultiPolygon to MultiPolygon where the format needs one type)
    geometry_type = None if len(frame) else ("Point" if layer == "units" else "Polygon")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        path.unlink(missing_ok=True)
        options = {"RFC7946": "YES", "WRITE_NAME": "NO"}
        _write(
            path,
            frame,
            driver="GeoJSON",
            layer=layer,
            geometry_type=geometry_type,
            layer_options=options,
        )
    elif fmt == "gpkg":
        _write(path, frame, driver="GPKG", layer=layer, geometry_type=geometry_type)
    elif fmt == "shp":
        names = _shapefile_columns([c for c in frame.columns if c != frame.geometry.name])
        _write(
            path,
            frame.rename(columns=names),
            driver="ESRI Shapefile",
            encoding="UTF-8",
            geometry_type=geometry_type,
        )
    else:
        path.unlink(missing_ok=True)
        _write(path, _csv_frame(frame), driver="CSV", layer_options={"WRITE_BOM": "YES"})
    return path


def _format(path: Path, fmt) -> str:
    if fmt is None:
        found = SUFFIX_FORMATS.get(path.suffix.lower())
        if found is None:
            raise InputError(
                f"{path}: cannot tell the format from the suffix {path.suffix!r}; use one of "
                f"{', '.join(SUFFIX_FORMATS)} or pass fmt ({', '.join(FORMATS)})"
            )
        return found
    name = str(fmt).strip().lower().lstrip(".")
    name = _FORMAT_ALIASES.get(name, name)
    if name not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return name


def _export_frame(district: model.District, layer: str) -> gpd.GeoDataFrame:
    if layer == "outline":
        if district.outline is None:
            raise InputError("the district has no outline to export")
        props = {"code": district.code, "name": district.name}
        for key, value in district.meta.items():
            value = model.plain(value)
            if key not in props:
                props[key] = (
                    json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    else value
                )
        df = pd.DataFrame([props]).astype(object)
        return gpd.GeoDataFrame(df, geometry=[district.outline], crs="EPSG:4326")
    frame = getattr(district, layer)
    columns = model.LAYER_COLUMNS[layer]
    data = {}
    for col in columns:
        if col in model.INT_COLUMNS:
            data[col] = pd.array([model.plain(v) for v in frame[col]], dtype="Int64")
        else:
            data[col] = pd.Series([_text(v, col) for v in frame[col]], dtype=object)
    df = pd.DataFrame(data, index=range(len(frame)))
    if layer in ("grids1", "grids2"):
        df.insert(2, "level", pd.array([1 if layer == "grids1" else 2] * len(df), dtype="Int64"))
    return gpd.GeoDataFrame(df, geometry=list(frame.geometry), crs="EPSG:4326")


def _write(path: Path, frame: pd.DataFrame, **kwargs) -> None:
    try:
        pyogrio.write_dataframe(frame, path, **kwargs)
    except Exception as exc:  # pyogrio and GDAL raise many types
        reason = str(exc).strip() or type(exc).__name__
        raise DataError(f"{path}: cannot write {kwargs.get('driver')} ({reason})") from None


def _shapefile_columns(columns) -> dict[str, str]:
    """Short names for field names over 10 bytes: ours from SHAPEFILE_NAMES, others truncated."""
    renamed, used = {}, set()
    for col in columns:
        short = SHAPEFILE_NAMES.get(col, col)
        if len(short.encode("utf-8")) > _SHP_MAX_NAME_BYTES:
            short = _truncate_utf8(short, _SHP_MAX_NAME_BYTES)
            n = 1
            while short in used:  # keep names unique: name_1, name_2, ...
                suffix = f"_{n}"
                short = _truncate_utf8(col, _SHP_MAX_NAME_BYTES - len(suffix)) + suffix
                n += 1
        used.add(short)
        if short != col:
            renamed[col] = short
    return renamed


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _csv_frame(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attributes plus lon/lat columns (all points) or a WKT column (anything else)."""
    df = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    geoms = frame.geometry.values
    if len(frame) and bool(np.all(shapely.get_type_id(geoms) == 0)):
        df["lon"] = np.round(shapely.get_x(geoms), model.COORD_DECIMALS)
        df["lat"] = np.round(shapely.get_y(geoms), model.COORD_DECIMALS)
    else:
        wkt = shapely.to_wkt(geoms, rounding_precision=model.COORD_DECIMALS, trim=True)
        df["wkt"] = pd.Series(wkt, index=df.index, dtype=object)
    return df
