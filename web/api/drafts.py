"""The planner's drafts: list and open drafts, read one as it stands (its grids as GeoJSON, the
validation's errors and notices with their geometries, the workload table and its balance),
edit it (every edit computed on the server, on the draft's revision), undo and redo, preview the
impact, publish, rebase, discard, and roll the boundaries back to an earlier version.

Every view calls one use case of :mod:`geogrid.usecases.planning`, where the roles (planners
and administrators) and the revision are checked: a stale revision is 409, a bad edit 400 with
the reason, another role 403, a draft that fails validation on publishing 422 with the report.
"""

from __future__ import annotations

from flask import g, request

from geogrid.errors import InputError, NotFound
from geogrid.model import feature_collection
from geogrid.planning import OVERRIDE, edit_from_dict
from geogrid.planning.edits import reason
from geogrid.planning.impact import to_geojson
from geogrid.usecases import planning as uc

from .. import params
from ..openapi import register_schema
from ..params import MAX_INT
from ..responses import json_response, record
from ..services import service
from . import bp

#: The attributes of a grid feature in a draft's GeoJSON.
GRID_PROPS = ("code", "name", "parent", "kind", "worker", "worker_phone")
_STATUSES = {"open": "open", "published": "published", "discarded": "discarded", "all": None}

_OBJ = {"type": "object"}
register_schema(
    "Draft",
    {
        "type": "object",
        "description": "A stored draft: its base version, revision (every change adds one), "
        "status and edits (undone ones inactive)",
        "required": ["id", "name", "revision", "status", "edits"],
        "properties": {
            "id": {"type": "integer"},
            "district_code": {"type": "string"},
            "base_version_id": {"type": "integer"},
            "name": {"type": "string"},
            "created_by": {"type": "string"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "revision": {"type": "integer"},
            "status": {"type": "string", "enum": ["open", "published", "discarded"]},
            "published_version_id": {"type": ["integer", "null"]},
            "edits": {"type": "array", "items": _OBJ},
        },
    },
)
register_schema(
    "DraftState",
    {
        "type": "object",
        "description": "A draft as it stands. `geojson`: its second-level grids (WGS-84; after "
        "an edit only the grids it changed or made, with `partial: true`); `report`: the "
        "validation (errors block publishing, each with the offending geometry); `workload`: "
        "per grid, and the balance (coefficient of variation of the scores)",
        "required": ["draft", "base", "current", "stale", "report", "geojson", "workload"],
        "properties": {
            "draft": {"$ref": "#/components/schemas/Draft"},
            "base": _OBJ,
            "current": _OBJ,
            "stale": {"type": "boolean"},
            "grids": {"type": "integer"},
            "units": {"type": "integer"},
            "changed": {"type": "array", "items": {"type": "string"}},
            "vacant": {"type": "array", "items": {"type": "string"}},
            "report": {"type": "object", "required": ["ok", "errors", "notices"]},
            "broken": {"type": "array", "items": _OBJ},
            "geojson": {"type": "object", "required": ["type", "features"]},
            "partial": {"type": "boolean"},
            "workload": {"type": "object", "required": ["grids", "balance"]},
            "communities": {
                "type": "object",
                "description": "The first-level grids (communities: code, name) as GeoJSON; "
                "with `partial`, only those the edit changed",
            },
            "overrides": {
                "type": "array",
                "description": "Units put in a grid by hand: code, name, grid, reason, lon, lat",
                "items": _OBJ,
            },
        },
    },
)
register_schema(
    "DraftEditAnswer",
    {
        "type": "object",
        "required": ["state"],
        "properties": {
            "state": {"$ref": "#/components/schemas/DraftState"},
            "result": {
                "type": ["object", "null"],
                "description": "What the edit changed: touched, created, retired, recoded "
                "grids, communities, units, notes",
            },
            "check": {
                "type": ["object", "null"],
                "description": "The incremental validation of the grids the edit touched",
            },
        },
    },
)
register_schema(
    "DraftEdit",
    {
        "type": "object",
        "description": "An edit and the draft's revision it was made on. `kind` and its "
        "fields: `split` (code, line), `move_boundary` (line, codes?), `merge` (codes), "
        "`drag_vertex` (source, target), `move_grid` (code, community), `move_unit` (unit, "
        "grid, reason), `rename` (code, name), `recode` (code, new_code), `set_worker` (code, "
        "name, phone?), `drag_edge` (code, start, end, offset, neighbour?: the run of the boundary "
        "`code` shares with a neighbour from vertex `start` to vertex `end`, moved by `offset` "
        "[dx, dy] metres east and north). Points are [lon, lat] in WGS-84.",
        "required": ["kind", "revision"],
        "properties": {
            "kind": {
                "type": "string",
                "enum": ["split", "move_boundary", "merge", "drag_vertex", "move_grid",
                         "move_unit", "rename", "recode", "set_worker", "drag_edge"],
            },  # fmt: skip
            "revision": {"type": "integer", "minimum": 0},
            "code": {"type": "string"},
            "codes": {"type": "array", "items": {"type": "string"}},
            "line": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
            "source": {"type": "array", "items": {"type": "number"}},
            "target": {"type": "array", "items": {"type": "number"}},
            "community": {"type": "string"},
            "unit": {"type": "string"},
            "grid": {"type": "string"},
            "reason": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "new_code": {"type": "string"},
            "phone": {"type": ["string", "null"]},
            "start": {"type": "array", "items": {"type": "number"}},
            "end": {"type": "array", "items": {"type": "number"}},
            "offset": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "neighbour": {"type": ["string", "null"]},
        },
        "example": {"kind": "merge", "codes": ["320113005001001", "320113005001002"], "revision": 0},
    },
)  # fmt: skip
_REVISION = {
    "type": "object",
    "properties": {"revision": {"type": "integer", "minimum": 0}},
}
register_schema("DraftRevision", _REVISION)
register_schema(
    "DraftPublish",
    {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string", "minLength": 1, "maxLength": 2000},
            "revision": {"type": "integer", "minimum": 0},
        },
        "example": {"message": "拆分东阳社区第七网格"},
    },
)


