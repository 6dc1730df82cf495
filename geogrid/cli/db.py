"""``geogrid`` commands working on the database (see :mod:`geogrid.db`).

They take ``--db URL``; without it ``$GEOGRID_DATABASE_URL``, else the SQLite file
``instance/geogrid.sqlite3``. Changes are recorded in the audit log as made by ``cli:<user>``.
Commands that change something go through :mod:`geogrid.usecases`, as that user acting as an
administrator (:func:`geogrid.access.cli_actor`).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click
import sqlalchemy as sa

from .. import settings, usecases
from ..access import cli_actor
from ..accounts import ROLES
from ..db import Store
from ..db.dump import dump as _dump
from ..db.dump import restore as _restore
from ..db.engine import default_url, normalize_url
from ..db.types import parse_time
from ..roster import ROSTER_ROLES
from ..service import Service


def actor() -> str:
    """Who the audit log says made a change from the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def cli_user():
    """The :class:`~geogrid.access.Actor` of the command line: :func:`actor`, an administrator."""
    return cli_actor(actor())


def db_option(fn):
    """The ``--db URL`` option."""
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        default=None,
        help="Database URL (sqlite:///file or postgresql://...) [default: $GEOGRID_DATABASE_URL, else instance/geogrid.sqlite3].",
    )(fn)


def open_store(url: str | None, *, upgrade: bool = True) -> Store:
    """The store at ``url`` (default: :func:`geogrid.db.default_url`), schema up to date,
    closed when the command ends."""
    store = Store(url)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(store.dispose)
    if upgrade:
        store.upgrade()
    return store


def shown_url(url: str | None) -> str:
    """The URL without its password, for messages."""
    parsed = sa.engine.make_url(normalize_url(url or default_url()))
    return parsed.render_as_string(hide_password=True)


def _service(url: str | None) -> Service:
    return Service(open_store(url))


# ---------------------------------------------------------------------- commands
@click.command("init-db")
@db_option
@click.option(
    "--data",
    metavar="DIR",
    default=None,
    help="District directory to seed an empty database with [default: the bundled sample].",
)
def init_db(db_url, data):
    """Create or upgrade the database schema and, if the database is empty, load a district
    (the bundled sample by default) as its first published version."""
    store = open_store(db_url)
    fresh = not store.districts()
    svc = usecases.boundaries.bootstrap(store, cli_user(), data)
    version = store.current_version(svc.district_code)  # no locator needed to say which
    what = "seeded with" if fresh else "already holds"
    click.echo(
        f"Database {shown_url(db_url)} {what} district {svc.district_code}: "
        f"version {version.number} current ({version.grid_count} grids, {version.unit_count} units)"
    )


@click.command("versions")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def versions_cmd(db_url, as_json):
    """List the boundary versions of the district, newest first (* marks the current one)."""
    svc = _service(db_url)
    rows = svc.store.versions(svc.district_code)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in rows], ensure_ascii=False, indent=2))
        return
    for v in rows:
        mark = "*" if v.current else " "
        when = (v.published_at or v.created_at).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{mark} {v.number:>4}  {v.status:<9}  {when} UTC  {v.grid_count:>4} grids  {v.unit_count:>5} units  {v.note}"
        )


def _m2(x: float) -> str:
    return f"{x:,.2f}"


@click.command("diff")
@click.argument("a", type=int)
@click.argument("b", type=int)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (without geometries).")
def diff_cmd(a, b, db_url, as_json):
    """What changes from boundary version A to version B: grids, territory, attributes,
    communities and units."""
    found = usecases.boundaries.diff(_service(db_url), cli_user(), a, b)
    rows = {k: v for k, v in found.items() if k != "districts"}
    for key in ("grids", "transfers"):
        rows[key] = [{k: v for k, v in r.items() if k != "geometry"} for r in found[key]]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    s = found["summary"]
    for side in ("from", "to"):
        v = found[side]
        when = v["published_at"] or v["created_at"]
        back = f", rollback of {v['rollback_of']}" if v["rollback_of"] else ""
        click.echo(
            f"{side:<4} version {v['number']} ({v['status']}{back}) {when:%Y-%m-%d %H:%M} UTC "
            f"by {v['published_by'] or v['created_by']}: {v['note']}"
        )
    click.echo(
        f"{s['grids']} grids changed ({s['created']} new, {s['retired']} retired), "
        f"{s['recoded']} recoded, {s['attributes']} with attribute changes, "
        f"{s['communities']} communities changed, {s['units']} units change grid, "
        f"{_m2(s['area_m2'])} m² change grid"
    )
    sections = [
        ("Grids changed", found["grids"], lambda r: (
            f"{r['code']}  {r['status']:<8} {r['name']}  {_m2(r['area_before_m2'])} → "
            f"{_m2(r['area_after_m2'])} m² ({r['area_change_m2']:+,.2f})")),
        ("Territory changing grid", found["transfers"],
         lambda r: f"{r['from']} → {r['to']}  {_m2(r['area_m2'])} m²"),
        ("Recoded", found["recoded"], lambda r: f"{r['from']} → {r['to']}"),
        ("Attribute changes", found["attributes"], lambda r: f"{r['code']}  " + "; ".join(
            f"{k}: {v[0] or '—'} → {v[1] or '—'}" for k, v in r["changes"].items())),
        ("Communities changed", found["communities"], lambda r: (
            f"{r['code']}  {r['status']:<8} {r['name']}"
            + ("  outline changed" if r["outline_changed"] and r["status"] == "changed" else "")
            + "".join(f"; {k}: {v[0] or '—'} → {v[1] or '—'}" for k, v in r["changes"].items()))),
        ("Units changing grid", found["units"], lambda r: (
            f"{r['code']}  {r['name']}  {r['from_grid']} ({r['from_worker'] or '—'}) → "
            f"{r['to_grid']} ({r['to_worker'] or '—'})")),
    ]  # fmt: skip
    for title, items, line in sections:
        click.echo(f"\n{title}:")
        if not items:
            click.echo("  no change")
        for r in items:
            click.echo("  " + line(r))


