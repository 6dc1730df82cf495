"""Early warnings from the command line: ``geogrid incident warnings`` (the list) and ``geogrid
incident acknowledge KEY --note …``, the use cases of :mod:`geogrid.usecases.warnings` (run on
the server, as an administrator)."""

from __future__ import annotations

import json

import click

from ..incidents.warnings import RULES
from ..usecases import warnings as uw
from .db import _service, cli_user, db_option
from .incidents import incident_group


def _line(w) -> str:
    ack = (
        f"  [acknowledged by {w.acknowledged['by']}: {w.acknowledged['note']}]"
        if w.acknowledged
        else ""
    )
    ids = " ".join(f"#{i}" for i in w.incidents[:10]) + (" …" if len(w.incidents) > 10 else "")
    return f"{w.severity:<6} {w.key}\n       {w.explanation['zh']}\n       {ids}{ack}"


@incident_group.command("warnings")
@click.option("--rule", type=click.Choice(RULES), default=None)
@click.option("--view", type=click.Choice(uw.VIEWS), default="active", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@db_option
def warnings_cmd(rule, view, as_json, db_url):
    """The early warnings raised now (repeats, recurrences, clusters, surges)."""
    found = uw.warnings(_service(db_url), cli_user(), rule=rule, view=view)
    if as_json:
        click.echo(json.dumps([w.to_dict() for w in found], ensure_ascii=False, indent=2))
        return
    for w in found:
        click.echo(_line(w))
    click.echo(f"{len(found)} warnings ({view})")


@incident_group.command("acknowledge")
@click.argument("key")
@click.option("--note", required=True, help="What is being done about it.")
@db_option
def acknowledge_cmd(key, note, db_url):
    """Acknowledge the warning KEY with a note (kept in the audit log)."""
    w = uw.acknowledge(_service(db_url), cli_user(), key, note)
    click.echo(f"acknowledged {w.key} ({len(w.incidents)} incidents)")
