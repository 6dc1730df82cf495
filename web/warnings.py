"""The early-warning page (``/warnings``): the warnings raised now, filtered by rule, active or
acknowledged, each with its grid, community, since when, the incidents behind it (links) and its
explanation, and for dispatchers and administrators a form acknowledging it with a note; and the
navigation badge with the active count (``warning_badge()`` in templates).

Every rule is :mod:`geogrid.usecases.warnings`' (a refusal is the 403 page; a missing note or a
warning acknowledged meanwhile comes back as a message on the page).
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from geogrid.errors import Conflict, InputError, NotFound
from geogrid.incidents.warnings import RULES, WarningSettings
from geogrid.usecases import incidents as ui
from geogrid.usecases import warnings as uw

from .auth import roles_required
from .incidents import place_names
from .services import service
from .text import N_

bp = Blueprint("warnings", __name__)
log = logging.getLogger(__name__)


@bp.record_once
def _check_settings(state) -> None:
    """A bad ``GEOGRID_WARN_*`` value stops the app where it is made (gunicorn's start-up), not
    at the first page that shows the badge."""
    WarningSettings.from_settings()


RULE_LABELS = {
    "repeat": N_("Repeated incidents"),
    "recur": N_("Back after a return visit"),
    "cluster": N_("Cluster of reports"),
    "surge": N_("Surge of open or overdue incidents"),
}
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium")}
VIEW_LABELS = {"active": N_("Active"), "acknowledged": N_("Acknowledged"), "all": N_("All")}


@bp.app_template_global()
def warning_badge() -> int | None:
    """The active warnings the signed-in user has not acknowledged (None: none to see, or the
    count could not be made: the page must still render)."""
    actor = getattr(g, "actor", None)
    if actor is None or not actor.may("warnings"):
        return None
    cached = g.get("_warning_badge", False)
    if cached is False:
        try:
            cached = uw.active_count(service(), actor)
        except Exception:  # the database away for a moment: the page without the count
            log.warning("could not count the warnings for the badge", exc_info=True)
            cached = None
        g._warning_badge = cached
    return cached


@bp.app_template_global()
def warning_label(kind: str, key: str) -> str:
    labels = {"rule": RULE_LABELS, "severity": SEVERITY_LABELS, "view": VIEW_LABELS}[kind]
    return _(labels[key]) if key in labels else key


@bp.app_template_global()
def warnings_map_config() -> dict:
    """What the map's warning layer (``static/warnings-map.js``) needs: where to ask, the page
    to link to, its texts in the interface language."""
    return {
        "api": url_for("api.warnings"),
        "page": url_for("warnings.index"),
        "lang": "zh" if str(get_locale()) == "zh" else "en",
        "strings": {
            "layer": _("Early warnings"),
            "rules": {r: _(RULE_LABELS[r]) for r in RULES},
            "severity": {k: _(v) for k, v in SEVERITY_LABELS.items()},
            "incidents": _("%(n)s incidents behind it"),
            "open_page": _("Open the warnings page"),
        },
    }


@bp.get("/warnings")
@roles_required()
def index():
    svc = service()
    view = request.args.get("view") or "active"
    rule = request.args.get("rule") or None
    status, error = 200, None
    try:
        found = uw.warnings(svc, g.actor, rule=rule, view=view)
    except InputError as exc:
        status, error, found = exc.http_status, exc.message, []
        view, rule = "active", None
    communities, grids = place_names()
    cats = {c.code: c for c in ui.catalogue(svc, g.actor, inactive=True)}
    lang = "zh" if str(get_locale()) == "zh" else "en"
    return render_template(
        "warnings.html",
        warnings=found,
        view=view,
        rule=rule,
        rules=RULES,
        views=uw.VIEWS,
        error=error,
        communities=communities,
        grids=grids,
        categories=cats,
        lang=lang,
        may_acknowledge=g.actor.may("acknowledge_warning"),
        settings=svc.policy.warnings,
    ), status


@bp.post("/warnings/<key>/acknowledge")
@roles_required()
def acknowledge(key: str):
    back = url_for(".index", **{k: v for k, v in request.args.items() if k in ("rule", "view")})
    try:
        uw.acknowledge(service(), g.actor, key, request.form.get("note", ""))
    except (InputError, NotFound, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(_("Warning acknowledged: it leaves the active list until a new incident joins it."), "ok")
    return redirect(back)
