"""Grids and versions: ``GET /grids``, ``GET /grids/<code>`` (GeoJSON, simplified for display on
request, kept in small caches per version) and ``GET /versions``."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from flask import current_app, g
from shapely.geometry import mapping

from geogrid import usecases
from geogrid.display import for_display, nested_layers
from geogrid.errors import NotFound

from .. import params
from ..params import MAX_INT
from ..responses import geojson_response, json_response, record
from ..services import service
from . import bp

#: Largest display simplification tolerance, metres.
MAX_SIMPLIFY_M = 1000.0


# ============================================================================ caches
_lock = threading.Lock()


def _cache_get(name: str, key):
    cache = current_app.extensions.get(f"geogrid.api.{name}")
    with _lock:
        if cache is None or key not in cache:
            return None
        cache.move_to_end(key)
        return cache[key]


def _cache_put(name: str, key, value, size: int):
    with _lock:
        cache = current_app.extensions.setdefault(f"geogrid.api.{name}", OrderedDict())
        cache[key] = value
        while len(cache) > size:
            cache.popitem(last=False)
    return value


def _version_and_district():
    """The version named by the ``version`` parameter (default: the current one) and its data,
    with the people on duty now."""
    number = params.integer("version", None, 1, MAX_INT)
    svc = service()
    current, loc = svc.current()
    if number is None or number == current.number:
        return current, loc.district
    version = svc.store.version_by_number(svc.district_code, number)
    # kept while the current locator stands: a new one means the roster (or version) changed
    held = _cache_get("districts", version.id)
    if held is None or held[0] is not loc:
        held = _cache_put(
            "districts", version.id, (loc, svc.store.load_district(version.id)), size=4
        )
    return version, held[1]


def _level_frame(district, level: int):
    """Attributes (list of dicts) and WGS-84 geometries of one level of a district."""
    if level == 0:
        rec = {"code": district.code, "name": district.name, "parent": None}
        return [rec], np.array([district.territory()], dtype=object)
    frame = district.grids1 if level == 1 else district.grids2
    return frame.drop(columns="geometry").to_dict("records"), np.asarray(
        frame.geometry.values, dtype=object
    )


def _display_geometries(version, district, level: int, crs: str, simplify: float):
    """One level's geometry in ``crs``: as stored, or simplified with the levels nesting exactly
    as on the map (first-level grids and outline as unions of the simplified grids)."""
    simplify = round(simplify, 1)
    key = (version.id, crs, simplify)
    out = _cache_get("geometries", key)
    if out is None:
        if simplify > 0:
            outline, g1, g2 = nested_layers(district, crs, simplify)
            layers = [np.array([outline], dtype=object), g1, g2]
        else:
            layers = [for_display(_level_frame(district, k)[1], crs) for k in (0, 1, 2)]
        out = _cache_put("geometries", key, layers, 16)
    return out[level]


def _grid_feature(rec: dict, level: int, geom) -> dict:
    props = {
        "code": rec["code"],
        "name": rec.get("name"),
        "level": level,
        "parent": rec.get("parent"),
        "kind": rec.get("kind"),
    }
    people = (
        ("worker", "worker_phone")
        if level == 2
        else ("leader", "leader_title", "leader_phone", "office", "office_phone")
        if level == 1
        else ()
    )
    props.update({k: rec.get(k) for k in people})
    return {
        "type": "Feature",
        "id": rec["code"],
        "geometry": None if geom is None or geom.is_empty else mapping(geom),
        "properties": record(props),
    }


@bp.get("/grids")
def grids():
    """Grids of a boundary version as GeoJSON.
    ---
    get:
      tags: [grids]
      summary: Grids of one level (or the district outline)
      description: |
        A GeoJSON FeatureCollection (RFC 7946) of the grids of a level of a version (default:
        the current one), with the people responsible as the duty roster has them now.
        `level=0` is the district outline. `simplify` thins the boundaries for display while
        neighbouring grids keep identical shared edges.
      parameters:
        - {name: level, in: query, description: "0 district outline, 1 first-level, 2 second-level grids", schema: {type: integer, enum: [0, 1, 2], default: 2}}
        - version
        - display_crs
        - simplify
      responses:
        200:
          description: The grids
          content:
            application/geo+json:
              schema: GridCollection
        400: BadRequest
        401: Unauthorized
        404: NotFound
    """
    g.actor.require("grids")
    level = params.integer("level", 2, 0, 2)
    crs = params.display_crs("crs", "wgs84")
    simplify = params.number("simplify", 0.0, 0.0, MAX_SIMPLIFY_M)
    version, district = _version_and_district()
    recs, _ = _level_frame(district, level)
    geoms = _display_geometries(version, district, level, crs, simplify)
    return geojson_response(
        {
            "type": "FeatureCollection",
            "version": version.number,
            "level": level,
            "display_crs": crs,
            "features": [_grid_feature(r, level, g) for r, g in zip(recs, geoms, strict=True)],
        }
    )


@bp.get("/grids/<code>")
def grid(code: str):
    """One grid as a GeoJSON Feature.
    ---
    get:
      tags: [grids]
      summary: One grid (or the district) by code
      parameters:
        - {name: code, in: path, required: true, description: "A second-level (15 digits) or first-level (12 digits) grid code, or the district code", schema: {type: string}, example: "320113005007007"}
        - version
        - display_crs
        - simplify
      responses:
        200:
          description: The grid
          content:
            application/geo+json:
              schema: GridFeature
        400: BadRequest
        401: Unauthorized
        404: NotFound
    """
    g.actor.require("grids")
    crs = params.display_crs("crs", "wgs84")
    simplify = params.number("simplify", 0.0, 0.0, MAX_SIMPLIFY_M)
    version, district = _version_and_district()
    for level in (2, 1, 0):
        recs, _ = _level_frame(district, level)
        for i, rec in enumerate(recs):
            if rec["code"] == code:
                geom = _display_geometries(version, district, level, crs, simplify)[i]
                feature = _grid_feature(rec, level, geom)
                feature["version"] = version.number
                feature["display_crs"] = crs
                return geojson_response(feature)
    raise NotFound(f"no grid {code[:40]!r} in version {version.number}")


@bp.get("/versions")
def versions():
    """Boundary versions of the district, newest first.
    ---
    get:
      tags: [versions]
      summary: List boundary versions
      responses:
        200:
          description: The versions (drafts included)
          content:
            application/json:
              schema:
                type: object
                required: [district, versions]
                properties:
                  district: {type: string}
                  versions: {type: array, items: Version}
        401: Unauthorized
    """
    svc = service()
    history = usecases.boundaries.history(svc, g.actor)
    return json_response({"district": svc.district_code, "versions": history})
