"""Search for the map's search box and other systems: ``GET /api/v1/search?q=&limit=``.

Units, first- and second-level grids, roads and addresses by Chinese name, code prefix or pinyin
(initials ``xhsq`` or full ``xianhe``), ranked as :mod:`geogrid.search` describes, each with a
point and, for areas, a box to fly to. The index is built once per boundary version.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from geogrid.errors import InputError
from geogrid.search import DEFAULT_LIMIT, KINDS, MAX_LIMIT

from .. import params  # the API's parameter rules, the same here
from ..auth import check_api_caller
from ..extensions import csrf
from ..openapi import register_schema
from ..services import service

bp = Blueprint("search", __name__)
csrf.exempt(bp)

#: Longest query accepted, characters.
MAX_QUERY = 100

register_schema(
    "SearchHit",
    {
        "type": "object",
        "required": ["kind", "code", "name", "lon", "lat", "bbox", "match", "matched"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "code": {
                "type": "string",
                "nullable": True,
                "description": "null for roads, addresses",
            },
            "name": {"type": "string"},
            "lon": {"type": "number", "description": "A point to fly to (inside a grid)"},
            "lat": {"type": "number"},
            "bbox": {
                "type": "array",
                "nullable": True,
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 4,
                "description": "minlon, minlat, maxlon, maxlat of a grid or road; null for points",
            },
            "match": {"type": "string", "enum": ["exact", "prefix", "substring"]},
            "matched": {"type": "string", "enum": ["name", "code", "pinyin", "address"]},
            "parent": {"type": "string", "description": "Grids: the parent's code"},
            "category": {"type": "string", "description": "Units: the category"},
            "address": {"type": "string", "description": "Units and addresses: the full address"},
            "grid": {"type": "string", "description": "Units: the second-level grid"},
        },
    },
)
register_schema(
    "SearchAnswer",
    {
        "type": "object",
        "required": ["query", "version", "display_crs", "results"],
        "properties": {
            "query": {"type": "string"},
            "version": {"type": "integer"},
            "display_crs": {"type": "string"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
        },
    },
)


@bp.before_request
def _authenticate():
    return check_api_caller()


@bp.get("/api/v1/search")
def search():
    """Find units, grids, roads and addresses by name, code or pinyin.
    ---
    get:
      tags: [search]
      summary: Search units, grids, roads and addresses
      description: |
        Matches Chinese names and addresses as substrings, codes by prefix, and pinyin of names
        by initials (`xhsq` finds 仙鹤社区) or full syllables without tones (`xianhe`); every
        reading of a polyphonic character counts. Ranked exact, then prefix, then substring
        matches; on ties first-level grids, second-level grids, roads, units, addresses. Each
        result has a point (`lon`, `lat`) and, for grids and roads, a `bbox` to fly to.
      parameters:
        - {name: q, in: query, required: true, description: "What to look for (1-100 characters)", schema: {type: string, maxLength: 100}, example: xhsq}
        - {name: limit, in: query, description: "Most results (1-50)", schema: {type: integer, minimum: 1, maximum: 50, default: 10}}
        - display_crs
      responses:
        200:
          description: The results, best first (empty when nothing matches)
          content:
            application/json:
              schema: SearchAnswer
        400: BadRequest
        401: Unauthorized
    """
    q = params.text("q", required=True)
    if len(q) > MAX_QUERY:
        raise InputError(f"q is limited to {MAX_QUERY} characters")
    limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    crs = params.display_crs("crs", "wgs84")
    g.actor.require("search")
    svc = service()
    version, _ = svc.current()
    hits = svc.search_index().search(q, limit)
    return jsonify(
        query=q,
        version=version.number,
        display_crs=crs,
        results=[h.to_dict(crs) for h in hits],
    )
