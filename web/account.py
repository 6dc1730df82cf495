"""A user's own API tokens: create (shown once) and revoke (:mod:`geogrid.usecases.accounts`)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from geogrid.errors import InputError
from geogrid.usecases import accounts

from .auth import roles_required
from .services import store

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(new_token: str | None = None, status: int = 200):
    mine = accounts.tokens(store(), g.actor)
    return render_template("tokens.html", tokens=mine, new_token=new_token), status


@bp.get("/tokens")
@roles_required()
def tokens():
    return _page()


@bp.post("/tokens")
@roles_required()
def create_token():
    name = (request.form.get("name") or "").strip()
    if not name:
        flash(_("Give the token a name, e.g. the system that will use it."), "error")
        return redirect(url_for("account.tokens"))
    try:
        token = accounts.create_token(store(), g.actor, name)
    except InputError as exc:  # too long, or characters the database cannot keep
        flash(exc.message, "error")
        return _page(status=exc.http_status)
    return _page(new_token=token)  # the secret, this once (the page is never cached)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required()
def revoke_token(token_id: int):
    accounts.revoke_token(store(), g.actor, token_id)  # someone else's: 404
    flash(_("Token revoked."), "ok")
    return redirect(url_for("account.tokens"))
