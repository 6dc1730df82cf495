"""The planner's drafts from the command line: ``geogrid draft list|new|show|edit|undo|redo|
discard|rebase|impact|publish`` and ``geogrid rollback``, the use cases of
:mod:`geogrid.usecases.planning` (run on the server, as an administrator). An edit is given as
JSON (``geogrid.planning.Edit.to_dict``), inline or ``@file.json``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError, ValidationFailed
from ..usecases import exchange, planning
from .base import main
from .db import _service, cli_user, db_option


@main.group("draft")
def draft_group():
    """Drafts of new boundaries: open one, edit it, undo, preview, rebase and publish."""


def _show(state, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(state.to_dict(), ensure_ascii=False, indent=2))
        return
    d = state.draft
    stale = ""
    if state.stale and d.status == "open":
        stale = f" · STALE: version {state.current.number} is current, rebase"
    click.echo(
        f"draft {d.id} {d.name!r} ({d.status}) · revision {d.revision} · from version "
        f"{state.base.number}{stale}"
    )
    for e in d.edits:
        undone = "" if e.active else " (undone)"
        click.echo(f"  {e.seq:>3}. {e.edit.get('kind')} by {e.actor}{undone}")
    click.echo(f"  {len(state.district.grids2)} grids · {state.report.summary()}")
    for f in state.report.errors:
        click.echo(f"  error: {f.message}")
    for b in state.broken:
        click.echo(f"  no longer applies: edit {b['seq']} ({b['kind']}): {b['message']}")


def _edit_arg(text: str) -> dict:
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the edit is not JSON: {exc}") from None


def _id(value: str) -> int:
    if not value.isdigit():
        raise InputError(f"a draft is named by its number, got {value!r}")
    return int(value)


@draft_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Published and discarded ones too.")
@db_option
def list_cmd(everything, db_url):
    """The district's drafts, newest first."""
    svc = _service(db_url)
    for d in planning.drafts(svc, cli_user(), status=None if everything else "open"):
        click.echo(f"{d.id:>4} {d.status:<9} rev {d.revision:<4} {len(d.active)} edits · {d.name}")


@draft_group.command("new")
@click.argument("name")
@click.option("--base", type=int, default=None, help="Version number [default: the current].")
@click.option("--json", "as_json", is_flag=True)
@db_option
def new_cmd(name, base, as_json, db_url):
    """Open a draft called NAME."""
    _show(planning.open_draft(_service(db_url), cli_user(), name, base), as_json)


@draft_group.command("show")
@click.argument("draft_id")
@click.option("--json", "as_json", is_flag=True)
@db_option
def show_cmd(draft_id, as_json, db_url):
    """A draft: its edits and its validation."""
    _show(planning.draft_state(_service(db_url), cli_user(), _id(draft_id)), as_json)


@draft_group.command("edit")
@click.argument("draft_id")
@click.argument("edit")
@click.option("--revision", type=int, required=True, help="The draft's revision you saw.")
@click.option("--json", "as_json", is_flag=True)
@db_option
def edit_cmd(draft_id, edit, revision, as_json, db_url):
    """Apply EDIT (JSON, or @file.json) to a draft."""
    answer = planning.edit(_service(db_url), cli_user(), _id(draft_id), _edit_arg(edit), revision)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    r = answer.result
    click.echo(
        f"{r.kind}: changed {', '.join(r.grids) or '-'}; retired {', '.join(r.retired) or '-'}"
    )
    for note in r.notes:
        click.echo(f"  {note}")
    _show(answer.state, False)


@draft_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="The new draft's name.")
@click.option("--layer", default=None, help="The layer with the second-level grids.")
@click.option("--crs", "src_crs", default=None, help="The layer's CRS (EPSG:4549, gcj02...).")
@click.option("--base", type=int, default=None, help="Version number [default: the current].")
@click.option("--json", "as_json", is_flag=True)
@db_option
def import_cmd(path, name, layer, src_crs, base, as_json, db_url):
    """Import a layer edited in QGIS (GeoJSON, GeoPackage, Shapefile or its .zip) as a draft."""
    state, found = exchange.import_draft(
        _service(db_url), cli_user(), name, path, layer=layer, src_crs=src_crs, base=base
    )
    if as_json:
        plain = {k: v for k, v in found.items() if k not in ("grids", "transfers")}
        plain["grids"] = [{k: v for k, v in g.items() if k != "geometry"} for g in found["grids"]]
        plain["state"] = state.to_dict()
        plain["state"]["draft"].pop("edits", None)
        click.echo(json.dumps(plain, ensure_ascii=False, indent=2, default=str))
        return
    for note in found["result"]["notes"]:
        click.echo(note)
    s = found["summary"]
    click.echo(
        f"{s['grids']} grids change ({s['created']} new, {s['retired']} retired), "
        f"{s['units']} units and {s['incidents']} open incidents change grid, "
        f"{len(found['attributes'])} attribute changes"
    )
    for g in found["grids"]:
        click.echo(
            f"  grid {g['code']} {g['status']}: {g['area_before_m2']:,.0f} → "
            f"{g['area_after_m2']:,.0f} m²"
        )
    for a in found["attributes"]:
        for f, (before, after) in a["changes"].items():
            click.echo(f"  grid {a['code']} {f}: {before} → {after}")
    _show(state, False)