# ---------------------------------------------------------------------- helpers
def _body(allowed: set[str] | None = None) -> dict:
    """The JSON object of the request (an empty body reads as ``{}``)."""
    return params.json_object(allowed, empty_ok=True)


def _revision(data: dict) -> int | None:
    value = data.get("revision")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"revision must be a whole number, got {str(value)[:40]!r}")
    if value is not None and not 0 <= value <= MAX_INT:
        raise InputError(f"revision must be between 0 and {MAX_INT}")
    return value


def _id(draft_id: int) -> int:
    if draft_id > MAX_INT:
        raise NotFound(f"no draft {draft_id}")
    return draft_id


def grids_geojson(district, codes=None) -> dict:
    """The second-level grids of a drafted district (only ``codes`` when given)."""
    g2 = district.grids2
    keep = None if codes is None else set(codes)
    cols = [c for c in GRID_PROPS if c in g2.columns]
    rows = [
        (record(rec), geom)
        for rec, geom in zip(g2[cols].to_dict("records"), g2.geometry, strict=True)
        if keep is None or rec["code"] in keep
    ]
    return feature_collection(rows)


def overrides(district) -> list[dict]:
    """The units of a drafted district put in a grid by hand, with the reason."""
    units = district.units
    if OVERRIDE not in units.columns:
        return []
    out = []
    for rec, geom in zip(
        units[["code", "name", "grid", OVERRIDE]].to_dict("records"), units.geometry, strict=True
    ):
        why = reason(rec[OVERRIDE])
        if why is not None:
            out.append(
                {"code": rec["code"], "name": rec["name"], "grid": rec["grid"], "reason": why,
                 "lon": round(geom.x, 7), "lat": round(geom.y, 7)}
            )  # fmt: skip
    return out


def communities_geojson(district, codes=None) -> dict:
    """The first-level grids (communities) of a drafted district (only ``codes`` when given)."""
    g1 = district.grids1
    keep = None if codes is None else set(codes)
    rows = [
        ({"code": str(c), "name": n}, geom)
        for c, n, geom in zip(g1["code"], g1["name"], g1.geometry, strict=True)
        if keep is None or c in keep
    ]
    return feature_collection(rows)


def _state(svc, state, codes=None, communities=None) -> dict:
    out = state.to_dict()
    out["geojson"] = grids_geojson(state.district, codes)
    out["communities"] = communities_geojson(
        state.district, None if codes is None else communities or ()
    )
    out["partial"] = codes is not None
    out["workload"] = uc.workload_of(svc, state)
    out["overrides"] = overrides(state.district)
    return out


def _answer(svc, answer, *, partial: bool = False) -> dict:
    out = answer.to_dict()
    codes = answer.result.grids if partial and answer.result is not None else None
    changed = answer.result.communities if answer.result is not None else ()
    out["state"] = _state(svc, answer.state, codes, changed)
    return out


