"""Reading boundary data from GIS files and writing any layer of a district out.

Everything goes through pyogrio (GDAL), so :func:`read_layer` and :func:`import_district` read any
vector format GDAL reads: GeoJSON, GeoPackage, Shapefile (also zipped: ``grids.zip``), CSV with a
WKT or lon/lat columns, FileGDB and more. :func:`export_layer` writes GeoJSON, GeoPackage,
Shapefile or CSV. Every problem with a file (missing, unreadable, wrong type, empty, no CRS, a
missing field) raises :class:`~geogrid.errors.DataError` with the path and the reason.

Field mapping
    Our attribute names are :data:`GRID_FIELDS` for grids and :data:`UNIT_FIELDS` for units.
    ``fields`` (``unit_fields`` for units) maps our names to the source's field names, e.g.
    ``{"code": "网格编码", "name": "网格名称", "level": "层级", "parent": "上级编码"}``; a mapped
    field that the file lacks is a DataError listing the fields it has, and mapping a name to
    ``None`` ignores that attribute. Unmapped names are taken from a field of the same name
    (case-insensitively, so ``CODE`` works), or else from its Shapefile short name
    (:data:`SHAPEFILE_NAMES`), so an exported Shapefile imports back unchanged. Codes, names and
    phone numbers are kept as text: a numeric code column becomes the exact digits, never
    ``3.2e14`` (a floating-point code too large to be exact is a DataError); blank text is ``None``.

Level and parent
    A grid's level comes from its level field (1/2, "1"/"2", "一级"/"二级"), else from the
    ``level`` argument, else from its code length (12 digits: first level, 15: second level);
    anything else is a DataError naming the feature. Its parent comes from the parent field,
    else from the code: the first 12 digits for a second-level grid, the first 9 (the
    sub-district) for a first-level one. A unit's grid comes from its ``grid`` field, else from
    the first 15 digits of its code. First-level grids the source lacks are built as the union
    of their second-level grids (with no name or leader yet).

Coordinate reference systems
    The result is always WGS-84 longitude/latitude. A file's own CRS is honoured (a Shapefile
    ``.prj`` in EPSG:4549, a GeoPackage in EPSG:4490, a legacy GeoJSON ``crs`` member). GeoJSON
    without a CRS is WGS-84 (RFC 7946), and so is CSV, whose lon/lat or WKT columns carry none; any
    other file without a CRS is a DataError asking for ``src_crs``. ``src_crs`` overrides the file:
    an EPSG code (``"EPSG:4549"``), ``"cgcs2000"``, or ``"gcj02"``/``"bd09"`` for lon/lat taken
    from Chinese web maps, which are converted back exactly with :func:`geogrid.crs.transform_geometry`.
    Coordinates that are not lon/lat after conversion (metres in a file that says nothing) are a
    DataError. Z values are dropped and a single-part MultiPolygon becomes a Polygon; a multi-part
    one stays multi for validation to report.

Text encodings
    GeoJSON and GeoPackage are UTF-8. A Shapefile's ``.cpg`` (or the code page in its ``.dbf``) is
    honoured; a Shapefile with neither, common for Chinese data, is read as UTF-8 when its ``.dbf``
    is valid UTF-8 and as GB18030 (a superset of GBK) otherwise. Numeric ``.dbf`` fields are
    re-typed from their values, so 19-digit unit codes stored as numbers stay exact.

>>> import json, shutil, tempfile
>>> from pathlib import Path
>>> tmp = Path(tempfile.mkdtemp())
>>> square = [[118.93, 32.11], [118.935, 32.11], [118.935, 32.115], [118.93, 32.115], [118.93, 32.11]]
>>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
...     "properties": {"网格编码": 320113005001001, "网格名称": "仙林一网格"},
...     "geometry": {"type": "Polygon", "coordinates": [square]}}]}
>>> _ = (tmp / "grids.geojson").write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
>>> d = import_district(tmp / "grids.geojson", fields={"code": "网格编码", "name": "网格名称"})
>>> d.code, list(d.grids2["code"]), list(d.grids2["parent"]), list(d.grids1["code"])
('320113005', ['320113005001001'], ['320113005001'], ['320113005001'])
>>> export_layer(d, "grids2", tmp / "grids2.shp").name
'grids2.shp'
>>> again = import_district(tmp / "grids2.shp")
>>> again.grids2.iloc[0]["name"], again.grids2.geometry.iloc[0].equals(d.grids2.geometry.iloc[0])
('仙林一网格', True)
>>> shutil.rmtree(tmp)
"""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import crs as _crs
from . import model
from .errors import DataError, GeogridError, InputError