def _step(name: str, call):
    @draft_group.command(name)
    @click.argument("draft_id")
    @db_option
    def command(draft_id, db_url):
        _show(call(_service(db_url), cli_user(), _id(draft_id)).state, False)

    command.__doc__ = (
        f"{name.capitalize()} a draft's {'last' if name == 'undo' else 'undone'} edit."
    )
    return command


undo_cmd = _step("undo", planning.undo)
redo_cmd = _step("redo", planning.redo)


@draft_group.command("discard")
@click.argument("draft_id")
@db_option
def discard_cmd(draft_id, db_url):
    """Give a draft up."""
    d = planning.discard(_service(db_url), cli_user(), _id(draft_id))
    click.echo(f"draft {d.id} {d.name!r} discarded")


@draft_group.command("rebase")
@click.argument("draft_id")
@db_option
def rebase_cmd(draft_id, db_url):
    """Replay a draft's edits on the current version; those that no longer apply are dropped."""
    answer = planning.rebase(_service(db_url), cli_user(), _id(draft_id))
    click.echo(
        f"rebased from version {answer.from_version} to {answer.to_version}: {answer.kept} "
        f"edits kept, {len(answer.conflicts)} dropped"
    )
    for c in answer.conflicts:
        click.echo(f"  dropped edit {c['seq']} ({c['kind']}): {c['message']}")
    _show(answer.state, False)


@draft_group.command("impact")
@click.argument("draft_id")
@click.option("--json", "as_json", is_flag=True)
@db_option
def impact_cmd(draft_id, as_json, db_url):
    """What publishing a draft would change: units, open incidents, grids."""
    found = planning.impact(_service(db_url), cli_user(), _id(draft_id))
    if as_json:
        plain = {k: v for k, v in found.items() if k not in ("grids", "transfers")}
        plain["grids"] = [{k: v for k, v in g.items() if k != "geometry"} for g in found["grids"]]
        click.echo(json.dumps(plain, ensure_ascii=False, indent=2, default=str))
        return
    s = found["summary"]
    click.echo(
        f"{s['grids']} grids change ({s['created']} new, {s['retired']} retired), "
        f"{s['units']} units and {s['incidents']} open incidents change grid"
    )
    for u in found["units"]:
        click.echo(f"  unit {u['code']} {u['name']}: {u['from_grid']} → {u['to_grid']}")
    for i in found["incidents"]:
        click.echo(f"  incident #{i['id']}: {i['from_grid']} → {i['to_grid']}")


@draft_group.command("publish")
@click.argument("draft_id")
@click.option("--message", "-m", required=True, help="What the new version changes, and why.")
@db_option
def publish_cmd(draft_id, message, db_url):
    """Publish a draft as the new current version."""
    try:
        answer = planning.publish(_service(db_url), cli_user(), _id(draft_id), message)
    except ValidationFailed as exc:
        for f in exc.report.errors:
            click.echo(f"error: {f.message}", err=True)
        raise
    click.echo(
        f"published version {answer.version.number}: {answer.units_moved} units and "
        f"{answer.incidents_moved} open incidents moved"
    )
    if answer.vacant:
        click.echo(f"  grids without a worker: {', '.join(answer.vacant)}")


@main.command("rollback")
@click.argument("version", type=int)
@click.option("--message", "-m", required=True, help="Why the earlier version comes back.")
@db_option
def rollback_cmd(version, message, db_url):
    """Publish boundary VERSION again, as a new version."""
    answer = planning.rollback(_service(db_url), cli_user(), version, message)
    click.echo(
        f"version {answer.restored.number} is current again as version {answer.version.number} "
        f"({answer.incidents_moved} open incidents moved)"
    )
