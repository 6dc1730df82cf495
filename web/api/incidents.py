"""Incidents: intake, the list (JSON, GeoJSON, CSV, xlsx), one incident, the workflow's steps,
reassigning, photos and the category catalogue. Every view calls one use case of
:mod:`geogrid.usecases.incidents`, where the roles and the grid and office scopes are checked.

Bodies are JSON, or ``multipart/form-data`` with the same fields and the photos as files named
``photos`` (JPEG, PNG or WebP).
"""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
from flask import current_app, g, request
from flask_babel import get_locale
from werkzeug.exceptions import UnsupportedMediaType

from geogrid import crs as _crs
from geogrid.errors import InputError
from geogrid.incidents import Category
from geogrid.incidents.query import IncidentQuery
from geogrid.usecases import incidents as uc
from geogrid.usecases.locating import Point

from .. import params
from ..openapi import register_schema
from ..responses import geojson_response, json_response
from ..services import service
from . import bp

#: The fields of a body read as whole numbers, yes/no, and text; anything else is refused.
_INTS = {"merge_into", "workdays", "into"}
_FLAGS = {"dispatch", "passed", "active"}


_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": ["string", "null"]}
register_schema(
    "Incident",
    {
        "type": "object",
        "description": "An incident as the caller may read it: the reporter's and informant's "
        "names and contact only for roles that call back (not planners). Times are ISO 8601 UTC.",
        "required": ["id", "state", "category", "lon", "lat", "grid_code", "created_at", "actions"],
        "properties": {
            "id": {"type": "integer"},
            "district_code": {"type": "string"},
            "state": {"type": "string", "enum": ["reported", "dispatched", "handling", "escalated", "resolved", "revisited", "closed", "cancelled", "merged"]},
            "category": {"type": "string"},
            "category_name": {"type": ["object", "null"], "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
            "description": {"type": "string"},
            "channel": {"type": "string"},
            "lon": {"type": "number", "description": "WGS-84"},
            "lat": {"type": "number"},
            "input": {"type": ["object", "null"], "description": "The coordinates as given, when not WGS-84"},
            "grid_code": _TEXT,
            "grid1_code": _TEXT,
            "version_id": {"type": "integer"},
            "worker": _TEXT,
            "office": _TEXT,
            "reporter": _TEXT,
            "reporter_contact": _TEXT,
            "informant_kind": _TEXT,
            "informant_name": _TEXT,
            "address": _TEXT,
            "unit_code": _TEXT,
            "media_url": _TEXT,
            "satisfaction": {"type": ["string", "null"], "enum": ["satisfied", "fair", "dissatisfied", None]},
            "recurrences": {"type": "integer"},
            "merged_into": {"type": ["integer", "null"]},
            **{k: _TIME for k in ("created_at", "updated_at", "dispatched_at", "due_at", "escalated_at", "office_due_at", "resolved_at", "revisit_due_at", "revisited_at", "closed_at", "deadline")},
            "overdue": {"type": "boolean"},
            "due_soon": {"type": "boolean"},
            "revisit_due": {"type": "boolean"},
            "actions": {"type": "array", "items": {"type": "string"}, "description": "The steps the caller may take now (the workflow's, reassign, photo)"},
            "distance_m": {"type": "number", "description": "In a list asked with `near`: metres from that place"},
            "events": {"type": "array", "items": {"type": "object", "required": ["at", "action"], "properties": {"at": {"type": "string"}, "actor": {"type": "string"}, "action": {"type": "string"}, "from_state": _TEXT, "to_state": _TEXT, "note": _TEXT, "detail": {"type": ["object", "null"]}}}},
            "photos": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "event_id": {"type": ["integer", "null"]}, "media_type": {"type": "string"}, "size": {"type": "integer"}, "created_at": {"type": "string"}}}},
            "merged": {"type": "array", "items": {"type": "integer"}, "description": "Incidents merged into this one"},
        },
    },
)  # fmt: skip
register_schema(
    "IncidentList",
    {
        "type": "object",
        "required": ["total", "limit", "offset", "incidents"],
        "properties": {
            "total": {"type": "integer", "description": "Matching incidents in all pages"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "incidents": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}},
        },
    },
)
register_schema(
    "IncidentCollection",
    {
        "type": "object",
        "required": ["type", "total", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "integer"}, "geometry": {"type": "object"}, "properties": {"type": "object"}}}},
        },
    },
)  # fmt: skip
register_schema(
    "IncidentReport",
    {
        "type": "object",
        "required": ["category"],
        "properties": {
            "x": {"type": ["number", "string"], "description": "Longitude, or x in metres (alias: lon)"},
            "y": {"type": ["number", "string"], "description": "Latitude, or y (alias: lat)"},
            "crs": {"type": "string", "default": "wgs84", "description": "wgs84, cgcs2000, gcj02, bd09 or EPSG:n"},
            "category": {"type": "string", "example": "0601"},
            "description": {"type": "string"},
            "channel": {"type": "string", "enum": ["phone", "app", "patrol", "video", "referral", "open311", "api"], "default": "api"},
            "reporter": {"type": "string"},
            "reporter_contact": {"type": "string"},
            "informant_kind": {"type": "string", "description": "For an informant's patrol report (channel patrol)"},
            "informant_name": {"type": "string"},
            "address": {"type": "string"},
            "unit_code": {"type": "string", "description": "The unit it happened at (its place when no x/y)"},
            "grid_code": {"type": "string", "description": "Near a boundary: the candidate grid the dispatcher confirms"},
            "media_url": {"type": "string", "description": "A photo kept elsewhere (http or https)"},
            "dispatch": {"type": "boolean", "default": False},
            "merge_into": {"type": "integer", "description": "An open incident this report repeats"},
        },
        "example": {"x": 118.93, "y": 32.11, "category": "0601", "description": "井盖缺失", "dispatch": True},
    },
)  # fmt: skip
register_schema(
    "IncidentAction",
    {
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"type": "string", "enum": ["dispatch", "accept", "escalate", "resolve", "revisit", "close", "reopen", "cancel", "merge"]},
            "note": {"type": "string"},
            "office": {"type": "string", "description": "escalate: the service office"},
            "workdays": {"type": "integer", "description": "escalate: the office's deadline"},
            "passed": {"type": "boolean", "description": "revisit: the problem stayed away"},
            "satisfaction": {"type": "string", "enum": ["satisfied", "fair", "dissatisfied"], "description": "revisit: the reporter's"},
            "into": {"type": "integer", "description": "merge: the open incident"},
        },
        "example": {"action": "accept"},
    },
)  # fmt: skip
register_schema(
    "Category",
    {
        "type": "object",
        "required": ["code", "major", "minor", "workdays", "office"],
        "properties": {
            "code": {"type": "string"},
            "major": {"type": "string"},
            "major_en": {"type": "string"},
            "minor": {"type": "string"},
            "minor_en": {"type": "string"},
            "workdays": {"type": "integer"},
            "office": {"type": "string"},
            "active": {"type": "boolean"},
        },
    },
)


