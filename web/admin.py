"""User management for administrators: list, create, disable and enable accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from geogrid.accounts import ROLES
from geogrid.errors import Conflict, InputError

from .auth import roles_required
from .services import store

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    return render_template("users.html", users=store().users(), roles=list(ROLES))


@bp.post("/users")
@roles_required("admin")
def create_user():
    f = request.form
    try:
        user = store().create_user(
            f.get("username", ""),
            f.get("password", ""),
            f.get("role", ""),
            display_name=(f.get("display_name") or "").strip() or None,
            grid_code=(f.get("grid_code") or "").strip() or None,
            actor=current_user.username,
        )
    except (InputError, Conflict) as exc:
        flash(exc.message, "error")
        return render_template(
            "users.html", users=store().users(), roles=list(ROLES), form=f
        ), exc.http_status
    flash(_("Created %(name)s.", name=user.username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/active")
@roles_required("admin")
def set_active(username: str):
    active = request.form.get("active") == "1"
    if username == current_user.username and not active:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("admin.users"))
    store().set_active(username, active, actor=current_user.username)
    return redirect(url_for("admin.users"))
