"""Building a district from GIS files: the layers found, grids and units read with their
attributes, missing first-level grids built, the outline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import shapely

from .. import model
from ..errors import DataError, InputError
from .attributes import (
    _check_mapping,
    _missing,
    _parse_level,
    _text,
    feature_records,
    grid_level,
    resolve_fields,
)
from .reading import _single, _source_layers, read_layer
from .schema import GRID_FIELDS, UNIT_FIELDS


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
            source = resolve_fields(path, frame, GRID_FIELDS, grid_map)
            for i, (rec, geom) in enumerate(feature_records(path, frame, source, GRID_FIELDS)):
                where = f"{path}: feature {i}" + (f" (code {rec['code']!r})" if rec["code"] else "")
                if not rec["code"]:
                    raise DataError(f"{where} has no code")
                lvl = grid_level(rec, default_level, where)
                if not rec["parent"]:
                    rec["parent"] = rec["code"][: 12 if lvl == 2 else 9]
                (rows2 if lvl == 2 else rows1).append((rec, geom))
    rows1 += _missing_grids1(rows1, rows2)

    unit_rows: list[tuple[dict, object]] = []
    for path in _paths(units, "units") if units is not None else []:
        for layer_name in _source_layers(path, None, ("units",)):
            frame = read_layer(path, layer=layer_name, src_crs=src_crs)
            source = resolve_fields(path, frame, UNIT_FIELDS, unit_map)
            for i, (rec, geom) in enumerate(feature_records(path, frame, source, UNIT_FIELDS)):
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
    meta = {k: model.plain(v) for k, v in props.items()} if len(geoms) == 1 else {}
    return shape, code or "", name or "", meta
