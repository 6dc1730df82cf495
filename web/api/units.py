"""Units (the third-level grids) as GeoJSON points: ``GET /units``."""

from __future__ import annotations

import numpy as np
from flask import g

from geogrid import crs as _crs
from geogrid import usecases

from .. import params
from ..params import MAX_INT
from ..responses import geojson_response, record
from ..services import service
from . import bp

#: Units per page of /units.
DEFAULT_UNIT_LIMIT = 2000
MAX_UNIT_LIMIT = 5000


@bp.get("/units")
def units():
    """Units (the third-level grids: companies, shops, schools, compounds) as GeoJSON points.
    ---
    get:
      tags: [units]
      summary: Search and list units
      parameters:
        - {name: q, in: query, description: "Text found in the name, code or address (case-insensitive)", schema: {type: string, maxLength: 200}}
        - {name: category, in: query, description: "Categories, comma-separated (e.g. 商铺,高校)", schema: {type: string}}
        - {name: grid, in: query, description: "Units of this second- or first-level grid", schema: {type: string}}
        - {name: bbox, in: query, description: "minlon,minlat,maxlon,maxlat in WGS-84", schema: {type: string}, example: "118.90,32.09,118.95,32.12"}
        - version
        - display_crs
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 5000, default: 2000}}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 2147483647, default: 0}}
      responses:
        200:
          description: One page of the matching units, and how many match in all (`total`)
          content:
            application/geo+json:
              schema: UnitCollection
        400: BadRequest
        401: Unauthorized
        404: NotFound
    """
    categories = params.text("category")
    wanted = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    box = params.bbox()
    crs = params.display_crs("crs", "wgs84")
    limit = params.integer("limit", DEFAULT_UNIT_LIMIT, 1, MAX_UNIT_LIMIT)
    offset = params.integer("offset", 0, 0, MAX_INT)
    found = usecases.boundaries.units(
        service(), g.actor, q=params.text("q"), categories=wanted, grid=params.text("grid"), bbox=box,
        limit=limit, offset=offset, version=params.integer("version", None, 1, MAX_INT),
    )  # fmt: skip
    version, total, recs, lon, lat = found.version, found.total, found.records, found.lon, found.lat
    x, y = _crs.from_wgs84(lon, lat, crs) if len(lon) else (np.empty(0), np.empty(0))
    features = [
        {
            "type": "Feature",
            "id": r["code"],
            "geometry": {"type": "Point", "coordinates": [round(a, 7), round(b, 7)]},
            "properties": record(r),
        }
        for r, a, b in zip(recs, np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True)
    ]
    return geojson_response(
        {
            "type": "FeatureCollection",
            "version": version.number,
            "display_crs": crs,
            "total": total,
            "limit": limit,
            "offset": offset,
            "features": features,
        }
    )
