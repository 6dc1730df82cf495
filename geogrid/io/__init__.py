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

from .export import _export_frame as _export_frame
from .export import export_layer
from .importing import import_district
from .reading import read_layer
from .schema import (
    CSV_WKT_NAMES,
    CSV_X_NAMES,
    CSV_Y_NAMES,
    FORMATS,
    GRID_FIELDS,
    LAYERS,
    SHAPEFILE_NAMES,
    SUFFIX_FORMATS,
    UNIT_FIELDS,
)

__all__ = [
    "CSV_WKT_NAMES",
    "CSV_X_NAMES",
    "CSV_Y_NAMES",
    "FORMATS",
    "GRID_FIELDS",
    "LAYERS",
    "SHAPEFILE_NAMES",
    "SUFFIX_FORMATS",
    "UNIT_FIELDS",
    "export_layer",
    "import_district",
    "read_layer",
]
