"""Our attribute names, their Shapefile short names, the layers, the file formats and the CSV
coordinate columns."""

from __future__ import annotations

from .. import model

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
