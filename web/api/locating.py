"""Locating: one point (``GET /locate``) and many at once (``POST /locate``, GeoJSON or CSV)."""

from __future__ import annotations

import io

from flask import current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from geogrid import bulk, usecases

from .. import params
from ..responses import geojson_response, json_response
from ..services import service
from ..uploads import request_body
from . import bp

#: Fields of each answer of the bulk locate, in CSV column order.
ANSWER_FIELDS = (
    "grid2_code",
    "grid1_code",
    "match",
    "distance_m",
    "needs_confirmation",
    "candidates",
    "error",
)


@bp.get("/locate")
def locate():
    """Which grid owns a point, who handles it, how sure the answer is.
    ---
    get:
      tags: [locate]
      summary: Locate one point
      description: |
        The second-level grid that owns the point, its first-level grid and the people
        responsible, the distance to the nearest grid boundary, the neighbouring grids within the
        confirmation distance (`needs_confirmation` is true then), and the nearest units.
        A point outside the district has `match: outside`, no grids and its `nearest` grid.
      parameters:
        - {name: lon, in: query, required: true, description: "Longitude, or x in metres for a projected CRS (alias: x)", schema: {type: string}, example: "118.93"}
        - {name: lat, in: query, required: true, description: "Latitude, or y (alias: y)", schema: {type: string}, example: "32.11"}
        - crs
        - {name: units, in: query, description: "How many nearest units to list (0-50)", schema: {type: integer, minimum: 0, maximum: 50, default: 5}}
        - at
        - {name: display, in: query, description: "Also give the answer point in this map system (e.g. gcj02 for AMap)", schema: {type: string, enum: [wgs84, cgcs2000, gcj02, bd09]}}
      responses:
        200:
          description: The answer
          content:
            application/json:
              schema: LocateAnswer
        400: BadRequest
        401: Unauthorized
        404: NotFound
    """
    point = params.point()
    k = params.integer("units", usecases.DEFAULT_UNITS, 0, usecases.MAX_UNITS)
    display = params.display_crs("display", None)
    at = params.at()
    found = usecases.locate(service(), g.actor, point, units=k, at=at, display=display)
    return json_response(found.to_dict())


@bp.post("/locate")
def locate_many():
    """Locate many points at once (GeoJSON or CSV in, the same format out).
    ---
    post:
      tags: [locate]
      summary: Locate up to 100,000 points
      description: |
        Send a GeoJSON FeatureCollection of Point features (or a Feature, a MultiPoint, a Point),
        or a CSV file with a header row and lon/lat (or x/y) columns (`Content-Type: text/csv`,
        UTF-8 or GB18030; the columns named `lon`, `lng`, `long`, `longitude`, `x` or `经度` and
        `lat`, `latitude`, `y` or `纬度`, in any case). Each point gets `grid2_code`, `grid1_code`, `match`, `distance_m`,
        `needs_confirmation`, `candidates` and `error`: in the feature's properties (a MultiPoint
        becomes a FeatureCollection with an `index` property), or as added CSV columns
        (candidates as codes separated by `;`). A point with bad coordinates gets an `error`
        and no grid; it never fails the request. Coordinates are in `crs` (default WGS-84; a
        GeoJSON 2008 `crs` member is honoured when the parameter is absent). The answers are
        those of `GET /locate` for the same point. At most `MAX_LOCATE_POINTS` points (100,000).
      parameters:
        - crs
        - at
      requestBody:
        required: true
        content:
          application/geo+json:
            schema: PointUpload
          application/json:
            schema: PointUpload
          text/csv:
            schema: {type: string}
            example: "id,lon,lat\\n1,118.93,32.11\\n"
      responses:
        200:
          description: The answers, in the format sent; the version answered from is in the
            `X-Geogrid-Version` header (and `version` of a FeatureCollection).
          headers:
            X-Geogrid-Version: {description: Boundary version number, schema: {type: integer}}
          content:
            application/geo+json:
              schema: LocatedCollection
            text/csv:
              schema: {type: string}
        400: BadRequest
        401: Unauthorized
        404: NotFound
        413: TooLarge
        415: UnsupportedMediaType
    """
    g.actor.require("locate_many")  # before reading the upload
    crs = params.crs("crs", None)
    at = params.at()
    limit = current_app.config["MAX_LOCATE_POINTS"]
    mimetype = request.mimetype
    is_csv = mimetype in ("text/csv", "application/csv")
    if is_csv:
        points = bulk.read_csv(request_body(), limit=limit)
    elif mimetype in ("application/json", "application/geo+json", ""):
        points = bulk.read_geojson(request_body(), limit=limit)
    else:
        raise UnsupportedMediaType(
            f"send GeoJSON (application/geo+json or application/json) or CSV (text/csv), "
            f"not {mimetype[:60]}"
        )
    version, results = usecases.locate_many(
        service(), g.actor, points, crs, fields=ANSWER_FIELDS, at=at
    )
    headers = {"X-Geogrid-Version": str(version.number)}
    if is_csv:
        text = io.StringIO()
        bulk.write_csv(results, text, bom=points.bom)  # keep Excel's byte-order mark
        return current_app.response_class(text.getvalue(), mimetype="text/csv", headers=headers)
    return geojson_response(bulk.to_geojson(results, version=version.number), headers)
