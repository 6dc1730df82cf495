"""Early warnings: the list (as the caller may see it) and acknowledging one. Both call
:mod:`geogrid.usecases.warnings`, where the roles and a grid worker's scope are checked."""

from __future__ import annotations

from flask import g, request

from geogrid import crs as _crs
from geogrid.errors import InputError
from geogrid.usecases import warnings as uw

from .. import params
from ..openapi import register_schema
from ..responses import json_response
from ..services import service
from . import bp

register_schema(
    "EarlyWarning",
    {
        "type": "object",
        "required": ["key", "rule", "severity", "incidents", "explanation", "since"],
        "properties": {
            "key": {"type": "string", "description": "Stable: rule, subject and window (an acknowledgement sticks to it)", "example": "repeat:320113005007007:0601:20261122"},
            "rule": {"type": "string", "enum": ["repeat", "recur", "cluster", "surge"]},
            "severity": {"type": "string", "enum": ["high", "medium"]},
            "grid_code": {"type": ["string", "null"], "description": "The grid it is about (a cluster: the grid of most of its reports)"},
            "grid_codes": {"type": "array", "items": {"type": "string"}},
            "community": {"type": ["string", "null"]},
            "category": {"type": ["string", "null"]},
            "since": {"type": "string", "format": "date-time", "description": "The first incident behind it (a surge: now)"},
            "incidents": {"type": "array", "items": {"type": "integer"}, "description": "The incidents behind it (a grid worker: those of their grid)"},
            "lon": {"type": "number", "description": "Where to show it, in display_crs"},
            "lat": {"type": "number"},
            "explanation": {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
            "detail": {"type": "object", "description": "The counts and thresholds the rule used"},
            "acknowledged": {"type": ["object", "null"], "properties": {"by": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "note": {"type": "string"}}},
        },
    },
)  # fmt: skip
register_schema(
    "EarlyWarningList",
    {
        "type": "object",
        "required": ["view", "total", "warnings"],
        "properties": {
            "view": {"type": "string"},
            "rule": {"type": ["string", "null"]},
            "display_crs": {"type": "string"},
            "total": {"type": "integer"},
            "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/EarlyWarning"}},
        },
    },
)


def as_json(w, crs: str = "wgs84") -> dict:
    out = w.to_dict()
    if crs != "wgs84":
        lon, lat = _crs.from_wgs84(w.lon, w.lat, crs)
        out["lon"], out["lat"] = round(float(lon), 7), round(float(lat), 7)
    return out


@bp.get("/warnings")
def warnings():
    """The early warnings raised now.
    ---
    get:
      tags: [warnings]
      summary: List the early warnings
      description: |
        The warnings the rules raise now over the incident history (repeats of a category in a
        grid, recurrences after a passed return visit, clusters of reports, surges of open or
        overdue incidents; thresholds: the `GEOGRID_WARN_*` settings), most severe first.
        Dispatchers, planners and administrators see all; a grid worker those touching their
        grid, with their grid's incidents only.
      parameters:
        - {name: view, in: query, schema: {type: string, enum: [active, acknowledged, all], default: active}}
        - {name: rule, in: query, schema: {type: string, enum: [repeat, recur, cluster, surge]}}
        - display_crs
      responses:
        200:
          description: The warnings
          content:
            application/json:
              schema: EarlyWarningList
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    view = params.text("view") or "active"
    rule = params.text("rule")
    crs = params.display_crs("crs", "wgs84")
    found = uw.warnings(service(), g.actor, rule=rule, view=view)
    return json_response(
        {
            "view": view,
            "rule": rule,
            "display_crs": crs,
            "total": len(found),
            "warnings": [as_json(w, crs) for w in found],
        }
    )


@bp.post("/warnings/<key>/acknowledge")
def acknowledge_warning(key: str):
    """Acknowledge a warning.
    ---
    post:
      tags: [warnings]
      summary: Acknowledge an early warning with a note
      description: |
        Dispatchers and administrators. The note says what is being done; who and when are
        recorded in the audit log with the incidents seen. The warning leaves the active list
        until a new incident joins it. 404 if no such warning is raised now, 409 if it is
        acknowledged already.
      parameters:
        - {name: key, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [note], properties: {note: {type: string}}}
            example: {note: 已安排网格员排查}
      responses:
        200:
          description: The warning, acknowledged
          content:
            application/json:
              schema: EarlyWarning
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    if request.mimetype == "application/json":
        data = params.json_object({"note"})
    else:
        data = params.only_fields(request.form.to_dict(), {"note"})
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise InputError("note: text expected")
    return json_response(as_json(uw.acknowledge(service(), g.actor, key, note or "")))
