"""Layers in and out of GIS tools (QGIS): import an edited layer as a draft, export any version
or draft as GeoJSON, GeoPackage or a zipped Shapefile.

:func:`import_draft` reads a file with :mod:`geogrid.io` (GeoJSON; a GeoPackage's ``grids2``
layer, or a ``grids`` layer with a ``level`` column as :func:`geogrid.io.export_layer` writes
it, or its only polygon layer; a Shapefile as ``.shp`` or a ``.zip`` of its parts), turns its
second-level grids into one :class:`~geogrid.planning.edits.ReplaceGrids` edit, and stores a
new draft holding that edit, in one transaction, only once the edit has applied (a bad file
leaves no draft behind). The draft is validated like any other (it may be invalid: publishing
refuses) and the answer holds the impact against the base (:func:`geogrid.planning.impact.
impact`) and the attribute changes.

:func:`export` writes a version (default the current one) or a draft with
:func:`geogrid.io.export_layer` in a temporary directory and returns the file's name, bytes and
media type. An unmodified export imports back as *no change*: coordinates on the storage grid
come back exactly, and so do codes, names and attributes.

Planners and administrators import (``edit_draft``) and export drafts (``drafts``); every role
exports versions (``grids``), the units layer as ``/api/v1/units`` shows it (``units``: a grid
worker gets their own grid's units only).
"""

from __future__ import annotations

import dataclasses
import io
import re
import tempfile
import zipfile
from pathlib import Path

import shapely

from .. import io as gio
from ..access import Actor
from ..errors import DataError, InputError
from ..io.attributes import feature_records, grid_level, resolve_fields
from ..io.reading import gdal_call, read_layer
from ..planning.edits import COMMUNITY_FIELDS, REPLACE_FIELDS, ReplaceGrids
from . import planning
from .boundaries import version_data

#: Formats :func:`export` writes, with the file suffix and media type.
EXPORT_FORMATS = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
}
#: Layers a file holds when none is named: GeoJSON one (the second-level grids), the others all.
DEFAULT_LAYER = "grids2"
_POLYGON_TYPES = {"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "3D Polygon",
                  "3D MultiPolygon"}  # fmt: skip
_FORMAT_ALIASES = {"json": "geojson", "geopackage": "gpkg", "shapefile": "shp", "zip": "shp"}


# ---------------------------------------------------------------------- reading a layer
def _layers(path: Path) -> list[tuple[str, str]]:
    import pyogrio

    rows = gdal_call(path.name, "is not a GIS file GDAL can read", pyogrio.list_layers, path)
    return [(str(name), str(kind)) for name, kind in rows]


def _named(names: list[str], wanted: str) -> str | None:
    """The layer called ``wanted``, or ``…-wanted`` / ``…_wanted`` (a zipped export's parts)."""
    for n in names:
        if n == wanted:
            return n
    hits = [n for n in names if re.search(rf"[-_]{re.escape(wanted)}$", n)]
    return hits[0] if len(hits) == 1 else None


def _choose(path: Path, layer: str | None) -> tuple[str, str | None]:
    """The layer holding the second-level grids and the one holding the first-level grids
    (or None)."""
    found = _layers(path)
    names = [n for n, _ in found]
    if not names:
        raise InputError(f"{path.name}: the file has no layers")
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path.name}: no layer {layer!r}; the file has {', '.join(names)}")
        return layer, None
    grids2 = _named(names, "grids2")
    if grids2 is not None:
        return grids2, _named(names, "grids1")
    grids = _named(names, "grids")
    if grids is not None:
        return grids, None
    if len(names) == 1:
        return names[0], None  # its features' geometry types are checked once read
    polygons = [n for n, kind in found if kind in _POLYGON_TYPES]
    if not polygons:
        raise InputError(
            f"{path.name}: no polygon layer (the file has {', '.join(f'{n} ({k})' for n, k in found)})"
        )
    if len(polygons) > 1:
        raise InputError(
            f"{path.name}: several polygon layers ({', '.join(polygons)}): name the one with "
            "the second-level grids"
        )
    return polygons[0], None


def _plain_coords(value):
    if isinstance(value, tuple | list):
        return [_plain_coords(v) for v in value]
    return float(value)


def _feature(props: dict, geom) -> dict:
    mapped = shapely.geometry.mapping(geom)
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": mapped["type"], "coordinates": _plain_coords(mapped["coordinates"])},
    }


