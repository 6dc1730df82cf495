"""Benchmark of the dispatcher's map page: bytes transferred and time to a usable map.

Run from the repository root::

    .venv/bin/python bench/page_bench.py [--runs N] [--throttle] [--json PATH]
    .venv/bin/python bench/page_bench.py --url http://127.0.0.1:8000 --user diaodu --password ...

By default it serves the app itself, as the browser tests do: a temporary SQLite database seeded
by ``Service.bootstrap`` (the sample district), a dispatcher account, and werkzeug's server on a
free port of 127.0.0.1 in a background thread. ``--url`` measures a running server instead.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by playwright; never downloaded) logs in
once, then loads ``/`` ``--runs`` times (default 7) with the browser cache disabled (every load
is a first visit), then as many times with the cache on (a dispatcher reopening the page).
Requests to any host other than the app's are counted (and cannot resolve): there must be none.

For each load it reads the browser's own Resource Timing entries (same origin, so sizes are
exposed): per resource the bytes on the wire (``transferSize``: headers + possibly compressed
body) and the body as decoded; and two marks map.js makes:

* **usable**: ``geogrid-ready``, when the grids are drawn and clicks are handled (milliseconds
  from the start of the navigation);
* **units**: ``geogrid-units``, when the 1,786 units are on the map too (they load afterwards,
  from ``/api/v1/units``).

It prints a table per resource (median over the loads), the totals and the medians (and min-max)
of the times. ``--throttle`` adds a slower network (40 ms round trip, 10 Mbit/s down, 5 up) through
the DevTools protocol, to show what the bytes cost off the local machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "web" / "browser"))
from browser_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the browser tests' Chromium)

USER, PASSWORD = "bench-dispatcher", "bench-secret-password"
THROTTLE = {"latency": 40, "downloadThroughput": 10e6 / 8, "uploadThroughput": 5e6 / 8}

COLLECT = """async () => {
    await window.geogridReady;
    await window.geogridUnitsReady;
    await new Promise((r) => setTimeout(r, 50));
    const nav = performance.getEntriesByType('navigation')[0];
    const mark = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
    const res = performance.getEntriesByType('resource').map((r) => ({
        name: r.name, type: r.initiatorType, transfer: r.transferSize,
        encoded: r.encodedBodySize, decoded: r.decodedBodySize, end: r.responseEnd,
    }));
    return {
        html: {name: nav.name, type: 'navigation', transfer: nav.transferSize,
               encoded: nav.encodedBodySize, decoded: nav.decodedBodySize, end: nav.responseEnd},
        resources: res,
        ready: mark('geogrid-ready'), units: mark('geogrid-units'),
        dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    };
}"""


def serve_app():
    """Start the app on a temporary database; returns (base URL, stop function)."""
    from werkzeug.serving import make_server

    from geogrid.db import Store
    from geogrid.service import Service
    from web import create_app

    tmp = tempfile.TemporaryDirectory(prefix="geogrid-page-bench-")
    url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    store = Store(url)
    Service.bootstrap(store)
    store.create_user(USER, PASSWORD, "dispatcher", display_name="Bench", actor="page_bench")
    store.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": os.urandom(16).hex()})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)
        server.server_close()
        svc = app.extensions.get("geogrid.service")
        if svc is not None:
            svc.store.dispose()
        tmp.cleanup()

    return f"http://127.0.0.1:{server.server_port}", stop


def label(entry: dict, base: str) -> str:
    if entry["type"] == "navigation":
        return "/ (HTML)"
    name = entry["name"]
    return name[len(base) :] if name.startswith(base) else name


def kind_of(path: str) -> str:
    if path.startswith("/ (HTML)"):
        return "HTML"
    if path.startswith("/api/"):
        return "data"
    if path.split("?")[0].endswith(".js"):
        return "JS"
    if path.split("?")[0].endswith(".css"):
        return "CSS"
    return "other"


def measure(page, base: str, runs: int, cache: bool, cdp) -> list[dict]:
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": not cache})
    loads = []
    for _ in range(runs):
        page.goto(f"{base}/", wait_until="load")
        loads.append(page.evaluate(COLLECT))
    return loads


def summarise(loads: list[dict], base: str) -> dict:
    per: dict[str, dict[str, list]] = {}
    for load in loads:
        for e in [load["html"], *load["resources"]]:
            key = label(e, base)
            slot = per.setdefault(key, {"transfer": [], "encoded": [], "decoded": []})
            for k in slot:
                slot[k].append(e[k])
    rows = []
    for key, v in per.items():
        rows.append(
            {
                "resource": key,
                "kind": kind_of(key),
                "transfer": int(statistics.median(v["transfer"])),
                "encoded": int(statistics.median(v["encoded"])),
                "decoded": int(statistics.median(v["decoded"])),
                "loads": len(v["transfer"]),
            }
        )
    order = {"HTML": 0, "JS": 1, "CSS": 2, "data": 3, "other": 4}
    rows.sort(key=lambda r: (order[r["kind"]], -r["decoded"]))

    def stat(key):
        values = [x[key] for x in loads if x[key] is not None]
        return {
            "median_ms": round(statistics.median(values), 1),
            "min_ms": round(min(values), 1),
            "max_ms": round(max(values), 1),
        }

    totals = {}
    for kind in ("HTML", "JS", "CSS", "data", "other"):
        sel = [r for r in rows if r["kind"] == kind]
        if sel:
            totals[kind] = {k: sum(r[k] for r in sel) for k in ("transfer", "decoded")}
    totals["all"] = {k: sum(r[k] for r in rows) for k in ("transfer", "decoded")}
    return {
        "resources": rows,
        "totals": totals,
        "usable": stat("ready"),
        "units": stat("units"),
        "dom_content_loaded": stat("dcl"),
        "load_event": stat("load"),
        "runs": len(loads),
    }


def kb(n: int) -> str:
    return f"{n / 1024:,.1f}"


def print_summary(title: str, s: dict) -> None:
    print(f"\n== {title} ({s['runs']} loads; sizes: median per load, KiB) ==")
    print(f"{'resource':58s} {'kind':5s} {'wire':>9s} {'decoded':>9s}")
    for r in s["resources"]:
        name = r["resource"] if len(r["resource"]) <= 58 else r["resource"][:55] + "..."
        print(f"{name:58s} {r['kind']:5s} {kb(r['transfer']):>9s} {kb(r['decoded']):>9s}")
    for kind, t in s["totals"].items():
        print(f"{'total ' + kind:58s} {'':5s} {kb(t['transfer']):>9s} {kb(t['decoded']):>9s}")
    for key, name in (
        ("usable", "usable map (grids drawn, clicks handled)"),
        ("units", "units on the map"),
        ("dom_content_loaded", "DOMContentLoaded"),
        ("load_event", "load event"),
    ):
        v = s[key]
        print(
            f"{name:45s} median {v['median_ms']:7.1f} ms   (min {v['min_ms']:.1f}, max {v['max_ms']:.1f})"
        )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="loads per mode (default 7)")
    ap.add_argument("--url", help="measure this running server instead of starting one")
    ap.add_argument("--user", default=USER)
    ap.add_argument("--password", default=PASSWORD)
    ap.add_argument("--throttle", action="store_true", help="40 ms RTT, 10 Mbit/s down")
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    stop = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        t0 = time.perf_counter()
        base, stop = serve_app()
        print(f"app on {base} (started in {time.perf_counter() - t0:.1f} s)")
    host = urlsplit(base).hostname
    blocked: list[str] = []
    try:
        with sync_playwright() as pw:
            # other hosts do not resolve (request interception would disable the HTTP cache)
            rules = f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rules])
            ctx = browser.new_context(viewport={"width": args.width, "height": args.height})
            page = ctx.new_page()
            page.on(
                "request",
                lambda r: None if urlsplit(r.url).hostname == host else blocked.append(r.url),
            )
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            if args.throttle:
                cdp.send("Network.emulateNetworkConditions", {"offline": False, **THROTTLE})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", args.user)
            page.fill("input[name=password]", args.password)
            page.click("form button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.evaluate("window.geogridReady.then(() => window.geogridUnitsReady)")  # warm-up
            cold = summarise(measure(page, base, args.runs, False, cdp), base)
            warm = summarise(measure(page, base, args.runs, True, cdp), base)
            browser.close()
    finally:
        if stop:
            stop()
    net = "throttled: 40 ms RTT, 10 Mbit/s" if args.throttle else "local, unthrottled"
    print(f"viewport {args.width}x{args.height}, {net}, Chromium at {CHROMIUM}")
    print_summary("first visit (cache disabled)", cold)
    print_summary("revisit (browser cache on)", warm)
    print(f"\nrequests to other hosts: {len(blocked)}" + (f" {blocked[:3]}" if blocked else ""))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "viewport": [args.width, args.height],
                    "network": net,
                    "cold": cold,
                    "warm": warm,
                    "blocked": blocked,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 1 if blocked else 0


if __name__ == "__main__":
    sys.exit(main())
