"""Response headers that keep pages from being framed, sniffed or made to run foreign scripts.

Every response carries:

- ``Content-Security-Policy``: scripts only from the app itself or inline ones carrying this
  response's nonce (folium writes its map as inline scripts; :func:`nonced` stamps them), no
  plugins, no ``<base>`` or form targets elsewhere, images from the app and the base maps' tile
  servers only, and ``frame-ancestors 'none'``. Styles may be inline: Leaflet and folium set
  them on elements and in ``<style>`` blocks, and a style cannot run code.
- ``Cache-Control: private, no-store`` unless the view set its own (the static files and the
  OpenAPI document do): pages and answers carry people's names and phones, and the token page a
  new token's secret, which no browser or proxy cache may keep.
- ``X-Frame-Options: DENY`` (the same as ``frame-ancestors`` for older browsers),
  ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (the map's URLs may
  carry a caller's location; they never leave the site in a Referer).
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, g
from markupsafe import Markup

from .maps import TILE_SOURCES

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_SCRIPT_TAG = re.compile(r"<script(?=[\s>])", re.IGNORECASE)


def csp_nonce() -> str:
    """This response's script nonce (made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def nonced(html: str) -> Markup:
    """Trusted HTML (folium's rendered map) with this response's nonce on every ``<script>``."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', str(html)))


def policy(nonce: str) -> str:
    """The Content-Security-Policy of a response whose inline scripts carry ``nonce``."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: " + " ".join(TILE_SOURCES),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _secure(response):
    response.headers.setdefault("Content-Security-Policy", policy(csp_nonce()))
    response.headers.setdefault("Cache-Control", "private, no-store")
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = nonced
