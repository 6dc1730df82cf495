"""The planner's page, ``/plan``: a draft on a Leaflet map edited with Leaflet-Geoman (split a
grid or move a boundary by drawing a line, merge selected grids, drag a shared vertex or a whole
shared edge), forms for the selected grid (rename, re-code, worker, community) and for moving a
unit by hand, the community outlines, undo and redo, the validation drawn in red, the workload table and choropleth, the impact preview and
publishing. Every edit is made by ``/api/v1/drafts`` (:mod:`web.api.drafts`) on the server;
``static/plan.js`` only sends what was drawn and redraws from the answer."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from .auth import roles_required
from .text import N_

bp = Blueprint("planning", __name__)

#: The page's script texts (msgids, translated when the page is made).
STRINGS = {
    "loading": N_("Loading…"),
    "saving": N_("Computing on the server…"),
    "no_draft": N_("No open draft: name one and create it."),
    "choose": N_("Choose a draft"),
    "need_name": N_("Give the new draft a name."),
    "select_one": N_("Select exactly one grid to split (click it on the map)."),
    "select_two": N_("Select at least two neighbouring grids to merge."),
    "draw_split": N_(
        "Draw the cutting line across the selected grid: click points, click the last one again to finish."
    ),
    "draw_boundary": N_(
        "Draw the new boundary: start and end on the shared boundary (snapping is on), click the last point again to finish."
    ),
    "drag_hint": N_("Drag a vertex of the selected grid; its neighbours follow."),
    "done": N_("Done."),
    "undone": N_("Undone."),
    "redone": N_("Redone."),
    "ok": N_("No errors: the draft can be published."),
    "errors": N_("errors"),
    "blocked": N_("Publishing is blocked until the errors are fixed."),
    "notices": N_("notices"),
    "revision": N_("Revision"),
    "base": N_("Base version"),
    "stale": N_("A newer version has been published: rebase the draft."),
    "selected": N_("Selected"),
    "none": N_("none"),
    "balance": N_("Balance (spread of workload, lower is better)"),
    "need_message": N_("Write what the new version changes."),
    "published": N_("Published as version"),
    "units_moved": N_("units moved"),
    "incidents_moved": N_("open incidents moved"),
    "impact_units": N_("Units changing grid"),
    "impact_incidents": N_("Open incidents changing grid"),
    "impact_grids": N_("Grids changed"),
    "impact_area": N_("Area changing grid (m²)"),
    "created": N_("new"),
    "retired": N_("retired"),
    "changed": N_("changed"),
    "rebased": N_("Rebased onto version"),
    "conflicts": N_("edits dropped"),
    "discarded": N_("Draft discarded."),
    "confirm_discard": N_("Discard this draft?"),
    "vacant": N_("Grids without a worker"),
    "recode_rule": N_(
        "Rule: the community code {community} followed by 3 digits; a code used before is retired and never reused."
    ),
    "no_neighbour": N_("No neighbouring community"),
    "select_grid": N_("Select one grid on the map first."),
    "in_grid": N_("in grid"),
    "by_hand": N_("placed by hand"),
    "target_grid": N_("Target grid"),
    "pick_grid": N_("Click the target grid on the map."),
    "no_unit": N_("No unit found."),
    "edge_hint": N_(
        "Click an edge of the selected grid: the boundary it shares with one neighbour lights up."
    ),
    "edge_near": N_("Click closer to an edge of the selected grid."),
    "edge_outline": N_("That edge is on the district outline, which edits do not move."),
    "edge_drag": N_("Drag the round handle to move the whole edge; its neighbours follow:"),
}


@bp.get("/plan")
@roles_required("planner", "admin")
def plan():
    """The workspace; ``?draft=<id>`` opens that draft (read by ``plan.js``)."""
    strings = {k: _(v) for k, v in STRINGS.items()}
    return render_template("plan.html", config={"api": "/api/v1", "strings": strings})