def _body(allowed: set[str]) -> tuple[dict, list[bytes]]:
    """The fields of a JSON or multipart body (only ``allowed`` ones: a misspelt field is an
    error, not silently dropped) and the photos uploaded with it."""
    if request.mimetype == "application/json":
        data = params.json_object()
        photos: list[bytes] = []
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = {k: v for k, v in request.form.items()}
        photos = [f.read() for f in request.files.getlist("photos") if f.filename]
        extra = set(request.files) - {"photos"}
        if extra:
            raise InputError(
                f"unknown file field {sorted(map(str, extra))[0]!r} (photos go in 'photos')"
            )
    else:
        raise UnsupportedMediaType(
            f"send JSON or multipart/form-data, not {request.mimetype or 'an untyped body'}"
        )
    params.only_fields(data, allowed)
    return {k: _value(k, v) for k, v in data.items() if v is not None and v != ""}, photos


def _value(name: str, value):
    if name in _INTS:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InputError(f"{name}: a whole number expected")
        try:
            return int(value)
        except ValueError:
            raise InputError(f"{name}: a whole number expected, got {value[:40]!r}") from None
    if name in _FLAGS:
        if isinstance(value, bool):
            return value
        flag = params.BOOL.get(str(value).lower())
        if flag is None:
            raise InputError(f"{name}: true or false expected, got {str(value)[:40]!r}")
        return flag
    if name in ("x", "y", "lon", "lat"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InputError(f"{name}: a number expected")
        return value
    if not isinstance(value, str):
        raise InputError(f"{name}: text expected")
    return value


def _incident(inc, status: int = 200):
    return json_response(uc.views(service(), g.actor, [inc], full=True)[0], status)


def _query() -> IncidentQuery:
    return IncidentQuery.parse(
        {k: v for k, v in request.args.items() if k not in ("format", "near", "crs")}
    )


def _near(crs: str) -> Point | None:
    """The ``near=lon,lat`` place of a list (in ``crs``, the caller's map system), or None."""
    value = params.text("near")
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 2:
        raise InputError(f"near: lon,lat (two numbers), got {value[:40]!r}")
    x, y = (
        _crs.parse_coordinate(p, n) for p, n in zip(parts, ("near lon", "near lat"), strict=True)
    )
    return Point.of(x, y, crs)


# ---------------------------------------------------------------------- list and intake
@bp.get("/incidents")
def incidents():
    """Incidents, filtered, sorted and paged.
    ---
    get:
      tags: [incidents]
      summary: List incidents
      description: |
        The incidents the caller may see (a grid worker: their grid's; a service office user:
        those escalated to their office), newest first unless `sort` says otherwise.
        `format=geojson` answers a FeatureCollection of points (for a map layer).
      parameters:
        - {name: state, in: query, description: "States, comma-separated", schema: {type: string}, example: "dispatched,handling"}
        - {name: community, in: query, description: "A first-level grid's code", schema: {type: string}}
        - {name: grid, in: query, description: "A second-level grid's code", schema: {type: string}}
        - {name: category, in: query, description: "A category's 4-digit code or its class's 2 digits", schema: {type: string, pattern: "^([0-9]{2}|[0-9]{4})$"}}
        - {name: channel, in: query, schema: {type: string, enum: [phone, app, patrol, video, referral, open311, api]}}
        - {name: office, in: query, description: "Escalated to this service office", schema: {type: string}}
        - {name: overdue, in: query, description: "Only overdue (true) or only not overdue (false)", schema: {type: boolean}}
        - {name: since, in: query, description: "Reported on or after (a date or ISO 8601 time; Beijing time without an offset)", schema: {type: string}, example: "2026-01-01"}
        - {name: until, in: query, description: "Reported before (a date: to the end of that day)", schema: {type: string}}
        - {name: q, in: query, description: "Text in the description, address or reporter's name, or an incident number", schema: {type: string, maxLength: 200}}
        - {name: sort, in: query, description: "created_at, updated_at, due_at, id, grid_code, category or state; '-' first for descending", schema: {type: string, default: "-created_at"}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 50}}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 1000000000, default: 0}}
        - {name: format, in: query, schema: {type: string, enum: [json, geojson], default: json}}
        - {name: near, in: query, description: "lon,lat of the caller (in `crs`: a phone's GPS is wgs84, an AMap-based app's gcj02): each incident then has `distance_m`, measured in EPSG:4549", schema: {type: string}, example: "118.9351,32.1078"}
        - display_crs
      responses:
        200:
          description: One page of the matching incidents and how many match in all
          content:
            application/json:
              schema: IncidentList
            application/geo+json:
              schema: IncidentCollection
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "geojson"):
        raise InputError(f"format: json or geojson, got {fmt[:40]!r}")
    crs = params.display_crs("crs", "wgs84")
    near = _near(crs)
    query = _query()
    svc = service()
    total, found = uc.search(svc, g.actor, query)
    rows = uc.views(svc, g.actor, found, near=near)
    page = {"total": total, "limit": query.limit, "offset": query.offset}
    if fmt == "json":
        return json_response({**page, "incidents": rows})
    lon = np.array([r.pop("lon") for r in rows], dtype=float)
    lat = np.array([r.pop("lat") for r in rows], dtype=float)
    if crs != "wgs84" and rows:
        lon, lat = (np.asarray(a) for a in _crs.from_wgs84(lon, lat, crs))
    features = [
        {
            "type": "Feature",
            "id": r["id"],
            "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
            "properties": r,
        }
        for r, x, y in zip(rows, lon.tolist(), lat.tolist(), strict=True)
    ]
    return geojson_response(
        {"type": "FeatureCollection", "display_crs": crs, **page, "features": features}
    )


@bp.get("/incidents/export")
def export_incidents():
    """Every incident matching the filters, as a file.
    ---
    get:
      tags: [incidents]
      summary: Export incidents (CSV or Excel)
      description: The same filters as the list, up to 200,000 rows, headers in the interface language.
      parameters:
        - {name: format, in: query, required: true, schema: {type: string, enum: [csv, xlsx]}}
        - {name: state, in: query, schema: {type: string}}
        - {name: community, in: query, schema: {type: string}}
        - {name: grid, in: query, schema: {type: string}}
        - {name: category, in: query, schema: {type: string, pattern: "^([0-9]{2}|[0-9]{4})$"}}
        - {name: overdue, in: query, schema: {type: boolean}}
        - {name: since, in: query, schema: {type: string}}
        - {name: until, in: query, schema: {type: string}}
        - {name: q, in: query, schema: {type: string, maxLength: 200}}
        - {name: lang, in: query, description: "Column headers in zh or en (default: the interface language)", schema: {type: string, enum: [zh, en]}}
      responses:
        200:
          description: The file
          content:
            text/csv: {schema: {type: string}}
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {schema: {type: string, format: binary}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    fmt = params.text("format", required=True)
    lang = params.text("lang") or str(get_locale() or "zh")
    if lang not in ("zh", "en"):
        raise InputError(f"lang: zh or en, got {lang[:40]!r}")
    query = IncidentQuery.parse(
        {k: v for k, v in request.args.items() if k not in ("format", "lang")}
    )
    data, mimetype, name = uc.export(service(), g.actor, query, fmt, lang=lang)
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return current_app.response_class(
        data, mimetype=mimetype, headers={"Content-Disposition": disposition}
    )


_REPORT_FIELDS = {
    "x", "y", "lon", "lat", "crs", "category", "description", "channel", "reporter",
    "reporter_contact", "informant_kind", "informant_name", "address", "unit_code",
    "grid_code", "media_url", "dispatch", "merge_into",
}  # fmt: skip


def _place(body: dict):
    """x and y (or lon and lat) of a body, and its CRS."""
    x, y = body.pop("x", body.pop("lon", None)), body.pop("y", body.pop("lat", None))
    if (x is None) != (y is None):
        raise InputError("give both coordinates: x and y (or lon and lat)")
    return x, y, body.pop("crs", "wgs84")


@bp.post("/incidents")
def report_incident():
    """Report an incident at a place.
    ---
    post:
      tags: [incidents]
      summary: Report an incident
      description: |
        The place is located and the incident recorded against the second-level grid that owns
        it and the worker on duty there (its coordinates kept as given when not WGS-84). Near a
        boundary a neighbouring grid may be confirmed with `grid_code` (one of the locator's
        candidates). Without coordinates, `unit_code` places it at that unit. `dispatch: true`
        sends it to the worker at once; `merge_into` merges it into an open incident (a
        duplicate: both reporters are kept). JSON, or multipart with photos.
      requestBody:
        required: true
        content:
          application/json:
            schema: IncidentReport
          multipart/form-data:
            schema:
              allOf:
                - IncidentReport
                - type: object
                  properties:
                    photos: {type: array, items: {type: string, format: binary}}
      responses:
        201:
          description: The incident as recorded (or the open one it was merged into)
          content:
            application/json:
              schema: Incident
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        413: TooLarge
        415: UnsupportedMediaType
    """
    body, photos = _body(_REPORT_FIELDS)
    x, y, crs = _place(body)
    body.setdefault("channel", "api")
    inc = uc.report(service(), g.actor, x, y, crs, photos=photos, **body)
    return _incident(inc, 201)


@bp.get("/incidents/duplicates")
def incident_duplicates():
    """Possible duplicates of a report about to be made.
    ---
    get:
      tags: [incidents]
      summary: Possible duplicates
      description: Open incidents of the same category within the duplicate radius and time window (settings), nearest first.
      parameters:
        - {name: lon, in: query, required: true, description: "Longitude, or x (alias: x)", schema: {type: string}, example: "118.93"}
        - {name: lat, in: query, required: true, description: "Latitude, or y (alias: y)", schema: {type: string}, example: "32.11"}
        - crs
        - {name: category, in: query, required: true, schema: {type: string}, example: "0601"}
      responses:
        200:
          description: The open incidents it may repeat
          content:
            application/json:
              schema:
                type: object
                required: [radius_m, duplicates]
                properties:
                  radius_m: {type: number}
                  duplicates:
                    type: array
                    items:
                      allOf:
                        - Incident
                        - type: object
                          properties: {distance_m: {type: number}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    point = params.point()
    svc = service()
    found = uc.duplicates(svc, g.actor, point, category=params.text("category", required=True))
    rows = uc.views(svc, g.actor, [inc for inc, _ in found])
    for row, (_, d) in zip(rows, found, strict=True):
        row["distance_m"] = round(d, 1)
    return json_response({"radius_m": svc.policy.duplicate_radius_m, "duplicates": rows})


# ---------------------------------------------------------------------- one incident
@bp.get("/incidents/<int:incident_id>")
def incident(incident_id: int):
    """One incident with its log and photos.
    ---
    get:
      tags: [incidents]
      summary: Read an incident
      parameters:
        - incident_id
      responses:
        200:
          description: The incident, its log (who, when, what, note), photos and the steps the caller may take now (`actions`)
          content:
            application/json:
              schema: Incident
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return _incident(uc.get(service(), g.actor, incident_id))


_ACT_FIELDS = {"action", "note", "office", "workdays", "passed", "satisfaction", "into"}


@bp.post("/incidents/<int:incident_id>/actions")
def incident_action(incident_id: int):
    """Take one step of the four-step method.
    ---
    post:
      tags: [incidents]
      summary: Take a step (dispatch, accept, escalate, resolve, revisit, close, reopen, cancel, merge)
      description: |
        One transaction recording who, when, the note and the photos. A step the incident's
        state does not allow is refused (400) with a message naming the allowed ones; one the
        caller's role may not take, 403. `escalate` names the `office` (default: the category's)
        and may set its deadline in `workdays`; `revisit` says whether the visit `passed` (with
        the reporter's `satisfaction`) or the problem is back (a recurrence: dispatched again);
        `merge` names the open incident it goes `into`. `escalate`, `resolve`, `reopen` and
        `cancel` need a `note`.
      parameters:
        - incident_id
      requestBody:
        required: true
        content:
          application/json:
            schema: IncidentAction
          multipart/form-data:
            schema:
              allOf:
                - IncidentAction
                - type: object
                  properties:
                    photos: {type: array, items: {type: string, format: binary}}
      responses:
        200:
          description: The incident after the step
          content:
            application/json:
              schema: Incident
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        413: TooLarge
        415: UnsupportedMediaType
    """
    body, photos = _body(_ACT_FIELDS)
    action = body.pop("action", None)
    if action is None:
        raise InputError("action: the step to take (dispatch, accept, escalate, resolve, ...)")
    return _incident(uc.act(service(), g.actor, incident_id, action, photos=photos, **body))


@bp.post("/incidents/<int:incident_id>/reassign")
def reassign_incident(incident_id: int):
    """Move an open incident to another grid or worker.
    ---
    post:
      tags: [incidents]
      summary: Reassign an incident
      description: To another second-level grid (and its worker on duty, unless `worker` names someone else) or to another worker; logged with the reason.
      parameters:
        - incident_id
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [note]
              properties:
                grid_code: {type: string}
                worker: {type: string}
                note: {type: string, description: "Why"}
      responses:
        200:
          description: The incident after the step
          content:
            application/json:
              schema: Incident
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        415: UnsupportedMediaType
    """
    body, _ = _body({"grid_code", "worker", "note"})
    return _incident(uc.reassign(service(), g.actor, incident_id, **body))


@bp.post("/incidents/<int:incident_id>/photos")
def incident_photos(incident_id: int):
    """Add photos to an incident.
    ---
    post:
      tags: [incidents]
      summary: Add photos
      parameters:
        - incident_id
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [photos]
              properties:
                photos: {type: array, items: {type: string, format: binary}}
                note: {type: string}
      responses:
        200:
          description: The incident with the photos
          content:
            application/json:
              schema: Incident
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        413: TooLarge
        415: UnsupportedMediaType
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send the photos as multipart/form-data, in 'photos'")
    body, photos = _body({"note"})
    return _incident(uc.add_photos(service(), g.actor, incident_id, photos, **body))


@bp.get("/incidents/photos/<int:photo_id>")
def incident_photo(photo_id: int):
    """A photo of an incident.
    ---
    get:
      tags: [incidents]
      summary: A photo (or its thumbnail)
      parameters:
        - {name: photo_id, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 2147483647}}
        - {name: thumb, in: query, description: "The 320-pixel thumbnail (JPEG)", schema: {type: boolean, default: false}}
      responses:
        200:
          description: The image
          content:
            image/jpeg: {schema: {type: string, format: binary}}
            image/png: {schema: {type: string, format: binary}}
            image/webp: {schema: {type: string, format: binary}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    data, mimetype = uc.photo(service(), g.actor, photo_id, thumb=params.flag("thumb"))
    resp = current_app.response_class(data, mimetype=mimetype)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


# ---------------------------------------------------------------------- categories
@bp.get("/incident-categories")
def categories():
    """The category catalogue.
    ---
    get:
      tags: [incidents]
      summary: Incident categories
      description: Two levels (大类 / 小类), each with its deadline in working days and the office for joint handling.
      parameters:
        - {name: inactive, in: query, description: "Also the retired categories", schema: {type: boolean, default: false}}
      responses:
        200:
          description: The categories in code order
          content:
            application/json:
              schema:
                type: object
                required: [categories]
                properties:
                  categories: {type: array, items: Category}
        400: BadRequest
        401: Unauthorized
    """
    svc = service()
    cats = uc.catalogue(svc, g.actor, inactive=params.flag("inactive"))
    states = svc.store.category_states()
    return json_response(
        {"categories": [{**c.to_dict(), "active": states.get(c.code, True)} for c in cats]}
    )


@bp.put("/incident-categories/<code>")
def save_category(code: str):
    """Add or change a category.
    ---
    put:
      tags: [incidents]
      summary: Add or change a category (administrators)
      parameters:
        - {name: code, in: path, required: true, description: "4 digits: major class, minor class", schema: {type: string, pattern: "^[0-9]{4}$"}, example: "0601"}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [major, minor, workdays, office]
              properties:
                major: {type: string}
                major_en: {type: string}
                minor: {type: string}
                minor_en: {type: string}
                workdays: {type: integer, minimum: 1}
                office: {type: string}
                active: {type: boolean, default: true}
      responses:
        200:
          description: The category as kept
          content:
            application/json:
              schema: Category
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        415: UnsupportedMediaType
    """
    fields = {"major", "major_en", "minor", "minor_en", "workdays", "office", "active"}
    body, _ = _body(fields)
    active = body.pop("active", True)
    missing = [f for f in ("major", "minor", "workdays", "office") if f not in body]
    if missing:
        raise InputError(f"category {code[:10]}: {', '.join(missing)} missing")
    cat = Category(
        code=code, major_en=body.get("major_en", ""), minor_en=body.get("minor_en", ""), **{
            k: body[k] for k in ("major", "minor", "workdays", "office")
        },
    )  # fmt: skip
    uc.save_category(service(), g.actor, cat, active=active)
    return json_response({**cat.to_dict(), "active": active})
