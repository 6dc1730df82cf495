"""Incidents from the command line: ``geogrid incident report|list|show|act``, the same use
cases as the pages, the API and Open311 (run on the server, as an administrator); and
``geogrid sample-incidents``, a sample history at the sub-district's volume."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .. import usecases
from ..db.types import parse_time
from ..incidents import ACTIONS, CHANNELS
from ..incidents.query import IncidentQuery
from .base import main
from .db import _service, cli_user, db_option, shown_url


@main.group("incident")
def incident_group():
    """Report, list, read and move incidents through the four-step method."""


def _line(row: dict) -> str:
    flags = " OVERDUE" if row["overdue"] else " due soon" if row["due_soon"] else ""
    name = (row["category_name"] or {}).get("zh", row["category"])
    return (
        f"#{row['id']:<7} {row['state']:<10} {row['grid_code'] or '-':<15} {name}"
        f" · {row['description'][:40]}{flags}"
    )


def _show(svc, inc, as_json: bool) -> None:
    row = usecases.incidents.views(svc, cli_user(), [inc], full=True)[0]
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(_line(row))
    click.echo(f"  worker {row['worker'] or '-'} · deadline {row['deadline'] or '-'}")
    for e in row["events"]:
        note = f" · {e['note']}" if e.get("note") else ""
        click.echo(f"  {e['at'][:19]} {e['actor']:<12} {e['action']:<9} → {e['to_state']}{note}")
    if row["actions"]:
        click.echo(f"  next: {', '.join(row['actions'])}")


@incident_group.command("report")
@click.argument("lon")
@click.argument("lat")
@click.option("--crs", default="wgs84", show_default=True, help="System of LON and LAT.")
@click.option(
    "--category", required=True, help="A 4-digit category code (geogrid incident list --help)."
)
@click.option("--description", default="", help="What was reported.")
@click.option("--channel", type=click.Choice(list(CHANNELS)), default="phone", show_default=True)
@click.option("--reporter", default=None)
@click.option("--contact", "reporter_contact", default=None)
@click.option(
    "--grid", "grid_code", default=None, help="Near a boundary: the candidate grid that owns it."
)
@click.option("--dispatch", is_flag=True, help="Send it to the grid's worker at once.")
@click.option("--json", "as_json", is_flag=True)
@db_option
def report_cmd(lon, lat, crs, category, description, channel, reporter, reporter_contact,
               grid_code, dispatch, as_json, db_url):  # fmt: skip
    """Report an incident at LON LAT: located, recorded against its grid and worker."""
    svc = _service(db_url)
    inc = usecases.incidents.report(
        svc, cli_user(), lon, lat, crs, category=category, description=description,
        channel=channel, reporter=reporter, reporter_contact=reporter_contact,
        grid_code=grid_code, dispatch=dispatch,
    )  # fmt: skip
    _show(svc, inc, as_json)


@incident_group.command("list")
@click.option("--state", default=None, help="States, comma-separated.")
@click.option("--grid", default=None)
@click.option("--community", default=None)
@click.option("--category", default=None, help="A 4-digit code or a class's 2 digits.")
@click.option("--overdue", is_flag=True, default=None, help="Only overdue ones.")
@click.option("--since", default=None, help="Reported on or after (date or ISO 8601).")
@click.option("--until", default=None)
@click.option("--q", "text", default=None, help="Text in the description, address or reporter.")
@click.option("--limit", default="50", show_default=True)
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every match to this .csv or .xlsx file instead.")  # fmt: skip
@db_option
def list_cmd(state, grid, community, category, overdue, since, until, text, limit, export, db_url):
    """Incidents matching the filters, newest first."""
    args = {"state": state, "grid": grid, "community": community, "category": category,
            "overdue": "true" if overdue else None, "since": since, "until": until, "q": text,
            "limit": limit}  # fmt: skip
    query = IncidentQuery.parse({k: v for k, v in args.items() if v is not None})
    svc = _service(db_url)
    if export is not None:
        fmt = export.suffix.lower().lstrip(".")
        data, _, _ = usecases.incidents.export(svc, cli_user(), query, fmt)
        export.write_bytes(data)
        click.echo(f"wrote {export}")
        return
    total, found = usecases.incidents.search(svc, cli_user(), query)
    for row in usecases.incidents.views(svc, cli_user(), found):
        click.echo(_line(row))
    click.echo(f"{len(found)} of {total} shown")


@incident_group.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@db_option
def show_cmd(incident_id, as_json, db_url):
    """One incident and its log."""
    svc = _service(db_url)
    _show(svc, usecases.incidents.get(svc, cli_user(), incident_id), as_json)


@incident_group.command("act")
@click.argument("incident_id")
@click.argument("action", type=click.Choice(list(ACTIONS)))
@click.option("--note", default="")
@click.option("--office", default=None, help="escalate: the service office.")
@click.option("--workdays", default=None, help="escalate: the office's deadline.")
@click.option(
    "--passed/--back", default=None, help="revisit: the visit passed, or the problem is back."
)
@click.option("--satisfaction", default=None, help="revisit: satisfied, fair or dissatisfied.")
@click.option("--into", default=None, help="merge: the open incident to merge into.")
@click.option("--json", "as_json", is_flag=True)
@db_option
def act_cmd(
    incident_id, action, note, office, workdays, passed, satisfaction, into, as_json, db_url
):
    """Take one step (ACTION) of the workflow on an incident."""
    svc = _service(db_url)
    inc = usecases.incidents.act(
        svc, cli_user(), incident_id, action, note=note, office=office,
        workdays=workdays, passed=passed, satisfaction=satisfaction,
        into=int(into) if into and into.isdigit() else into,
    )  # fmt: skip
    _show(svc, inc, as_json)


@main.command("sample-incidents")
@click.option(
    "--count", type=click.IntRange(0), default=None, help="Incidents to make [default: 120000]."
)
@click.option(
    "--seed", type=int, default=None, help="Random seed (the same seed, the same history)."
)
@click.option(
    "--end",
    metavar="TIME",
    default=None,
    help="End of the history (ISO 8601; local times are UTC+8) [default: now].",
)
@click.option("--years", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--replace", is_flag=True, help="Delete the district's incidents first.")
@db_option
def sample_incidents_cmd(count, seed, end, years, replace, db_url):
    """Fill the district with a realistic sample history of incidents: ten years, spread by
    category, season and grid, each with its log (dispatched, handled or escalated, resolved,
    revisited, closed; the most recent still open). Refused while the district has incidents,
    unless --replace."""
    from tqdm import tqdm

    from ..sample import incidents as sample

    count = sample.DEFAULT_COUNT if count is None else count
    seed = sample.DEFAULT_SEED if seed is None else seed
    svc = _service(db_url)
    started = time.perf_counter()
    with tqdm(total=count, desc="incidents", unit="", file=sys.stderr, disable=None) as bar:
        n = usecases.incidents.sample_history(
            svc, cli_user(), count=count, seed=seed, end=parse_time(end, "--end"),
            years=years, replace=replace, progress=bar.update,
        )  # fmt: skip
    click.echo(
        f"Wrote {n} sample incidents over {years} years (seed {seed}) to {shown_url(db_url)} "
        f"in {time.perf_counter() - started:.1f} s."
    )
