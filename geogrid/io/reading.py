"""Reading one layer of a vector file with pyogrio: picking the layer, the Shapefile encoding, the
CRS, and the geometries in WGS-84 lon/lat."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from .. import crs as _crs
from ..errors import DataError, GeogridError
from ..nesting import MAX_DEPTH, text_too_deep, too_deep
from .schema import _NO_CRS_OK_DRIVERS, CSV_WKT_NAMES, CSV_X_NAMES, CSV_Y_NAMES


# ---------------------------------------------------------------------- reading
def read_layer(path, *, layer=None, src_crs=None) -> gpd.GeoDataFrame:
    """One layer of a vector file as a GeoDataFrame in WGS-84 longitude/latitude.

    ``path`` is any file GDAL reads (a zipped Shapefile too); ``layer`` picks a layer of a
    multi-layer file (required when there are several). ``src_crs`` overrides the file's CRS, see
    the module docs. The source's columns are returned unchanged; geometries are 2-D, single-part
    multi-geometries are made single. Raises :class:`DataError` for any problem with the file.
    """
    path = Path(path)
    src = _crs.normalize_crs(src_crs) if src_crs is not None else None
    layer = _pick_layer(path, layer)
    info = gdal_call(path, "not a readable vector file", pyogrio.read_info, path, layer=layer)
    driver = info.get("driver")
    options: dict = {}
    if driver == "CSV":
        options = {
            "X_POSSIBLE_NAMES": ",".join(CSV_X_NAMES),
            "Y_POSSIBLE_NAMES": ",".join(CSV_Y_NAMES),
            "GEOM_POSSIBLE_NAMES": ",".join(CSV_WKT_NAMES),
            "KEEP_GEOM_COLUMNS": "NO",
            "EMPTY_STRING_AS_NULL": "YES",
        }
    elif driver == "ESRI Shapefile":
        options = {"ADJUST_TYPE": "YES"}
        encoding = _shapefile_encoding(path, layer)
        if encoding:
            options["encoding"] = encoding
    with warnings.catch_warnings():
        # GDAL types a GeoJSON property holding both numbers and text as JSON, and pyogrio's
        # decoding of it fails on bare text ("二级"): the values stay text, which is what we want
        warnings.filterwarnings("ignore", "Could not parse column .* as JSON", UserWarning)
        frame = gdal_call(
            path, "cannot be read", gpd.read_file, path, engine="pyogrio", layer=layer, **options
        )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise DataError(f"{path}: layer {layer!r} has no geometry")
    if len(frame) == 0:
        raise DataError(f"{path}: layer {layer!r} has no features")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing):
        raise DataError(f"{path}: feature {int(missing[0])} has no geometry")
    geoms = shapely.force_2d(geoms)
    if src is not None:
        geoms = _crs.transform_geometry(geoms, src, "wgs84")
    elif frame.crs is None:
        if driver not in _NO_CRS_OK_DRIVERS:
            raise DataError(
                f"{path}: the file has no coordinate reference system (a Shapefile without .prj?); "
                "pass src_crs, e.g. src_crs='EPSG:4549' or src_crs='gcj02'"
            )
    elif not frame.crs.equals("EPSG:4326", ignore_axis_order=True):
        moved = gdal_call(path, f"cannot convert from {frame.crs.name}", frame.to_crs, "EPSG:4326")
        geoms = np.asarray(moved.geometry.values, dtype=object)
    _check_lonlat(path, geoms)
    _check_nesting(path, frame.drop(columns=frame.geometry.name))
    geoms = np.array([_single(g) for g in geoms], dtype=object)
    return gpd.GeoDataFrame(
        frame.drop(columns=frame.geometry.name), geometry=geoms, crs="EPSG:4326"
    )


def gdal_call(path: Path, what: str, fn, *args, **kwargs):
    """Run a pyogrio/geopandas call; any failure becomes a DataError with path and reason."""
    try:
        return fn(*args, **kwargs)
    except GeogridError:
        raise
    except Exception as exc:  # pyogrio, GDAL, pyproj and codecs raise many types
        reason = str(exc).strip() or type(exc).__name__
        raise DataError(f"{path}: {what} ({reason})") from None


def _layer_names(path: Path) -> list[str]:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    layers = gdal_call(path, "not a readable vector file", pyogrio.list_layers, path)
    return [str(name) for name in layers[:, 0]]


def _pick_layer(path: Path, layer) -> str:
    names = _layer_names(path)
    if layer is not None:
        if layer not in names:
            raise DataError(f"{path}: no layer {layer!r}; the file has layers {', '.join(names)}")
        return layer
    if not names:
        raise DataError(f"{path}: the file has no layers")
    if len(names) > 1:
        raise DataError(f"{path}: the file has several layers ({', '.join(names)}); pass layer=")
    return names[0]


def _source_layers(path: Path, layer, preferred: tuple[str, ...]) -> list[str | None]:
    """The layers to read from one source: ``layer``, else the only one, else ours by name."""
    if layer is not None:
        return [layer]
    names = _layer_names(path)
    ours = [name for name in preferred if name in names]
    return ours if len(names) > 1 and ours else [None]


def _shapefile_encoding(path: Path, layer: str) -> str | None:
    """The encoding of a Shapefile's .dbf when neither a .cpg nor its header declares one."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = {Path(n).name.lower(): n for n in zf.namelist()}
                if f"{layer.lower()}.cpg" in members or f"{layer.lower()}.dbf" not in members:
                    return None
                raw = zf.read(members[f"{layer.lower()}.dbf"])
        except (OSError, zipfile.BadZipFile):
            return None
    else:
        folder = path if path.is_dir() else path.parent
        stem = layer if path.is_dir() else path.stem
        files = {p.name.lower(): p for p in folder.glob(f"{stem}.*")}
        if f"{stem.lower()}.cpg" in files or f"{stem.lower()}.dbf" not in files:
            return None
        raw = files[f"{stem.lower()}.dbf"].read_bytes()
    if len(raw) < 32 or raw[29] != 0:
        return None  # code page in the header: GDAL honours it
    # the text of a .dbf: field names (11 bytes per 32-byte descriptor) and the records
    header_size = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[at : at + 11] for at in range(32, header_size - 32, 32))
    text = names + raw[header_size:]
    if text.isascii():
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _check_nesting(path: Path, frame) -> None:
    """Raise DataError for a property value (a GeoJSON object or array, which pyogrio decodes,
    or its text when too deep to decode) nested deeper than :data:`~geogrid.nesting.MAX_DEPTH`
    levels, naming the feature (counted from 1) and the field."""
    for column in frame.columns:
        values = frame[column]
        if getattr(values.dtype, "kind", "O") in "biufcmM":  # numbers, booleans, times
            continue
        for i, value in enumerate(values):
            t = type(value)
            if t is dict or t is list:
                deep = too_deep(value, MAX_DEPTH - 2)  # the feature and its properties: 2 levels
            elif t is str and value[:1] in ("{", "["):
                deep = text_too_deep(value, MAX_DEPTH - 2)
            else:
                continue
            if deep:
                raise DataError(
                    f"{path}: feature {i + 1}: property {str(column)[:40]!r} nests arrays and "
                    f"objects deeper than {MAX_DEPTH} levels; flatten it"
                )


def _check_lonlat(path: Path, geoms: np.ndarray) -> None:
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise DataError(
            f"{path}: coordinates are not longitude/latitude (bounds {xmin:.6g}, {ymin:.6g}, "
            f"{xmax:.6g}, {ymax:.6g}); the file's CRS is wrong or missing, pass src_crs"
        )


def _single(geom):
    """A single-part multi-geometry as its one part; anything else unchanged."""
    multi = shapely.MultiPolygon | shapely.MultiPoint | shapely.MultiLineString
    if isinstance(geom, multi) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom
