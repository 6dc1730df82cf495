"""The OpenAPI 3 document of ``/api/v1``, generated from the code.

Every URL rule under ``/api/v1`` (whichever blueprint registers it) is read with apispec's
FlaskPlugin: the operations are the YAML after a line ``---`` in the view's docstring, keyed by
HTTP method::

    @bp.get("/search")
    def search():
        \"\"\"Search grids and units by name.
        ---
        get:
          tags: [search]
          summary: Search grids and units
          parameters:
            - {name: q, in: query, required: true, schema: {type: string}}
            - version                 # a shared parameter below, by name
          responses:
            200:
              description: The matches
              content:
                application/json:
                  schema: SearchResult    # a schema in components (or inline)
            400: BadRequest           # shared responses below, by name
            401: Unauthorized
        \"\"\"

Shared pieces are registered here: parameters (:data:`PARAMETERS`), responses
(:data:`RESPONSES`) and schemas (:data:`SCHEMAS`; other modules may add theirs with
:func:`register_schema` at import time). Operations are authenticated (Bearer token or session
cookie) unless they say ``security: []``. ``tests/web/test_api.py`` checks that every method of
every rule is documented and that the document validates.
"""

from __future__ import annotations

import copy
import threading

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin

PREFIX = "/api/v1"
API_VERSION = "1.0"
OPENAPI_VERSION = "3.1.0"

DESCRIPTION = """\
The grid-management service of Xianlin sub-district: which grid owns a place and who handles it,
the grids and units themselves, and the boundary versions.

**Authentication**: send `Authorization: Bearer <token>` (create tokens on the *API tokens* page),
or use the session of a logged-in user (POST requests from a session send the page's CSRF token in
the `X-CSRFToken` header).

**Coordinates**: input points may be in `wgs84` (GPS, OpenStreetMap; also EPSG:4326), `cgcs2000`
(Tianditu; EPSG:4490), `gcj02` (AMap/Gaode, Tencent, WeChat), `bd09` (Baidu) or any EPSG code
(e.g. `EPSG:4549`, x/y in metres). GeoJSON answers are WGS-84 unless a display system is asked for
(`crs=gcj02` to draw on AMap tiles). Distances are metres.

**Errors**: a JSON body `{"error": {"status": 400, "message": "..."}}` with a 4xx status.
"""

PARAMETERS = {
    "incident_id": {
        "name": "incident_id",
        "in": "path",
        "required": True,
        "description": "The incident's number",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
    "crs": {
        "name": "crs",
        "in": "query",
        "description": "System of the input coordinates: wgs84, cgcs2000, gcj02, bd09 or EPSG:n",
        "schema": {"type": "string", "default": "wgs84"},
        "example": "wgs84",
    },
    "at": {
        "name": "at",
        "in": "query",
        "description": "Answer as of this time, ISO 8601 such as 2026-05-01T08:30 (Beijing "
        "time without an offset) or 2026-05-01T00:30Z: the boundary version then current and "
        "the people then on duty",
        "schema": {"type": "string"},
    },
    "version": {
        "name": "version",
        "in": "query",
        "description": "Boundary version number (default: the current version)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
    "display_crs": {
        "name": "crs",
        "in": "query",
        "description": "System of the returned coordinates (gcj02 for AMap tiles)",
        "schema": {
            "type": "string",
            "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"],
            "default": "wgs84",
        },
    },
    "simplify": {
        "name": "simplify",
        "in": "query",
        "description": "Simplify boundaries for display by this many metres (shared edges stay "
        "shared); 0 = exact",
        "schema": {"type": "number", "minimum": 0, "maximum": 1000, "default": 0},
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


RESPONSES = {
    "BadRequest": _error("Bad input (the message says what and where)"),
    "Unauthorized": _error("No valid token or session"),
    "Forbidden": _error("The caller's role may not do this"),
    "NotFound": _error("No such version, grid or path"),
    "Conflict": _error("Based on a stale state"),
    "TooLarge": _error("Body or number of points over the limit"),
    "UnsupportedMediaType": _error("A body format the endpoint does not read"),
    "Unprocessable": _error("Validation failed"),
}


def _nullable(schema: str) -> dict:
    return {"anyOf": [{"$ref": f"#/components/schemas/{schema}"}, {"type": "null"}]}


_NULLABLE_STRING = {"type": ["string", "null"]}
_GEOMETRY = {
    "type": ["object", "null"],
    "description": "A GeoJSON geometry (RFC 7946)",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "Grid": {
        "type": "object",
        "description": "A grid and the people responsible (second level: worker; first level: "
        "leader and service office)",
        "required": ["level", "code", "name"],
        "properties": {
            "level": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "parent": _NULLABLE_STRING,
            "kind": _NULLABLE_STRING,
            "worker": _NULLABLE_STRING,
            "worker_phone": _NULLABLE_STRING,
            "leader": _NULLABLE_STRING,
            "leader_title": _NULLABLE_STRING,
            "leader_phone": _NULLABLE_STRING,
            "office": _NULLABLE_STRING,
            "office_phone": _NULLABLE_STRING,
        },
    },
    "Candidate": {
        "type": "object",
        "required": ["code", "distance_m"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "parent": _NULLABLE_STRING,
            "distance_m": {"type": "number"},
        },
    },
    "UnitHit": {
        "type": "object",
        "required": ["code", "name", "distance_m"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "category": {"type": "string"},
            "address": _NULLABLE_STRING,
            "grid": {"type": "string"},
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "distance_m": {"type": "number"},
        },
    },
    "LocateAnswer": {
        "type": "object",
        "required": [
            "lon",
            "lat",
            "match",
            "grid2",
            "grid1",
            "distance_m",
            "needs_confirmation",
            "candidates",
            "version",
            "units",
        ],
        "properties": {
            "lon": {"type": "number", "description": "WGS-84 longitude of the point"},
            "lat": {"type": "number"},
            "match": {"type": "string", "enum": ["interior", "edge", "vertex", "outside"]},
            "grid2": _nullable("Grid"),
            "grid1": _nullable("Grid"),
            "distance_m": {
                "type": ["number", "null"],
                "description": "To the nearest grid boundary (inside) or nearest grid (outside); "
                "null for a point too far away to measure in the local projection (EPSG:4549)",
            },
            "needs_confirmation": {"type": "boolean"},
            "candidates": {"type": "array", "items": {"$ref": "#/components/schemas/Candidate"}},
            "nearest": _nullable("Candidate"),
            "input": {
                "type": "object",
                "properties": {
                    "x": {"type": "number"},
                    "y": {"type": "number"},
                    "crs": {"type": "string"},
                },
            },
            "version": {"type": "integer"},
            "units": {"type": "array", "items": {"$ref": "#/components/schemas/UnitHit"}},
            "display": {
                "type": "object",
                "properties": {
                    "crs": {"type": "string"},
                    "lon": {"type": "number"},
                    "lat": {"type": "number"},
                },
            },
        },
    },
    "PointUpload": {
        "type": "object",
        "description": "A GeoJSON FeatureCollection of Point features, a Feature, a MultiPoint "
        "or a Point",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "enum": ["FeatureCollection", "Feature", "MultiPoint", "Point"],
            },
            "features": {"type": "array", "items": {"type": "object"}},
            "coordinates": {"type": "array", "items": {}},
            "geometry": {"type": "object"},
            "properties": {"type": ["object", "null"]},
        },
        "example": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [118.93, 32.11]},
                    "properties": {"id": "A1"},
                }
            ],
        },
    },
    "PointAnswer": {
        "type": "object",
        "description": "Added to each point's properties",
        "properties": {
            "grid2_code": _NULLABLE_STRING,
            "grid1_code": _NULLABLE_STRING,
            "match": {
                "type": ["string", "null"],
                "enum": ["interior", "edge", "vertex", "outside", None],
            },
            "distance_m": {"type": ["number", "null"]},
            "needs_confirmation": {"type": ["boolean", "null"]},
            "candidates": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "distance_m": {"type": "number"},
                    },
                },
            },
            "error": {
                "type": ["string", "null"],
                "description": "Why this point has no answer",
            },
        },
    },
    "LocatedCollection": {
        "type": "object",
        "description": "The upload with the answers in each feature's properties (a Feature "
        "when a Feature or a Point was sent)",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection", "Feature"]},
            "version": {"type": "integer"},
            "summary": {
                "type": "object",
                "properties": {
                    k: {"type": "integer"}
                    for k in ("points", "located", "outside", "needs_confirmation", "errors")
                },
            },
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "geometry": {"type": ["object", "null"]},
                        "properties": {"$ref": "#/components/schemas/PointAnswer"},
                    },
                },
            },
            "properties": {"$ref": "#/components/schemas/PointAnswer"},
        },
    },
    "GridFeature": {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": _GEOMETRY,
            "properties": {"$ref": "#/components/schemas/Grid"},
            "version": {"type": "integer"},
            "display_crs": {"type": "string"},
        },
    },
    "GridCollection": {
        "type": "object",
        "required": ["type", "features", "version"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "version": {"type": "integer"},
            "level": {"type": "integer"},
            "display_crs": {"type": "string"},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/GridFeature"}},
        },
    },
    "Unit": {
        "type": "object",
        "required": ["code", "name", "category", "grid"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "category": {"type": "string"},
            "address": _NULLABLE_STRING,
            "head": _NULLABLE_STRING,
            "head_phone": _NULLABLE_STRING,
            "grid": {"type": "string"},
            "households": {"type": ["integer", "null"]},
            "residents": {"type": ["integer", "null"]},
        },
    },
    "UnitCollection": {
        "type": "object",
        "required": ["type", "features", "total"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "version": {"type": "integer"},
            "display_crs": {"type": "string"},
            "total": {"type": "integer", "description": "Matching units in all pages"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": _GEOMETRY,
                        "properties": {"$ref": "#/components/schemas/Unit"},
                    },
                },
            },
        },
    },
    "Version": {
        "type": "object",
        "required": ["number", "status", "current"],
        "properties": {
            "number": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "published"]},
            "current": {"type": "boolean"},
            "base": {
                "type": ["integer", "null"],
                "description": "Number of the version it was made from",
            },
            "note": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "published_by": {"type": ["string", "null"]},
            "rollback_of": {
                "type": ["integer", "null"],
                "description": "Number of the version this one republished, for a rollback",
            },
            "draft": {
                "type": ["object", "null"],
                "description": "The draft it was published from (id, name, author)",
            },
            "grid_count": {"type": "integer"},
            "unit_count": {"type": "integer"},
        },
    },
}

_extra_schemas: dict[str, dict] = {}
_lock = threading.Lock()


def register_schema(name: str, schema: dict) -> None:
    """Add a component schema (for other blueprints' docstrings to name)."""
    _extra_schemas[name] = schema


def build(app) -> dict:
    """The OpenAPI document of every rule under :data:`PREFIX` in ``app``."""
    spec = APISpec(
        title="geogrid API",
        version=API_VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin()],
        info={"description": DESCRIPTION},
        security=[{"bearerAuth": []}, {"sessionCookie": []}],
    )
    spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "An API token (ggt_...)"},
    )
    spec.components.security_scheme(
        "sessionCookie",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "A logged-in user's session (POSTs also send X-CSRFToken)",
        },
    )
    for name, schema in {**SCHEMAS, **_extra_schemas}.items():
        spec.components.schema(name, copy.deepcopy(schema))
    for name, param in PARAMETERS.items():
        spec.components.parameter(
            name, param["in"], {k: v for k, v in copy.deepcopy(param).items() if k != "in"}
        )
    for name, response in RESPONSES.items():
        spec.components.response(name, copy.deepcopy(response))
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIX)),
        key=lambda r: (r.rule, r.endpoint),
    )
    for rule in rules:
        spec.path(view=app.view_functions[rule.endpoint], app=app)
    return spec.to_dict()


def spec_for(app) -> dict:
    """The document of ``app``, built once (the URL map does not change after start-up)."""
    doc = app.extensions.get("geogrid.openapi")
    if doc is None:
        with _lock:
            doc = app.extensions.get("geogrid.openapi")
            if doc is None:
                doc = app.extensions["geogrid.openapi"] = build(app)
    return doc