# ---------------------------------------------------------------------- drafts
@bp.get("/drafts")
def drafts():
    """The district's drafts.
    ---
    get:
      tags: [drafts]
      summary: List drafts
      description: Newest first; `status` open (the default), published, discarded or all.
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, published, discarded, all], default: open}}
      responses:
        200:
          description: The drafts
          content:
            application/json:
              schema:
                type: object
                required: [drafts]
                properties:
                  drafts: {type: array, items: {$ref: '#/components/schemas/Draft'}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    status = request.args.get("status", "open")
    if status not in _STATUSES:
        raise InputError(f"status: open, published, discarded or all, got {status[:40]!r}")
    found = uc.drafts(service(), g.actor, status=_STATUSES[status])
    return json_response({"drafts": [d.to_dict() for d in found]})


@bp.post("/drafts")
def open_draft():
    """Open a new draft.
    ---
    post:
      tags: [drafts]
      summary: Open a draft
      description: A new draft of version number `base` (default the current version), named `name`.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, minLength: 1, maxLength: 200}
                base: {type: integer, minimum: 1}
              example: {name: 东阳社区调整}
      responses:
        201:
          description: The new draft as it stands
          content:
            application/json:
              schema: DraftState
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    data = _body({"name", "base"})
    base = data.get("base")
    if base is not None and (
        isinstance(base, bool) or not isinstance(base, int) or not 1 <= base <= MAX_INT
    ):
        raise InputError(f"base must be a version number, got {str(base)[:40]!r}")
    svc = service()
    state = uc.open_draft(svc, g.actor, data.get("name"), base)
    return json_response(_state(svc, state), 201)


@bp.get("/drafts/<int:draft_id>")
def draft(draft_id: int):
    """One draft as it stands.
    ---
    get:
      tags: [drafts]
      summary: Read a draft
      description: Its grids (GeoJSON, WGS-84), the validation with the offending geometries, the workload table and balance, its revision.
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      responses:
        200:
          description: The draft
          content:
            application/json:
              schema: DraftState
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    svc = service()
    return json_response(_state(svc, uc.draft_state(svc, g.actor, _id(draft_id))))


@bp.post("/drafts/<int:draft_id>/edits")
def edit_draft(draft_id: int):
    """Edit a draft.
    ---
    post:
      tags: [drafts]
      summary: Make an edit
      description: |
        The edit is computed on the server on the draft at `revision` (the coverage stays exact
        whatever the browser drew) and kept, even when it leaves the draft invalid (publishing
        refuses). The answer holds the new state with only the grids the edit changed or made
        (`partial: true`; `result.retired` names those gone), the incremental check and the
        workload.
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      requestBody:
        required: true
        content:
          application/json:
            schema: DraftEdit
      responses:
        200:
          description: The draft after the edit
          content:
            application/json:
              schema: DraftEditAnswer
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    data = _body()
    revision = data.pop("revision", None)
    if revision is None:
        raise InputError("an edit needs the draft's revision it was made on")
    revision = _revision({"revision": revision})
    try:
        the_edit = edit_from_dict(data)
    except (TypeError, ValueError) as exc:  # a value of the wrong shape inside a field
        raise InputError(f"bad edit: {str(exc)[:200]}") from None
    svc = service()
    answer = uc.edit(svc, g.actor, _id(draft_id), the_edit, revision)
    return json_response(_answer(svc, answer, partial=True))


def _step_doc(what: str) -> str:
    return f"""{what} the draft's last edit.
    ---
    post:
      tags: [drafts]
      summary: {what}
      description: The whole draft as it stands after; `revision`, when given, must be the draft's.
      parameters:
        - {{name: draft_id, in: path, required: true, schema: {{type: integer, minimum: 1}}}}
      requestBody:
        content:
          application/json:
            schema: DraftRevision
      responses:
        200:
          description: The draft after
          content:
            application/json:
              schema: DraftEditAnswer
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """


@bp.post("/drafts/<int:draft_id>/undo")
def undo_draft(draft_id: int):
    svc = service()
    revision = _revision(_body({"revision"}))
    return json_response(_answer(svc, uc.undo(svc, g.actor, _id(draft_id), revision)))


@bp.post("/drafts/<int:draft_id>/redo")
def redo_draft(draft_id: int):
    svc = service()
    revision = _revision(_body({"revision"}))
    return json_response(_answer(svc, uc.redo(svc, g.actor, _id(draft_id), revision)))


undo_draft.__doc__ = _step_doc("Undo")
redo_draft.__doc__ = _step_doc("Redo")


