"""``geogrid figures``: the incident figures (:mod:`geogrid.usecases.figures`) per grid,
community, worker, office, category or month, as a table on the terminal, JSON, or a CSV or
Excel file; run on the server, as an administrator (the whole district)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..incidents import figures as F
from ..usecases import figures as uc
from .base import main
from .db import _service, cli_user, db_option


def _cell(v, kind: str) -> str:
    if v is None:
        return "—"
    if kind == "rate":
        return f"{v * 100:.1f}%"
    if kind == "hours":
        return f"{v:.1f}"
    return str(v)


@main.command("figures")
@click.option("--by", type=click.Choice(list(F.GROUPINGS)), default="grid", show_default=True)
@click.option("--from", "first", default=None, help="First month, YYYY-MM [default: 11 months before --to].")  # fmt: skip
@click.option("--to", "last", default=None, help="Last month, YYYY-MM [default: this month].")
@click.option("--all", "whole", is_flag=True, help="The whole history (from the first incident's month).")  # fmt: skip
@click.option("--category", default=None, help="A 4-digit category code or a class's 2 digits.")
@click.option("--grid", default=None, help="Only this second-level grid's incidents.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table", show_default=True)  # fmt: skip
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Headers and names of files.")  # fmt: skip
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the csv/xlsx/json here [default: standard output; xlsx needs a file].")  # fmt: skip
@db_option
def figures_cmd(by, first, last, whole, category, grid, fmt, lang, output, db_url):
    """Incident figures: counts, 结案率, 按期结案率, return-visit pass rate, recurrence rate, 满意率,
    mean and 90th percentile handling time (calendar hours), per group over a period of months."""
    svc = _service(db_url)
    kw = {"by": by, "first": first, "last": last, "category": category, "grid": grid, "whole": whole}  # fmt: skip
    if fmt in ("csv", "xlsx"):
        if fmt == "xlsx" and output is None:
            raise click.UsageError("an Excel file needs --output FILE.xlsx")
        data, _, _ = uc.export(svc, cli_user(), fmt, lang=lang, **kw)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
            click.echo(f"wrote {output}", err=True)
        return
    report = uc.figures(svc, cli_user(), **kw)
    if fmt == "json":
        text = json.dumps(report, ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
            click.echo(f"wrote {output}", err=True)
        return
    rows = uc.table(report, lang)
    kinds = ["", "", *(kind for *_, kind in F.FIGURES)]
    cells = [rows[0]] + [[_cell(v, k) if i > 1 else (v or "") for i, (v, k) in enumerate(zip(r, kinds, strict=True))] for r in rows[1:]]  # fmt: skip
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(cells[0]))]
    click.echo(f"{report['from']} – {report['to']}, by {report['by']}")
    for r in cells:
        click.echo("  ".join(str(v).ljust(w) if i < 2 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))))  # fmt: skip