@click.command("publish")
@click.argument("number", type=int)
@db_option
@click.option(
    "--force",
    is_flag=True,
    help="Publish even if another version was published since the draft's base.",
)
def publish_cmd(number, db_url, force):
    """Make draft version NUMBER the current version (fails if it is stale, unless --force)."""
    svc = _service(db_url)
    v = usecases.boundaries.publish(svc.store, cli_user(), svc.district_code, number, force=force)
    click.echo(f"Version {v.number} is now current.")


@click.command("dump")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def dump_cmd(path, db_url):
    """Write the whole dataset (all versions, roster, incidents, users, audit log) to one
    GeoPackage, to move a deployment between SQLite and PostGIS."""
    counts = _dump(open_store(db_url), path)
    click.echo(f"Wrote {path}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def restore_cmd(path, db_url):
    """Load a dump made by `geogrid dump` into an empty database."""
    counts = _restore(open_store(db_url, upgrade=False), path)
    click.echo(
        f"Restored {path} into {shown_url(db_url)}: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )


@click.command("roster")
@click.argument("grid")
@db_option
def roster_cmd(grid, db_url):
    """Who has been on duty for GRID (a grid code), oldest first."""
    svc = _service(db_url)
    history = svc.store.duty_history(svc.district_code, grid)
    if not history:
        click.echo(f"No duties recorded for {grid}.")
    for d in history:
        until = d.valid_to.strftime("%Y-%m-%d %H:%M") if d.valid_to else "now"
        who = " ".join(x for x in (d.name, d.title and f"({d.title})", d.phone) if x)
        click.echo(f"{d.role:<7} {d.valid_from:%Y-%m-%d %H:%M} – {until:<16} {who}")


@click.command("assign")
@click.argument("grid")
@click.argument("role", type=click.Choice(list(ROSTER_ROLES)))
@click.argument("name")
@click.option("--phone", default=None)
@click.option("--title", default=None, help="For a leader: the leader's title.")
@click.option(
    "--from",
    "valid_from",
    metavar="TIME",
    default=None,
    help="Start of duty (ISO 8601; local times are UTC+8) [default: now].",
)
@db_option
def assign_cmd(grid, role, name, phone, title, valid_from, db_url):
    """Put NAME on duty for GRID in ROLE (leader or office: first-level grids; worker:
    second-level grids). The previous holder's duty ends when this one starts."""
    svc = _service(db_url)
    usecases.roster.assign(
        svc,
        cli_user(),
        grid,
        role,
        name,
        phone=phone,
        title=title,
        valid_from=parse_time(valid_from, "--from"),
    )
    click.echo(f"{name} is {role} of {grid}.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--grid", "grid_code", default=None, help="For a grid worker: the second-level grid.")
@click.option("--office", default=None, help="For an office user: the service office's name.")
@click.option(
    "--password", default=None, help="The password [default: prompt, or $GEOGRID_PASSWORD]."
)
@db_option
def create_user_cmd(username, role, display_name, grid_code, office, password, db_url):
    """Create a user account (dispatcher, planner, grid worker, service office user or admin)."""
    password = password or settings.get("GEOGRID_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = open_store(db_url)
    user = usecases.accounts.create_user(
        store,
        cli_user(),
        username,
        password,
        role,
        display_name=display_name,
        grid_code=grid_code,
        office=office,
    )
    click.echo(f"Created {user.role} {user.username}.")


def import_to_db(district, db_url: str | None, *, commit: bool, publish: bool, note: str) -> None:
    """The database half of ``geogrid import`` (after validation): store a draft, publish it."""
    if not commit:
        click.echo("Dry run: nothing stored. Add --commit to store it as a draft version.")
        return
    store = open_store(db_url)
    who = cli_user()
    v = usecases.boundaries.import_version(store, who, district, note=note)
    click.echo(f"Stored draft version {v.number} of district {v.district_code}.")
    if publish:
        v = usecases.boundaries.publish(store, who, v.district_code, v.number)
        click.echo(f"Version {v.number} is now current.")
    else:
        click.echo(f"Publish it with: geogrid publish {v.number}")


COMMANDS = [
    init_db,
    versions_cmd,
    diff_cmd,
    publish_cmd,
    dump_cmd,
    restore_cmd,
    roster_cmd,
    assign_cmd,
    create_user_cmd,
]
