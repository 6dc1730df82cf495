"""The HTTP API, ``/api/v1``: locate points, read grids, units and versions (JSON, GeoJSON, CSV).

Every endpoint answers JSON (GeoJSON, RFC 7946, for geometries) and needs an authenticated caller,
``Authorization: Bearer <token>`` or the session of a logged-in user (POSTs from a session send
the CSRF token in ``X-CSRFToken``); ``openapi.json`` is public and ``docs`` is a page for
logged-in users. Errors are ``{"error": {"status", "message"}}`` with a 4xx status.

The OpenAPI document (:mod:`web.openapi`) is generated from the YAML after ``---`` in each view's
docstring, so the documentation lives next to the code it describes.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections import OrderedDict

import numpy as np
import orjson
import pandas as pd
from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from shapely.geometry import mapping

from geogrid import bulk, usecases
from geogrid import crs as _crs
from geogrid.db.types import parse_time
from geogrid.display import for_display, nested_layers
from geogrid.errors import InputError, NotFound

from .auth import check_api_caller
from .extensions import csrf
from .services import service

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # session POSTs are checked in check_api_caller; token POSTs need no CSRF token

#: Endpoints anyone may read: the OpenAPI document, and the docs page (which sends anonymous
#: visitors to the login page itself).
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}

#: Nearest units a single-point answer may carry.
MAX_UNITS = 50
DEFAULT_UNITS = 5
#: Units per page of /units.
DEFAULT_UNIT_LIMIT = 2000
MAX_UNIT_LIMIT = 5000
#: Largest display simplification tolerance, metres.
MAX_SIMPLIFY_M = 1000.0
#: Largest whole number a parameter may be (version numbers are 32-bit in the database).
MAX_INT = 2**31 - 1
#: Map systems an answer can be converted to for display.
DISPLAY_CRS = _crs.CRS_NAMES
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


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return check_api_caller()


@bp.after_request
def _api_headers(resp):
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint not in PUBLIC_ENDPOINTS:
        resp.headers.setdefault("Cache-Control", "private, no-store")
    return resp


# ============================================================================ input helpers
def _text(name: str, *aliases: str, required: bool = False) -> str | None:
    for key in (name, *aliases):
        value = request.args.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    if required:
        also = f" (or {', '.join(aliases)})" if aliases else ""
        raise InputError(f"missing query parameter {name}{also}")
    return None


def _int(name: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
    value = _text(name)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {value[:40]!r}") from None
    if number < lo or (hi is not None and number > hi):
        limits = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InputError(f"{name} must be {limits}, got {value[:40]}")
    return number


def _float(name: str, default: float, lo: float, hi: float) -> float:
    value = _text(name)
    if value is None:
        return default
    number = _crs.parse_coordinate(value, name)
    if not lo <= number <= hi:
        raise InputError(f"{name} must be between {lo:g} and {hi:g}, got {number:g}")
    return number


def _coordinate(name: str, alias: str) -> float:
    """A coordinate parameter (``lon`` or its alias ``x``), named as the caller named it."""
    used = name if _text(name) is not None else alias
    return _crs.parse_coordinate(_text(name, alias, required=True), used)


def _display_crs(name: str, default: str | None) -> str | None:
    value = _text(name)
    if value is None:
        return default
    canonical = _crs.normalize_crs(value)
    if canonical not in DISPLAY_CRS:
        raise InputError(
            f"{name} must be one of {', '.join(DISPLAY_CRS)} (a map's lon/lat system), got {value[:40]!r}"
        )
    return canonical


def _locator():
    """(version, locator) now, or as of the ``at`` parameter."""
    at = parse_time(_text("at"), "at")
    svc = service()
    return svc.current() if at is None else svc.locator_at(at)


# ============================================================================ output helpers
def _default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _json(obj, status: int = 200, mimetype: str = "application/json", headers=None):
    """A JSON response (UTF-8, compact; NaN and infinities become null)."""
    try:
        body = orjson.dumps(obj, default=_default, option=_JSON_OPTIONS)
    except TypeError:
        # an echoed upload holding an integer beyond 64 bits: the standard library keeps it
        # exact (and writes back any NaN the client sent where it sent it)
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_default)
    return current_app.response_class(body, status=status, mimetype=mimetype, headers=headers)


def _geojson(obj, headers=None):
    return _json(obj, mimetype="application/geo+json", headers=headers)


def _record(rec: dict) -> dict:
    """Attributes as JSON values (pandas' missing values become null)."""
    out = {}
    for k, v in rec.items():
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v)):
            v = None
        out[k] = v
    return out


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
    number = _int("version", None, 1, MAX_INT)
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
        "properties": _record(props),
    }


