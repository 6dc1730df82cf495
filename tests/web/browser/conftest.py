"""Browser tests of the map page: headless Chromium (Debian's ``/usr/bin/chromium``, driven by
the ``playwright`` package; no browser is ever downloaded) against the app served on a free port
of 127.0.0.1 from a background thread.

The app has a temporary SQLite database seeded like a fresh installation (``Service.bootstrap``,
see ``tests/web/conftest.py``), then a second published version of the sample in which one unit
and one grid are named with HTML (``browser_support.py``), and a dispatcher account
made with ``store.create_user``. Session cookies keep the production ``Secure`` flag: Chromium
accepts Secure cookies from http://127.0.0.1.

Every page blocks requests to any other host and the test fails if one was attempted (no CDN; no
tiles are needed for the grids to draw), or if a JavaScript error or a dialog occurred.

Without Chromium (``/usr/bin/chromium``, or the path in ``GEOGRID_CHROMIUM``) or playwright the
tests are skipped with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USERNAME, Live, browser_district
from werkzeug.serving import make_server

from geogrid.service import seed

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(why: str):
    if IN_CI:
        pytest.fail(f"CI=true but {why}: the browser tests must run in CI")
    pytest.skip(why)


@pytest.fixture(scope="session")
def live(make_site):
    site = make_site("sqlite", secure_cookies=None)  # production cookie flags
    store = site.store
    district = browser_district()
    seed(store, district, actor="tests")
    site.wait_for(lambda: site.service.current()[0].number == 2, what="the HTML-named version")
    store.create_user(USERNAME, PASSWORD, "dispatcher", display_name="调度测试", actor="tests")
    server = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", site, district)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, "
            "or set GEOGRID_CHROMIUM to its path)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - part of the test extra
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watch:
    """What a page did that it must not: requests off 127.0.0.1, errors, dialogs."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    #: Content-Security-Policy violations ("directive blocked-URI"), reported by the page
    csp: list[str] = field(default_factory=list)
    #: hosts whose requests are expected in a test (still blocked), e.g. AMap's tiles
    allowed_hosts: tuple[str, ...] = ()
    allowed: list[str] = field(default_factory=list)
    #: parts of console errors a test expects (e.g. failed loads while it is offline)
    tolerated: list[str] = field(default_factory=list)


#: Reports every Content-Security-Policy violation of a page to the test (an event the browser
#: fires on the document for each script, style or image the policy blocked).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) =>
  window.__geogridCspViolation(`${e.violatedDirective} ${e.blockedURI || "inline"}`));
"""


def _new_page(browser, live, width=1600, height=900, **options):
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", **options
    )
    watch = Watch()

    def route(r):
        url = r.request.url
        host = urlsplit(url).hostname or ""
        if host == "127.0.0.1":
            r.continue_()
            return
        if host.endswith(watch.allowed_hosts) and watch.allowed_hosts:
            watch.allowed.append(url)
        else:
            watch.outside.append(url)
        r.abort()

    ctx.route("**/*", route)
    ctx.expose_function("__geogridCspViolation", lambda v: watch.csp.append(v))
    ctx.add_init_script(_CSP_LISTENER)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            watch.errors.append(f"{m.text} {m.location.get('url', '')}".strip())
            if m.type == "error"
            else None
        ),
    )

    def on_dialog(d):
        watch.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return ctx, page, watch


@contextmanager
def _watched(browser, live, **options):
    ctx, page, watch = _new_page(browser, live, **options)
    try:
        yield page, watch
        assert watch.outside == [], f"requests off 127.0.0.1: {watch.outside[:5]}"
        assert watch.dialogs == [], f"dialogs: {watch.dialogs}"
        assert watch.csp == [], f"Content-Security-Policy violations: {watch.csp[:5]}"
        # a blocked tile shows up as a failed resource load; nothing else may fail
        errors = [
            e
            for e in watch.errors
            if not (watch.allowed and "ERR_FAILED" in e)
            and not any(t in e for t in watch.tolerated)
        ]
        assert errors == [], f"errors in the page: {errors[:5]}"
    finally:
        ctx.close()


@pytest.fixture
def page_watch(browser, live):
    """(page, watch): a fresh browser context; fails the test on off-site requests, page errors
    dialogs or Content-Security-Policy violations."""
    with _watched(browser, live) as pw:
        yield pw


#: Where the phone of the phone-page tests is (WGS-84): in the worker's grid.
PHONE_POSITION = {"longitude": 118.9335, "latitude": 32.1088, "accuracy": 10}


@pytest.fixture
def phone_watch(browser):
    """(page, watch) like ``page_watch``, on a 390 x 844 phone (touch, mobile viewport) that
    lets the page read its position (``PHONE_POSITION``)."""
    options = {"is_mobile": True, "has_touch": True, "device_scale_factor": 1}
    options.update(geolocation=PHONE_POSITION, permissions=["geolocation"])
    with _watched(browser, None, width=390, height=844, **options) as pw:
        yield pw


@pytest.fixture
def page(page_watch):
    return page_watch[0]


@pytest.fixture(scope="module")
def plan_live(make_site):
    """An app of its own per module, for the planner's tests (the drafts they make would show on
    the other tests' pages): ``(url, site)``."""
    site = make_site("sqlite", secure_cookies=None)
    server = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="plan-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", site
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