@bp.get("/drafts/<int:draft_id>/impact")
def draft_impact(draft_id: int):
    """What publishing the draft would change.
    ---
    get:
      tags: [drafts]
      summary: Impact preview
      description: |
        Units and open incidents changing grid and worker, each changed grid's area before and
        after (m²), and the pieces of territory changing grid (`areas`, a GeoJSON
        FeatureCollection with from, to, area_m2).
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      responses:
        200:
          description: The changes against the draft's base
          content:
            application/json:
              schema:
                type: object
                required: [units, incidents, grids, areas]
                properties:
                  units: {type: array, items: {type: object}}
                  incidents: {type: array, items: {type: object}}
                  grids: {type: array, items: {type: object}}
                  recoded: {type: array}
                  areas: {type: object}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    found = uc.impact(service(), g.actor, _id(draft_id))
    out = {k: v for k, v in found.items() if k not in ("transfers", "grids")}
    out["grids"] = [
        {k: v for k, v in row.items() if k not in ("geometry", "difference")}
        for row in found.get("grids", [])
    ]
    out["areas"] = to_geojson(found)
    return json_response(out)


@bp.post("/drafts/<int:draft_id>/publish")
def publish_draft(draft_id: int):
    """Publish a draft as the new version.
    ---
    post:
      tags: [drafts]
      summary: Publish
      description: |
        The drafted district becomes the new current version, with the author and `message`;
        units and open incidents move to their new grids in the same transaction. Refused with
        409 when another version was published after the draft's base (rebase it) and with 422
        (and the report) when validation finds errors.
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      requestBody:
        required: true
        content:
          application/json:
            schema: DraftPublish
      responses:
        200:
          description: The new version, how many units and open incidents moved, notices, grids without a worker
          content:
            application/json:
              schema:
                type: object
                required: [version, draft, units_moved, incidents_moved]
                properties:
                  version: {type: object}
                  draft: {$ref: '#/components/schemas/Draft'}
                  units_moved: {type: integer}
                  incidents_moved: {type: integer}
                  notices: {type: array, items: {type: object}}
                  vacant: {type: array, items: {type: string}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: Unprocessable
    """
    data = _body({"message", "revision"})
    answer = uc.publish(
        service(), g.actor, _id(draft_id), data.get("message"), revision=_revision(data)
    )
    return json_response(answer.to_dict())


@bp.post("/drafts/<int:draft_id>/rebase")
def rebase_draft(draft_id: int):
    """Move a stale draft onto the current version.
    ---
    post:
      tags: [drafts]
      summary: Rebase
      description: The draft's edits are replayed on the current version; those that no longer apply are dropped and listed in `conflicts`.
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      requestBody:
        content:
          application/json:
            schema: DraftRevision
      responses:
        200:
          description: The draft on the current version
          content:
            application/json:
              schema:
                type: object
                required: [state, from_version, to_version, kept, conflicts]
                properties:
                  state: {$ref: '#/components/schemas/DraftState'}
                  from_version: {type: integer}
                  to_version: {type: integer}
                  kept: {type: integer}
                  conflicts: {type: array, items: {type: object}}
                  undone_dropped: {type: integer}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    svc = service()
    revision = _revision(_body({"revision"}))
    answer = uc.rebase(svc, g.actor, _id(draft_id), revision=revision)
    out = answer.to_dict()
    out["state"] = _state(svc, answer.state)
    return json_response(out)


@bp.post("/drafts/<int:draft_id>/discard")
def discard_draft(draft_id: int):
    """Give a draft up.
    ---
    post:
      tags: [drafts]
      summary: Discard
      description: The draft is kept, as discarded; it can no longer change.
      parameters:
        - {name: draft_id, in: path, required: true, schema: {type: integer, minimum: 1}}
      requestBody:
        content:
          application/json:
            schema: DraftRevision
      responses:
        200:
          description: The discarded draft
          content:
            application/json:
              schema: Draft
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    revision = _revision(_body({"revision"}))
    return json_response(uc.discard(service(), g.actor, _id(draft_id), revision).to_dict())


@bp.post("/versions/<int:number>/rollback")
def rollback(number: int):
    """Publish an earlier version again.
    ---
    post:
      tags: [drafts]
      summary: Roll back
      description: Version `number` is published again as a new version (an activation like any other, logged with the message).
      parameters:
        - {name: number, in: path, required: true, schema: {type: integer, minimum: 1}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [message]
              properties:
                message: {type: string, minLength: 1, maxLength: 2000}
      responses:
        200:
          description: The new version
          content:
            application/json:
              schema:
                type: object
                required: [version, restored, replaced]
                properties:
                  version: {type: object}
                  restored: {type: integer}
                  replaced: {type: integer}
                  incidents_moved: {type: integer}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: Unprocessable
    """
    if number > MAX_INT:
        raise NotFound(f"no version {number}")
    data = _body({"message"})
    return json_response(uc.rollback(service(), g.actor, number, data.get("message")).to_dict())
