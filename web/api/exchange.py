"""Layers in and out of GIS tools: import a layer edited in QGIS as a draft
(``POST /drafts/import``), export a version or a draft as GeoJSON, GeoPackage or a zipped
Shapefile (``GET /versions/<n>/export``, ``GET /drafts/<id>/export``). The use cases are
:mod:`geogrid.usecases.exchange`; the upload is bounded by the app's ``MAX_CONTENT_LENGTH``
(413 above it)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import current_app, g, request

from geogrid.errors import InputError, NotFound
from geogrid.planning.impact import to_geojson
from geogrid.usecases import exchange as uc

from ..params import MAX_INT
from ..responses import json_response
from ..services import service
from . import bp

#: File suffixes an upload may have.
SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


def import_answer(state, found) -> dict:
    """The JSON answer of an import: the draft's summary, its validation and the impact."""
    out = state.to_dict()
    out["draft"]["edits"] = [
        {"seq": e.seq, "kind": e.edit.get("kind"), "actor": e.actor, "active": e.active}
        for e in state.draft.edits
    ]
    out["impact"] = {
        "summary": found["summary"],
        "grids": [{k: v for k, v in r.items() if k != "geometry"} for r in found["grids"]],
        "units": found["units"],
        "incidents": found["incidents"],
        "recoded": found["recoded"],
        "attributes": found["attributes"],
        "communities": found["communities"],
        "areas": to_geojson(found),
    }
    out["result"] = found["result"]
    return out


def _upload_to(folder: Path) -> Path:
    try:
        return _save_upload(folder)
    finally:
        for upload in request.files.values():
            upload.close()


def _save_upload(folder: Path) -> Path:
    files = request.files.getlist("file")
    extra = sorted(str(k) for k in set(request.files) - {"file"})
    if extra:
        raise InputError(f"unknown file field {extra[0][:40]!r}: send the layer as 'file'")
    files = [f for f in files if f.filename]
    if len(files) != 1:
        raise InputError("send one file as 'file' (a Shapefile as a .zip of its parts)")
    upload = files[0]
    name = Path(upload.filename.replace("\\", "/")).name or "upload"
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InputError(f"{name[:80]}: not a GIS file this import reads ({', '.join(SUFFIXES)})")
    path = folder / name
    upload.save(path)
    return path


@bp.post("/drafts/import")
def import_draft():
    """Import a layer as a new draft.
    ---
    post:
      tags: [drafts]
      summary: Import a layer (QGIS) as a draft
      description: |
        The file's second-level grids replace the base version's in a new draft (one
        `replace_grids` edit): GeoJSON, a GeoPackage (its `grids2` layer, a `grids` layer with a
        `level` column, or its only polygon layer) or a Shapefile as a .zip of its parts.
        Geometries go on the storage grid (an unmodified export imports as no change). The
        draft is validated (it may be invalid: publishing refuses); the answer holds the
        validation, the impact against the base and the attribute changes. A bad file is 400
        and leaves no draft.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file, name]
              properties:
                file: {type: string, format: binary}
                name: {type: string, minLength: 1, maxLength: 200}
                layer: {type: string}
                crs: {type: string, description: "The layer's CRS when it has none or a wrong one: EPSG:4549, cgcs2000, gcj02, bd09"}
                base: {type: integer, minimum: 1}
      responses:
        201:
          description: The new draft, its validation and the impact
          content:
            application/json:
              schema:
                type: object
                required: [draft, report, impact]
                properties:
                  draft: {type: object}
                  report: {type: object}
                  impact: {type: object}
                  result: {type: object}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        413: TooLarge
    """
    g.actor.require("edit_draft")
    form = request.form
    unknown = sorted(str(k) for k in set(form) - {"name", "layer", "crs", "base", "csrf_token"})
    if unknown:
        raise InputError(f"unknown field {unknown[0][:40]!r}")
    base = form.get("base") or None
    if base is not None:
        if not base.isdigit() or not 1 <= int(base) <= MAX_INT:
            raise InputError(f"base must be a version number, got {base[:40]!r}")
        base = int(base)
    svc = service()
    with tempfile.TemporaryDirectory(prefix="geogrid-import-") as tmp:
        path = _upload_to(Path(tmp))
        state, found = uc.import_draft(
            svc, g.actor, form.get("name", ""), path,
            layer=form.get("layer") or None, src_crs=form.get("crs") or None, base=base,
        )  # fmt: skip
    return json_response(import_answer(state, found), 201)


def _send(name: str, data: bytes, mimetype: str):
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return current_app.response_class(
        data, mimetype=mimetype, headers={"Content-Disposition": disposition}
    )


_EXPORT_DOC = """{what} as a GIS file.
    ---
    get:
      tags: [{tag}]
      summary: Export {summary}
      description: |
        `format` geojson (one layer, default grids2), gpkg (one layer, or all four layers in one
        file, the default) or shp (a .zip of the Shapefile parts). The units layer is the unit
        register as `/api/v1/units` shows it to the caller.
      parameters:
        - {{name: {param}, in: path, required: true, schema: {{type: integer, minimum: 1}}}}
        - {{name: format, in: query, schema: {{type: string, enum: [geojson, gpkg, shp], default: gpkg}}}}
        - {{name: layer, in: query, schema: {{type: string, enum: [outline, grids1, grids2, units]}}}}
      responses:
        200:
          description: The file, as an attachment
          content:
            application/geo+json: {{schema: {{type: string}}}}
            application/geopackage+sqlite3: {{schema: {{type: string, format: binary}}}}
            application/zip: {{schema: {{type: string, format: binary}}}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """


def _args() -> tuple[str, str | None]:
    unknown = sorted(set(request.args) - {"format", "layer"})
    if unknown:
        raise InputError(f"unknown parameter {unknown[0][:40]!r}")
    return uc.export_format(request.args.get("format", "gpkg")), request.args.get("layer") or None


@bp.get("/versions/<int:number>/export")
def export_version(number: int):
    if number > MAX_INT:
        raise NotFound(f"no version {number}")
    fmt, layer = _args()
    return _send(*uc.export(service(), g.actor, version=number, layer=layer, fmt=fmt))


@bp.get("/drafts/<int:draft_id>/export")
def export_draft(draft_id: int):
    if draft_id > MAX_INT:
        raise NotFound(f"no draft {draft_id}")
    fmt, layer = _args()
    return _send(*uc.export(service(), g.actor, draft=draft_id, layer=layer, fmt=fmt))


export_version.__doc__ = _EXPORT_DOC.format(
    what="A version", tag="versions", summary="a version", param="number"
)
export_draft.__doc__ = _EXPORT_DOC.format(
    what="A draft", tag="drafts", summary="a draft", param="draft_id"
)