# ============================================================================ locate
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
    crs = _crs.normalize_crs(_text("crs") or "wgs84")
    x, y = _coordinate("lon", "x"), _coordinate("lat", "y")
    k = _int("units", DEFAULT_UNITS, 0, MAX_UNITS)
    display = _display_crs("display", None)
    at = parse_time(_text("at"), "at")
    found = usecases.locate(service(), g.actor, x, y, crs, units=k, at=at, display=display)
    return _json(found.to_dict())


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
    g.actor.require("locate_many")
    param_crs = _text("crs")
    crs = _crs.normalize_crs(param_crs) if param_crs else None
    version, loc = _locator()
    limit = current_app.config["MAX_LOCATE_POINTS"]
    headers = {"X-Geogrid-Version": str(version.number)}
    mimetype = request.mimetype
    if mimetype in ("text/csv", "application/csv"):
        points = bulk.read_csv(request.get_data(cache=False), limit=limit)
        results = bulk.locate(points, loc, crs, fields=ANSWER_FIELDS)
        text = io.StringIO()
        bulk.write_csv(results, text, bom=points.bom)  # keep Excel's byte-order mark
        return current_app.response_class(text.getvalue(), mimetype="text/csv", headers=headers)
    if mimetype not in ("application/json", "application/geo+json", ""):
        from werkzeug.exceptions import UnsupportedMediaType

        raise UnsupportedMediaType(
            f"send GeoJSON (application/geo+json or application/json) or CSV (text/csv), "
            f"not {mimetype[:60]}"
        )
    points = bulk.read_geojson(request.get_data(cache=False), limit=limit)
    results = bulk.locate(points, loc, crs, fields=ANSWER_FIELDS)
    return _geojson(bulk.to_geojson(results, version=version.number), headers)


# ============================================================================ grids
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
    level = _int("level", 2, 0, 2)
    crs = _display_crs("crs", "wgs84")
    simplify = _float("simplify", 0.0, 0.0, MAX_SIMPLIFY_M)
    version, district = _version_and_district()
    recs, _ = _level_frame(district, level)
    geoms = _display_geometries(version, district, level, crs, simplify)
    return _geojson(
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
    crs = _display_crs("crs", "wgs84")
    simplify = _float("simplify", 0.0, 0.0, MAX_SIMPLIFY_M)
    version, district = _version_and_district()
    for level in (2, 1, 0):
        recs, _ = _level_frame(district, level)
        for i, rec in enumerate(recs):
            if rec["code"] == code:
                geom = _display_geometries(version, district, level, crs, simplify)[i]
                feature = _grid_feature(rec, level, geom)
                feature["version"] = version.number
                feature["display_crs"] = crs
                return _geojson(feature)
    raise NotFound(f"no grid {code[:40]!r} in version {version.number}")


# ============================================================================ units
def _bbox(value: str | None):
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InputError("bbox must be minlon,minlat,maxlon,maxlat (WGS-84)")
    names = ("minlon", "minlat", "maxlon", "maxlat")
    box = [_crs.parse_coordinate(p, n) for p, n in zip(parts, names, strict=True)]
    _crs.check_coordinates(np.array(box[0::2]), np.array(box[1::2]), "wgs84")
    if box[0] > box[2] or box[1] > box[3]:
        raise InputError("bbox must be minlon,minlat,maxlon,maxlat with min <= max")
    return box


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
    categories = _text("category")
    wanted = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    box = _bbox(_text("bbox"))
    crs = _display_crs("crs", "wgs84")
    limit = _int("limit", DEFAULT_UNIT_LIMIT, 1, MAX_UNIT_LIMIT)
    offset = _int("offset", 0, 0, MAX_INT)
    found = usecases.boundaries.units(
        service(), g.actor, q=_text("q"), categories=wanted, grid=_text("grid"), bbox=box,
        limit=limit, offset=offset, version=_int("version", None, 1, MAX_INT),
    )  # fmt: skip
    version, total, recs, lon, lat = found.version, found.total, found.records, found.lon, found.lat
    x, y = _crs.from_wgs84(lon, lat, crs) if len(lon) else (np.empty(0), np.empty(0))
    features = [
        {
            "type": "Feature",
            "id": r["code"],
            "geometry": {"type": "Point", "coordinates": [round(a, 7), round(b, 7)]},
            "properties": _record(r),
        }
        for r, a, b in zip(recs, np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True)
    ]
    return _geojson(
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


# ============================================================================ versions
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
    found = usecases.boundaries.versions(svc, g.actor)
    number_of = {v.id: v.number for v in found}
    return _json(
        {
            "district": svc.district_code,
            "versions": [
                {
                    "number": v.number,
                    "status": v.status,
                    "current": v.current,
                    "base": number_of.get(v.base_id),
                    "note": v.note,
                    "created_at": v.created_at,
                    "published_at": v.published_at,
                    "grid_count": v.grid_count,
                    "unit_count": v.unit_count,
                }
                for v in found
            ],
        }
    )


# ============================================================================ documentation
@bp.get("/openapi.json")
def openapi_json():
    """This API's OpenAPI 3 document, generated from the code.
    ---
    get:
      tags: [documentation]
      summary: The OpenAPI document
      security: []
      responses:
        200:
          description: OpenAPI 3.1 document
          content:
            application/json:
              schema: {type: object}
    """
    from .openapi import spec_for

    doc = spec_for(current_app._get_current_object())
    doc = {**doc, "servers": [{"url": request.script_root or "/"}]}
    resp = _json(doc)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/docs")
def docs():
    """The API documentation page (Swagger UI), for logged-in users.
    ---
    get:
      tags: [documentation]
      summary: Interactive documentation (HTML)
      security: [{sessionCookie: []}]
      responses:
        200:
          description: The page
          content:
            text/html:
              schema: {type: string}
        302:
          description: Not logged in; redirect to the login page
    """
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    return render_template("api_docs.html", spec_url=url_for("api.openapi_json"))
