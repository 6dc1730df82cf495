"""Version history pages: ``/versions``, every boundary version newest first (who published it,
the message, rollbacks), choosing two to compare, rolling back (planners and administrators)
and the export links; ``/versions/<a>/diff/<b>``, the diff of two versions on a map and in
tables. The rules are the use cases' (:mod:`geogrid.usecases.boundaries`,
:func:`geogrid.usecases.planning.rollback`)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from geogrid.errors import InputError, NotFound
from geogrid.usecases import boundaries, planning

from .api.versions import diff_json
from .auth import roles_required
from .params import MAX_INT
from .services import service

bp = Blueprint("versions", __name__)


@bp.get("/versions")
@roles_required()
def index():
    rows = boundaries.history(service(), g.actor)
    return render_template(
        "versions.html",
        rows=rows,
        may_rollback=g.actor.may("rollback"),
        current=next((r["number"] for r in rows if r["current"]), None),
    )


@bp.get("/versions/compare")
@roles_required()
def compare():
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:  # nothing (or nonsense) chosen: back to the list to choose
        return redirect(url_for("versions.index"))
    return redirect(url_for("versions.diff", a=a, b=b))


@bp.post("/versions/<int:number>/rollback")
@roles_required()
def rollback(number: int):
    if number > MAX_INT:
        raise NotFound(f"no version {number}")
    message = request.form.get("message", "")
    try:
        answer = planning.rollback(service(), g.actor, number, message)
    except InputError as exc:
        flash(exc.message, "error")
    else:
        flash(
            _(
                "Version %(old)s is current again as version %(new)s.",
                old=answer.restored.number,
                new=answer.version.number,
            ),
            "ok",
        )
    return redirect(url_for("versions.index"))


@bp.get("/versions/<int:a>/diff/<int:b>")
@roles_required()
def diff(a: int, b: int):
    for n in (a, b):
        if n > MAX_INT:
            raise NotFound(f"no version {n}")
    found = diff_json(boundaries.diff(service(), g.actor, a, b))
    config = {
        "diff_url": url_for("api.version_diff", a=a, b=b, format="geojson"),
        "from_url": url_for("api.grids", level=2, version=a, simplify=2),
        "to_url": url_for("api.grids", level=2, version=b, simplify=2),
    }
    return render_template("version_diff.html", d=found, config=config)