def _read(path: Path, layer: str, src_crs, default_level: int) -> tuple[list[dict], list[dict]]:
    """The second- and first-level grid features of one layer (a feature's level from its
    ``level`` field, else ``default_level``)."""
    frame = read_layer(path, layer=layer, src_crs=src_crs)
    kinds = set(frame.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        other = sorted(kinds - {"Polygon", "MultiPolygon"})
        raise InputError(
            f"{path.name}: layer {layer!r} holds {', '.join(other)} features: grids are polygons"
        )
    source = resolve_fields(path, frame, gio.GRID_FIELDS, {})
    if "code" not in source:
        cols = [str(c) for c in frame.columns if c != frame.geometry.name]
        raise InputError(
            f"{path.name}: layer {layer!r} has no code field (its fields: {', '.join(cols) or 'none'})"
        )
    level2, level1 = [], []
    for i, (rec, geom) in enumerate(feature_records(path, frame, source, gio.GRID_FIELDS)):
        where = f"{path.name}: feature {i + 1}"
        if not rec["code"]:
            raise InputError(f"{where} has no code")
        level = grid_level(rec, default_level, where)
        carried = REPLACE_FIELDS if level == 2 else COMMUNITY_FIELDS
        props = {k: rec.get(k) for k in carried if k in source}
        (level2 if level == 2 else level1).append(_feature(props, geom))
    return level2, level1


def read_import(path, *, layer: str | None = None, src_crs=None) -> tuple[dict, dict | None, str]:
    """The second-level grids of a GIS file as a GeoJSON FeatureCollection, the first-level
    ones it carries (or None) and the layer read. :class:`InputError` for a file that is
    empty, not a GIS file, has no polygon layer, or holds points."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = zf.namelist()
        except (OSError, zipfile.BadZipFile):
            raise InputError(f"{path.name}: not a zip file") from None
        if not any(m.lower().endswith(".shp") for m in members):
            raise InputError(f"{path.name}: the zip file holds no Shapefile (.shp)")
    chosen, first = _choose(path, layer)
    grids, communities = _read(path, chosen, src_crs, 2)
    if first is not None:
        communities += _read(path, first, src_crs, 1)[1]
    if not grids:
        raise InputError(f"{path.name}: layer {chosen!r} holds no second-level grids")
    fc = {"type": "FeatureCollection", "features": grids}
    cfc = {"type": "FeatureCollection", "features": communities} if communities else None
    return fc, cfc, chosen


# ---------------------------------------------------------------------- importing
def import_draft(
    svc,
    actor: Actor,
    name: str,
    path,
    *,
    layer: str | None = None,
    src_crs=None,
    base: int | None = None,
    source: str | None = None,
):
    """A new draft named ``name`` of version ``base`` (default the current one) whose one edit
    replaces the second-level grids with those of the file at ``path``: ``(DraftState,
    impact)``, the impact with ``attributes`` (the attribute changes of grids kept under their
    code). ``source`` names the file in the record (default its name)."""
    actor.require("edit_draft")
    try:
        grids, communities, _ = read_import(path, layer=layer, src_crs=src_crs)
    except DataError as exc:
        raise InputError(exc.message.replace(str(path), Path(path).name)) from None
    the_edit = ReplaceGrids(grids, communities, source=source or Path(path).name)
    state = planning.open_draft(svc, actor, name, base, edit=the_edit)
    found = planning.impact(svc, actor, state.draft.id)
    found["result"] = state.results[-1].to_dict()
    return state, found


# ---------------------------------------------------------------------- exporting
def export_format(fmt) -> str:
    """``geojson``, ``gpkg`` or ``shp`` from what a caller wrote."""
    name = str(fmt or "").strip().lower().lstrip(".")
    name = _FORMAT_ALIASES.get(name, name)
    if name not in EXPORT_FORMATS:
        raise InputError(
            f"format must be one of {', '.join(EXPORT_FORMATS)}, got {str(fmt)[:40]!r}"
        )
    return name


def export(
    svc,
    actor: Actor,
    *,
    version: int | None = None,
    draft: int | None = None,
    layer: str | None = None,
    fmt: str = "gpkg",
) -> tuple[str, bytes, str]:
    """A version (number, default the current one) or a draft as a file: ``(file name, bytes,
    media type)``. ``fmt``: geojson (one layer, default ``grids2``), gpkg (one layer, or all
    four in one file), shp (a .zip of the Shapefile parts: one layer, or all four)."""
    fmt = export_format(fmt)
    if layer is not None and layer not in gio.LAYERS:
        raise InputError(f"layer must be one of {', '.join(gio.LAYERS)}, got {str(layer)[:40]!r}")
    if version is not None and draft is not None:
        raise InputError("export a version or a draft, not both")
    if draft is not None:
        actor.require("drafts")
        state = planning.draft_state(svc, actor, draft)
        district, label = state.district, f"draft{state.draft.id}"
    else:
        info, district = version_data(svc, actor, version, operation="grids")
        label = f"v{info.number}"
    if fmt == "geojson" and layer is None:
        layer = DEFAULT_LAYER
    layers = [layer] if layer is not None else list(gio.LAYERS)
    if "units" in layers:
        actor.require("units")
        if actor.scope is not None:
            units = district.units
            district = dataclasses.replace(
                district, units=units[units["grid"].isin(sorted(actor.scope))]
            )
    if district.outline is None and "outline" in layers:
        if layer == "outline":
            raise InputError("the district has no outline to export")
        layers.remove("outline")
    stem = f"{district.code}-{label}" + (f"-{layer}" if layer is not None else "")
    suffix, mimetype = EXPORT_FORMATS[fmt]
    with tempfile.TemporaryDirectory(prefix="geogrid-export-") as tmp:
        folder = Path(tmp)
        if fmt == "shp":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for name in layers:
                    part = f"{district.code}-{label}-{name}"
                    gio.export_layer(district, name, folder / f"{part}.shp", "shp")
                    for file in sorted(folder.glob(f"{part}.*")):
                        zf.write(file, file.name)
            data = buf.getvalue()
        else:
            path = folder / f"{stem}{suffix}"
            for name in layers:
                gio.export_layer(district, name, path, fmt)
            data = path.read_bytes()
    return f"{stem}{suffix}", data, mimetype


__all__ = ["EXPORT_FORMATS", "export", "export_format", "import_draft", "read_import"]