#: Attributes read for grids of either level (``fields`` maps these names to the source's).
GRID_FIELDS = (
    "code",
    "name",
    "level",
    "parent",
    "kind",
    "worker",
    "worker_phone",
    "leader",
    "leader_title",
    "leader_phone",
    "office",
    "office_phone",
)

#: Attributes read for units (``unit_fields`` maps these names to the source's).
UNIT_FIELDS = model.UNIT_COLUMNS

#: Shapefile field names are at most 10 bytes: the short name written for each longer one of
#: ours. Reading maps them back, so an exported Shapefile imports unchanged.
SHAPEFILE_NAMES = {
    "worker_phone": "worker_tel",
    "leader_title": "leader_ttl",
    "leader_phone": "leader_tel",
    "office_phone": "office_tel",
}

#: Layers :func:`export_layer` writes.
LAYERS = ("outline", "grids1", "grids2", "units")

#: Export formats, and the file suffixes that select them.
FORMATS = ("geojson", "gpkg", "shp", "csv")
SUFFIX_FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".csv": "csv",
}
_SUFFIXES = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "csv": ".csv"}
_FORMAT_ALIASES = {
    "json": "geojson",
    "geopackage": "gpkg",
    "shapefile": "shp",
    "esri shapefile": "shp",
}

#: Column names read as point coordinates from CSV files (here and by bulk location), in order
#: of preference, compared case-insensitively; and as WKT geometry.
CSV_X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
CSV_Y_NAMES = ("lat", "latitude", "y", "纬度")
CSV_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")

