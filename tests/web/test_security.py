"""Security headers on every response: the Content-Security-Policy (scripts only from the app
or carrying this response's nonce), no framing, no sniffing, no Referer off the site."""

from __future__ import annotations

import re

import pytest

_NONCE = re.compile(r"'nonce-([^']+)'")


def _directives(header: str) -> dict[str, list[str]]:
    parts = (p.split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/grids", "/no-such-page"])
def test_every_response_carries_the_headers(client, path):
    resp = client.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]


def test_the_nonce_differs_per_response(client):
    first = _NONCE.search(client.get("/login").headers["Content-Security-Policy"]).group(1)
    second = _NONCE.search(client.get("/login").headers["Content-Security-Policy"]).group(1)
    assert first != second and len(first) >= 16


def test_every_script_on_the_map_page_is_allowed(site, login):
    """The map page is folium's inline scripts plus ours: each inline one carries the header's
    nonce, each external one comes from the app itself."""
    client = login(site.client(), "dispatcher")
    resp = client.get("/")
    assert resp.status_code == 200
    nonce = _NONCE.search(resp.headers["Content-Security-Policy"]).group(1)
    html = resp.get_data(as_text=True)
    tags = re.findall(r"<script\b[^>]*>", html)
    assert len(tags) > 5
    for tag in tags:
        if "src=" in tag:
            src = re.search(r'src="([^"]+)"', tag).group(1)
            assert src.startswith("/"), tag  # served by the app, no CDN
        elif 'type="application/json"' not in tag:
            assert f'nonce="{nonce}"' in tag, tag


def test_the_page_showing_a_new_tokens_secret_is_never_cached(make_site, login, csrf_token):
    site = make_site()
    client = login(site.client(), "dispatcher")
    resp = client.post(
        "/account/tokens",
        data={"name": "12345 hotline", "csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_files_keep_their_own_caching(client):
    with client.get("/vendor/leaflet/leaflet.js") as resp:  # a library: a week
        assert resp.status_code == 200
        assert "max-age=604800" in resp.headers["Cache-Control"]
    with client.get("/static/map.js") as resp:  # ours: revalidated by its ETag
        assert resp.headers["Cache-Control"] == "no-cache"
