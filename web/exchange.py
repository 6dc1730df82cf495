"""The import page, ``/plan/import`` (planners, admins): a form to upload a layer edited in QGIS
(GeoJSON, GeoPackage, a zipped Shapefile) as a new draft, then the report: the validation's
errors and notices, the diff summary, the grids changed with their areas, the units moving, the
attribute changes, and links to the workspace and to exports. The import itself is
:func:`geogrid.usecases.exchange.import_draft`, as the API's."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _

from geogrid.errors import GeogridError, InputError
from geogrid.usecases import exchange as uc

from .api.exchange import _upload_to
from .auth import roles_required
from .services import service
from .text import N_

bp = Blueprint("exchange", __name__)

#: The CRS choices of the form (value, label msgid).
CRS_CHOICES = (
    ("", N_("As the file says (WGS-84 when it says nothing)")),
    ("EPSG:4490", N_("CGCS2000 longitude/latitude (EPSG:4490)")),
    ("EPSG:4549", N_("CGCS2000 / Gauss-Kruger 120E, metres (EPSG:4549)")),
    ("gcj02", N_("GCJ-02 (AMap, Tencent)")),
    ("bd09", N_("BD-09 (Baidu)")),
)


@bp.route("/plan/import", methods=["GET", "POST"])
@roles_required("planner", "admin")
def plan_import():
    form = request.form if request.method == "POST" else {}
    context = {"form": form, "crs_choices": [(v, _(label)) for v, label in CRS_CHOICES]}
    if request.method == "GET":
        return render_template("plan_import.html", **context)
    try:
        base = form.get("base") or None
        if base is not None and not base.isdigit():
            raise InputError(_("The base must be a version number."))
        with tempfile.TemporaryDirectory(prefix="geogrid-import-") as tmp:
            path = _upload_to(Path(tmp))
            state, found = uc.import_draft(
                service(), g.actor, form.get("name", ""), path,
                layer=form.get("layer") or None, src_crs=form.get("crs") or None,
                base=int(base) if base else None,
            )  # fmt: skip
    except GeogridError as exc:
        return render_template("plan_import.html", error=exc.message, **context), exc.http_status
    return render_template("plan_import.html", state=state, found=found, **context), 201
