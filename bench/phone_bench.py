"""Benchmark of the grid worker's phone page (/m/): bytes of a first visit, time to the tasks, and
how long a new assignment takes to appear on the open page.

Run from the repository root::

    .venv/bin/python bench/phone_bench.py [--runs N] [--tasks N] [--throttle] [--assignments N]

It serves the app itself on a temporary SQLite database (the sample district, a grid worker in
320113005007007 and ``--tasks`` open incidents in that grid) and drives headless Chromium
(Debian's, as the browser tests do) at 390 x 844, logged in as the worker, the service worker
blocked and the browser cache off: every load is a first visit. Per load it reads the Resource
Timing entries (bytes on the wire and decoded) and two marks of phone.js: **tasks** (the first
list from the API is shown) and **map** (the first card's small map is drawn), in milliseconds
from the start of the navigation. Then, on one open page, it reports ``--assignments`` new
incidents (dispatched at once to the grid) one after the other and measures, for each, the time
from the call returning until its card is on the page, with the page's live mode: ``sse``
(``GET /api/v1/events``) or ``polling`` (every 30 s while the app has no event stream).
``--throttle`` adds 40 ms round trips and 10 Mbit/s.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "web" / "browser"))
from browser_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from page_bench import THROTTLE, print_summary, summarise  # noqa: E402  (the map page's)

GRID = "320113005007007"
HERE = (118.93, 32.11)
WORKER, PASSWORD = "bench-worker", "Bench-phone-secret-pw"

COLLECT = """async () => {
    while (!performance.getEntriesByName('phone-map').length) await new Promise((r) => setTimeout(r, 20));
    const nav = performance.getEntriesByType('navigation')[0];
    const mark = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
    const res = performance.getEntriesByType('resource').map((r) => ({
        name: r.name, type: r.initiatorType, transfer: r.transferSize,
        encoded: r.encodedBodySize, decoded: r.decodedBodySize, end: r.responseEnd,
    }));
    return {
        html: {name: nav.name, type: 'navigation', transfer: nav.transferSize,
               encoded: nav.encodedBodySize, decoded: nav.decodedBodySize, end: nav.responseEnd},
        resources: res, ready: mark('phone-tasks'), units: mark('phone-map'),
        dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    };
}"""


def serve_app(tasks: int):
    from werkzeug.serving import make_server

    from geogrid.access import Actor
    from geogrid.db import Store
    from geogrid.service import Service
    from geogrid.usecases import incidents as U
    from web import create_app

    tmp = tempfile.TemporaryDirectory(prefix="geogrid-phone-bench-")
    url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    store = Store(url)
    Service.bootstrap(store)
    store.create_user(WORKER, PASSWORD, "worker", grid_code=GRID, actor="phone_bench")
    store.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": os.urandom(16).hex()})
    with app.app_context():
        from web.services import service

        svc = service()
    disp = Actor("bench-dispatcher", "dispatcher")

    def report(i: int) -> int:
        dx, dy = (i % 7 - 3) * 0.0004, (i // 7 % 7 - 3) * 0.0003
        return U.report(svc, disp, HERE[0] + dx, HERE[1] + dy, category="0601",
                        description=f"测试任务 {i}", dispatch=True).id  # fmt: skip

    for i in range(tasks):
        report(i)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)
        server.server_close()
        svc.close() if hasattr(svc, "close") else None
        svc.store.dispose()
        tmp.cleanup()

    return f"http://127.0.0.1:{server.server_port}", report, stop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--assignments", type=int, default=5)
    ap.add_argument("--throttle", action="store_true")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from playwright.sync_api import sync_playwright

    base, report, stop = serve_app(args.tasks)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                locale="zh-CN", service_workers="block",
                geolocation={"longitude": 118.9335, "latitude": 32.1088}, permissions=["geolocation"],
            )  # fmt: skip
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            if args.throttle:
                cdp.send("Network.emulateNetworkConditions", {"offline": False, **THROTTLE})
            page.goto(f"{base}/login?next=/m/")
            page.fill("input[name=username]", WORKER)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_url(f"{base}/m/")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            loads = []
            for _ in range(args.runs):
                page.goto(f"{base}/m/", wait_until="load")
                loads.append(page.evaluate(COLLECT))
            s = summarise(loads, base)
            print_summary(f"phone page /m/, first visits, {args.tasks} tasks", s)
            print("(usable = the tasks shown; units = the first card's map drawn)")

            page.wait_for_function(
                "() => ['sse', 'polling'].includes(document.documentElement.dataset.live)"
            )
            mode = page.evaluate("() => document.documentElement.dataset.live")
            waits = []
            for i in range(args.assignments):
                iid = report(args.tasks + i)
                t0 = time.monotonic()
                page.wait_for_selector(f"article.ph-card[data-id='{iid}']", timeout=120_000)
                waits.append((time.monotonic() - t0) * 1000)
            print(f"\nnew assignment on the open page ({mode}, {len(waits)} times): median "
                  f"{statistics.median(waits):.0f} ms (min {min(waits):.0f}, max {max(waits):.0f})")  # fmt: skip
            browser.close()
    finally:
        stop()


if __name__ == "__main__":
    main()
