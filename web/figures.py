"""The figures page, ``/figures``: the filter form (grouping, months, category, whole history),
the sortable table of every group, ECharts charts (the monthly trend of counts and of the
closure and on-time rates; a bar chart per group), a choropleth of the second-level grids by a
chosen figure, the definitions and the export links (CSV, Excel through the API).

The numbers come from :func:`geogrid.usecases.figures.figures`, as the API's and the command
line's do; bad filters come back on the page with the reason (HTTP 400).
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from geogrid.errors import InputError
from geogrid.incidents import figures as F
from geogrid.usecases import figures as uc

from .api.figures import figure_args
from .auth import roles_required
from .services import service
from .text import N_

bp = Blueprint("figures", __name__)

#: The groupings as the form offers them (English msgids).
BY_LABELS = {
    "grid": N_("Grid"),
    "community": N_("Community"),
    "worker": N_("Grid worker"),
    "office": N_("Joint-handling office"),
    "category": N_("Category"),
    "month": N_("Month"),
}
#: The figures' column headers (English msgids; the files use geogrid.incidents.figures.FIGURES).
FIGURE_LABELS = {
    "count": N_("Reported incidents"),
    "closed": N_("Closed incidents"),
    "closure_rate": N_("Closure rate"),
    "on_time_rate": N_("On-time rate"),
    "revisit_pass_rate": N_("Return-visit pass rate"),
    "recurrence_rate": N_("Recurrence rate"),
    "satisfaction_rate": N_("Satisfaction rate"),
    "handling_mean_h": N_("Mean handling time (h)"),
    "handling_p90_h": N_("90th percentile handling time (h)"),
}
KINDS = {k: kind for k, _, _, kind in F.FIGURES}


@bp.get("/figures")
@roles_required()
def index():
    svc = service()
    lang = "zh" if str(get_locale()) == "zh" else "en"
    error, status = None, 200
    try:
        args = figure_args()
        report = uc.figures(svc, g.actor, **args)
    except InputError as exc:
        error, status = exc.message, 400
        args = {"by": "grid", "first": None, "last": None, "category": None, "grid": None, "whole": False}  # fmt: skip
        report = uc.figures(svc, g.actor)
    query = {"by": report["by"], "from": report["from"], "to": report["to"]}
    for k in ("category", "grid"):
        if report.get(k):
            query[k] = report[k]
    # the choropleth colours the second-level grids: by grid, whatever the table's grouping
    # (grouped otherwise, the page asks the API for them once it is shown)
    by_grid = report if report["by"] == "grid" else None
    config = {
        "lang": lang,
        "by": report["by"],
        "months": report["months"],
        "groups": [_row(x, lang) for x in report["groups"]],
        "grids": {x["key"]: _row(x, lang) for x in by_grid["groups"] if x["key"]}
        if by_grid
        else None,
        "grid_figures_url": None if by_grid else url_for("api.figures", **{**query, "by": "grid"}),
        "labels": {k: _(v) for k, v in FIGURE_LABELS.items()} | {"no_data": _("no data")},
        "kinds": KINDS,
        "grids_url": url_for("api.grids", level=2, simplify=5),
    }
    catalogue = svc.store.catalogue(inactive=True)
    return (
        render_template(
            "figures.html",
            report=report,
            error=error,
            args=args,
            query=query,
            by_labels=BY_LABELS,
            figure_labels=FIGURE_LABELS,
            kinds=KINDS,
            definitions=[(k, zh if lang == "zh" else en) for k, zh, en in F.DEFINITIONS],
            majors=catalogue.majors(),
            lang=lang,
            config=config,
            whole=request.args.get("period") == "all" and not error,
        ),
        status,
    )


def _row(group: dict, lang: str) -> dict:
    return {
        "key": group["key"],
        "name": group["name"][lang],
        **{k: group[k] for k in FIGURE_LABELS},
    }