_SHP_MAX_NAME_BYTES = 10
_MAX_EXACT_FLOAT = 2**53
_LEVELS = {"1": 1, "2": 2, "一级": 1, "二级": 2, "一级网格": 1, "二级网格": 2}
_NO_CRS_OK_DRIVERS = {"GeoJSON", "GeoJSONSeq", "CSV"}


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
    info = _call(path, "not a readable vector file", pyogrio.read_info, path, layer=layer)
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
        frame = _call(
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
        moved = _call(path, f"cannot convert from {frame.crs.name}", frame.to_crs, "EPSG:4326")
        geoms = np.asarray(moved.geometry.values, dtype=object)
    _check_lonlat(path, geoms)
    geoms = np.array([_single(g) for g in geoms], dtype=object)
    return gpd.GeoDataFrame(
        frame.drop(columns=frame.geometry.name), geometry=geoms, crs="EPSG:4326"
    )


def _call(path: Path, what: str, fn, *args, **kwargs):
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
    layers = _call(path, "not a readable vector file", pyogrio.list_layers, path)
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


# ---------------------------------------------------------------------- importing
def import_district(
    grids,
    *,
    units=None,
    outline=None,
    fields=None,
    unit_fields=None,
    src_crs=None,
    level=None,
    layer=None,
    district_code=None,
    district_name=None,
) -> model.District:
    """Build a :class:`~geogrid.model.District` from GIS files (not validated: the caller does).

    ``grids`` is one path or a list of paths holding grids of either or both levels; ``units``
    and ``outline`` are optional paths (``units`` may be a list too). ``fields`` and
    ``unit_fields`` map our attribute names to the source's; ``level`` (1 or 2) applies to grids
    whose level is neither in a field nor clear from the code; ``layer`` picks the layer of the
    grid files; ``src_crs`` applies to every file. See the module docs for the rules.

    A multi-layer file written by :func:`export_layer` needs no ``layer``: the layers named
    ``grids1``/``grids2``, ``units`` and ``outline`` are read. The district's code and name come
    from the arguments, else the outline's ``code``/``name`` fields, else the code is the most
    common parent of the first-level grids.
    """
    grid_map = _check_mapping(fields, GRID_FIELDS, "fields")
    unit_map = _check_mapping(unit_fields, UNIT_FIELDS, "unit_fields")
    default_level = None
    if level is not None:
        default_level = _parse_level(level)
        if default_level is None:
            raise InputError(f"level must be 1 or 2, not {level!r}")

    rows1: list[tuple[dict, object]] = []
    rows2: list[tuple[dict, object]] = []
    for path in _paths(grids, "grids"):
        for layer_name in _source_layers(path, layer, ("grids1", "grids2")):
            frame = read_layer(path, layer=layer_name, src_crs=src_crs)
            source = _resolve_fields(path, frame, GRID_FIELDS, grid_map)
            for i, (rec, geom) in enumerate(_records(path, frame, source, GRID_FIELDS)):
                where = f"{path}: feature {i}" + (f" (code {rec['code']!r})" if rec["code"] else "")
                if not rec["code"]:
                    raise DataError(f"{where} has no code")
                lvl = _grid_level(rec, default_level, where)
                if not rec["parent"]:
                    rec["parent"] = rec["code"][: 12 if lvl == 2 else 9]
                (rows2 if lvl == 2 else rows1).append((rec, geom))
    rows1 += _missing_grids1(rows1, rows2)

    unit_rows: list[tuple[dict, object]] = []
    for path in _paths(units, "units") if units is not None else []:
        for layer_name in _source_layers(path, None, ("units",)):
            frame = read_layer(path, layer=layer_name, src_crs=src_crs)
            source = _resolve_fields(path, frame, UNIT_FIELDS, unit_map)
            for i, (rec, geom) in enumerate(_records(path, frame, source, UNIT_FIELDS)):
                where = f"{path}: feature {i}" + (f" (code {rec['code']!r})" if rec["code"] else "")
                if not rec["code"]:
                    raise DataError(f"{where} has no code")
                if not rec["grid"]:
                    rec["grid"] = rec["code"][:15]
                unit_rows.append((rec, geom))

    shape, code, name, meta = None, "", "", {}
    if outline is not None:
        shape, code, name, meta = _read_outline(Path(outline), src_crs)
    if district_code is not None:
        code = str(district_code)
    if not code:
        parents = Counter(rec["parent"] for rec, _ in rows1 if rec["parent"])
        code = parents.most_common(1)[0][0] if parents else ""
    if district_name is not None:
        name = str(district_name)

    def frame_of(rows, columns):
        return model._frame(
            [{c: rec[c] for c in columns} for rec, _ in rows], columns, [g for _, g in rows]
        )

    return model.District(
        code=code,
        name=name,
        grids1=frame_of(rows1, model.GRID1_COLUMNS),
        grids2=frame_of(rows2, model.GRID2_COLUMNS),
        units=frame_of(unit_rows, model.UNIT_COLUMNS),
        outline=shape,
        meta=meta,
    )


def _paths(value, what: str) -> list[Path]:
    if isinstance(value, str | Path):
        return [Path(value)]
    if isinstance(value, Iterable):
        paths = [Path(v) for v in value]
        if paths:
            return paths
    raise InputError(f"{what}: expected a path or a non-empty list of paths, not {value!r}")


def _check_mapping(mapping, names, what: str) -> dict:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise InputError(f"{what} must be a mapping of our field names to the source's")
    for key, value in mapping.items():
        if key not in names:
            raise InputError(f"{what}: unknown field {key!r}; expected one of {', '.join(names)}")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{what}: source field for {key!r} must be a name, not {value!r}")
    return dict(mapping)


def _resolve_fields(path: Path, frame: gpd.GeoDataFrame, names, mapping: dict) -> dict:
    """Our field name -> the source column it is read from (names without a source left out)."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    folded: dict[str, str] = {}
    for col in columns:
        folded.setdefault(str(col).casefold(), col)
    source = {}
    for name in names:
        if name in mapping:
            wanted = mapping[name]
            if wanted is None:
                continue
            col = wanted if wanted in columns else folded.get(wanted.casefold())
            if col is None:
                raise DataError(
                    f"{path}: no field {wanted!r} (mapped to {name!r}); "
                    f"the file has fields: {', '.join(map(str, columns)) or 'none'}"
                )
            source[name] = col
            continue
        for candidate in (name, SHAPEFILE_NAMES.get(name)):
            if candidate and candidate.casefold() in folded:
                source[name] = folded[candidate.casefold()]
                break
    return source


def _records(path: Path, frame: gpd.GeoDataFrame, source: dict, names):
    """``(record, geometry)`` per feature, every one of ``names`` present (None when missing)."""
    values = {name: frame[col].tolist() for name, col in source.items()}
    for i, geom in enumerate(frame.geometry):
        rec = {}
        for name in names:
            raw = values[name][i] if name in values else None
            if name == "level":
                rec[name] = raw  # parsed by _grid_level, which knows the feature
            elif name in model.INT_COLUMNS:
                rec[name] = _integer(raw, f"{path}: feature {i}, field {source.get(name)!r}")
            else:
                rec[name] = _text(raw, f"{path}: feature {i}, field {source.get(name)!r}")
        yield rec, geom


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(value, where: str) -> str | None:
    """A field value as text: integers (even when stored as float) as their exact digits."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if value.is_integer():
            if abs(value) >= _MAX_EXACT_FLOAT:
                raise DataError(
                    f"{where}: the number {value:.17g} is too large to be exact as a "
                    "floating-point field; store codes as text"
                )
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text or None


def _integer(value, where: str) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(float(text)) if float(text).is_integer() else _not_int(value, where)
        except ValueError:
            pass
    return _not_int(value, where)


def _not_int(value, where: str):
    raise DataError(f"{where}: expected a whole number, got {value!r}")


def _parse_level(value) -> int | None:
    """1 or 2 from 1/2, "1"/"2", "一级"/"二级"; None for anything else."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer | float | np.floating):
        return int(value) if float(value) in (1.0, 2.0) else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LEVELS:
            return _LEVELS[text]
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number in (1.0, 2.0) else None
    return None


def _grid_level(rec: dict, default: int | None, where: str) -> int:
    raw = rec.pop("level")
    if not _missing(raw) and not (isinstance(raw, str) and not raw.strip()):
        level = _parse_level(raw)
        if level is None:
            raise DataError(f"{where}: level {raw!r} is not 1 or 2 (一级/二级)")
        return level
    if default is not None:
        return default
    by_length = {12: 1, 15: 2}.get(len(rec["code"]))
    if by_length is None:
        raise DataError(
            f"{where}: no level field, and a {len(rec['code'])}-character code is neither a "
            "12-digit first-level nor a 15-digit second-level code; pass level= or map the level field"
        )
    return by_length


def _missing_grids1(rows1, rows2) -> list[tuple[dict, object]]:
    """First-level grids for parents of second-level grids that the source lacks: their union."""
    have = {rec["code"] for rec, _ in rows1}
    children: dict[str, list] = {}
    for rec, geom in rows2:
        if rec["parent"] not in have:
            children.setdefault(rec["parent"], []).append(geom)
    built = []
    for code, geoms in children.items():
        rec = dict.fromkeys(GRID_FIELDS)
        rec.pop("level")
        rec.update(code=code, parent=code[:9])
        try:
            union = shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:  # the grids overlap: validation will say so
            union = shapely.union_all(geoms)
        built.append((rec, _single(union)))
    return built


def _read_outline(path: Path, src_crs):
    frame = read_layer(path, layer=_source_layers(path, None, ("outline",))[0], src_crs=src_crs)
    geoms = list(frame.geometry)
    shape = geoms[0] if len(geoms) == 1 else _single(shapely.union_all(geoms))
    first = frame.drop(columns=frame.geometry.name).iloc[0].to_dict()
    props = {str(k): v for k, v in first.items() if not _missing(v)}
    folded = {k.casefold(): k for k in props}
    code = _text(props.pop(folded["code"]), f"{path}: code") if "code" in folded else None
    name = _text(props.pop(folded["name"]), f"{path}: name") if "name" in folded else None
    meta = {k: model._plain(v) for k, v in props.items()} if len(geoms) == 1 else {}
    return shape, code or "", name or "", meta


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
            value = model._plain(value)
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
            data[col] = pd.array([model._plain(v) for v in frame[col]], dtype="Int64")
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
