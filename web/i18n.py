"""Interface language: Simplified Chinese by default, English on request (Flask-Babel).

Message catalogues are ``web/translations/<lang>/LC_MESSAGES/messages.po`` (msgids in English);
they are compiled to ``.mo`` files in the instance folder when the app starts, so no build step
is needed. The choice is kept in a ``lang`` cookie for a year.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, current_app, redirect, request

from .text import N_, ROLE_LABELS, role_name
from .urls import safe_next

__all__ = ["N_", "ROLE_LABELS", "bp", "catalog_dir", "role_name", "select_locale", "switch"]


bp = Blueprint("i18n", __name__)

SOURCE = Path(__file__).parent / "translations"


def catalog_dir(app) -> str:
    """Compile the ``.po`` catalogues into the instance folder (when newer) and return it."""
    out = Path(app.instance_path) / "translations"
    for po in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo = out / po.relative_to(SOURCE).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f)
            tmp = mo.with_suffix(f".{os.getpid()}.tmp")  # workers starting together: one each
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)
    return str(out)


def select_locale() -> str:
    lang = request.cookies.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.get("/lang/<code>")
def switch(code: str):
    """Switch the interface language and go back where the user was."""
    resp = redirect(safe_next(request.args.get("next")))  # never off-site
    if code in current_app.config["LANGUAGES"]:
        resp.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return resp
