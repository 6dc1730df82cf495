"""A user's own API tokens: create (shown once) and revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .auth import roles_required
from .services import store

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/tokens")
@roles_required()
def tokens():
    return render_template(
        "tokens.html", tokens=store().tokens(int(current_user.id)), new_token=None
    )


@bp.post("/tokens")
@roles_required()
def create_token():
    name = (request.form.get("name") or "").strip()[:200]
    if not name:
        flash(_("Give the token a name, e.g. the system that will use it."), "error")
        return redirect(url_for("account.tokens"))
    token = store().create_token(int(current_user.id), name, actor=current_user.username)
    return render_template(
        "tokens.html", tokens=store().tokens(int(current_user.id)), new_token=token
    )


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required()
def revoke_token(token_id: int):
    if token_id not in {t["id"] for t in store().tokens(int(current_user.id))}:
        abort(404)
    store().revoke_token(token_id, actor=current_user.username)
    flash(_("Token revoked."), "ok")
    return redirect(url_for("account.tokens"))
