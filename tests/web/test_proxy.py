"""Behind a reverse proxy (GEOGRID_PROXY_FIX): the app builds its links from the forwarded
scheme, host and prefix, so it can be mounted under a sub-path; without it the headers are
ignored (a client cannot spoof them)."""

from __future__ import annotations

FORWARDED = {
    "X-Forwarded-For": "10.1.2.3",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "grid.example.gov.cn",
    "X-Forwarded-Prefix": "/wangge",
}


def test_links_follow_the_proxy(make_site):
    site = make_site(PROXY_FIX=1)
    page = site.client().get("/login", headers=FORWARDED).get_data(as_text=True)
    assert 'href="/wangge/static/app.css"' in page
    resp = site.client().get("/", headers=FORWARDED)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/wangge/login")


def test_forwarded_headers_are_ignored_without_proxy_fix(make_site):
    site = make_site()
    page = site.client().get("/login", headers=FORWARDED).get_data(as_text=True)
    assert 'href="/static/app.css"' in page and "/wangge" not in page
