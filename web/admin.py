"""User management for administrators: list, create, disable and enable accounts (the rules are
:mod:`geogrid.usecases.accounts`'; another role gets the 403 page)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from geogrid.accounts import ROLES
from geogrid.errors import Conflict, InputError
from geogrid.usecases import accounts

from .auth import roles_required
from .services import store

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(status: int = 200, **context):
    users = accounts.users(store(), g.actor)
    return render_template("users.html", users=users, roles=list(ROLES), **context), status


@bp.get("/users")
@roles_required()
def users():
    return _page()


@bp.post("/users")
@roles_required()
def create_user():
    f = request.form
    try:
        user = accounts.create_user(
            store(),
            g.actor,
            f.get("username", ""),
            f.get("password", ""),
            f.get("role", ""),
            display_name=(f.get("display_name") or "").strip() or None,
            grid_code=(f.get("grid_code") or "").strip() or None,
            office=(f.get("office") or "").strip() or None,
        )
    except (InputError, Conflict) as exc:
        flash(exc.message, "error")
        return _page(exc.http_status, form=f)
    flash(_("Created %(name)s.", name=user.username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/active")
@roles_required()
def set_active(username: str):
    try:
        accounts.set_active(store(), g.actor, username, request.form.get("active") == "1")
    except InputError:  # their own account: the last way back in
        flash(_("You cannot disable your own account."), "error")
    return redirect(url_for("admin.users"))
