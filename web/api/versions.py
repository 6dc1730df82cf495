"""Version history and diffs: ``GET /versions/<a>/diff/<b>``, what changes from version ``a``
to version ``b`` (any two, either order), as JSON or, with ``format=geojson``, the changed areas
as a GeoJSON FeatureCollection in WGS-84. The list of versions is ``GET /versions``
(:mod:`.grids`); rolling back is ``POST /versions/<n>/rollback`` (:mod:`.drafts`)."""

from __future__ import annotations

from flask import g

from geogrid.errors import InputError, NotFound
from geogrid.model import feature_collection
from geogrid.usecases import boundaries

from .. import params
from ..params import MAX_INT
from ..responses import geojson_response, json_response
from ..services import service
from . import bp


def diff_json(found: dict) -> dict:
    """A diff without its geometries and districts (what the JSON answer and the page show)."""
    out = {k: v for k, v in found.items() if k not in ("districts", "grids", "transfers")}
    out["grids"] = [{k: v for k, v in r.items() if k != "geometry"} for r in found["grids"]]
    out["transfers"] = [{k: v for k, v in r.items() if k != "geometry"} for r in found["transfers"]]
    return out


def diff_geojson(found: dict) -> dict:
    """The changed areas of a diff: one feature per transfer (``kind: transfer``, from, to,
    area_m2) and per changed grid (``kind: grid``, code, status, the area gained or lost)."""
    rows = [
        (
            {
                "kind": "transfer",
                "from": t["from"],
                "to": t["to"],
                "area_m2": round(t["area_m2"], 2),
            },
            t["geometry"],
        )
        for t in found["transfers"]
    ]
    rows += [
        (
            {"kind": "grid", "code": r["code"], "name": r["name"], "status": r["status"],
             "area_change_m2": round(r["area_change_m2"], 2)},
            r["geometry"],
        )
        for r in found["grids"]
        if r["geometry"] is not None and not r["geometry"].is_empty
    ]  # fmt: skip
    fc = feature_collection(rows)
    fc["from"], fc["to"] = found["from"]["number"], found["to"]["number"]
    return fc


@bp.get("/versions/<int:a>/diff/<int:b>")
def version_diff(a: int, b: int):
    """What changes from one boundary version to another.
    ---
    get:
      tags: [versions]
      summary: Diff of two versions
      description: |
        Any two versions, either order, drafts included: second-level grids changed, created or
        retired (area before and after, m²), pieces of territory changing grid (`transfers`),
        recoded grids, attribute changes (name, community, worker), communities changed, units
        changing grid with their workers before and after, a `summary` of the counts, and each
        version's metadata (`from`, `to`: published at and by, the message, rollback_of). The
        people are those on duty when each version was published. `format=geojson`: the
        changed areas as a FeatureCollection (WGS-84), one feature per transfer (`kind:
        transfer`) and per changed grid (`kind: grid`).
      parameters:
        - {name: a, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: b, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: format, in: query, schema: {type: string, enum: [json, geojson], default: json}}
      responses:
        200:
          description: The diff
          content:
            application/json:
              schema:
                type: object
                required: [from, to, summary, grids, transfers, units, attributes, communities]
                properties:
                  from: {type: object}
                  to: {type: object}
                  summary: {type: object}
                  grids: {type: array, items: {type: object}}
                  transfers: {type: array, items: {type: object}}
                  recoded: {type: array, items: {type: object}}
                  attributes: {type: array, items: {type: object}}
                  communities: {type: array, items: {type: object}}
                  units: {type: array, items: {type: object}}
            application/geo+json:
              schema: {type: object}
        400: BadRequest
        401: Unauthorized
        404: NotFound
    """
    for n in (a, b):
        if n > MAX_INT:
            raise NotFound(f"no version {n}")
    fmt = (params.text("format") or "json").lower()
    if fmt not in ("json", "geojson"):
        raise InputError(f"format must be json or geojson, got {fmt[:20]!r}")
    found = boundaries.diff(service(), g.actor, a, b)
    if fmt == "geojson":
        return geojson_response(diff_geojson(found))
    return json_response(diff_json(found))
