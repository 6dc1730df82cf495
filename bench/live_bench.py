"""Live push: how soon a new assignment reaches open pages through the event stream
(``GET /api/v1/events`` held by ``geogrid serve``'s LiveWorker), against the obvious
alternative, pages polling the incident list every few seconds; and how many open streams the
default set-up (2 workers x 4 threads) holds while it still answers.

Run from the repository root::

    .venv/bin/python bench/live_bench.py [--db URL] [--streams 200] [--events 20]
        [--poll 5] [--held 1000]

Everything runs on loopback on this machine's cores: the streams' and pollers' readers are
threads of this process. Latency is measured from the moment the API call that dispatched the
incident has returned (the transaction committed) to the moment each page has it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))
from serve_support import Server  # noqa: E402  (the tests' server)
from sse_support import SocketStream  # noqa: E402  (the tests' stream reader)
from web_support import seed  # noqa: E402  (the tests' installation)

from geogrid.db import Store  # noqa: E402

MINE = (118.93, 32.11)


def api(base, token, method, path, body=None):
    req = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def dispatch(base, token) -> tuple[int, float]:
    body = {
        "x": MINE[0],
        "y": MINE[1],
        "category": "0601",
        "description": "bench",
        "dispatch": True,
    }
    inc = api(base, token, "POST", "/api/v1/incidents", body)
    return inc["id"], time.monotonic()


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn workers), in MB."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(k) for k in kids]


def sse(server, tokens, streams: int, events: int) -> dict:
    opened = [SocketStream(server.port, {"Authorization": f"Bearer {tokens['worker']}"}) for _ in range(streams)]  # fmt: skip
    lat = []
    try:
        for _ in range(events):
            iid, t0 = dispatch(server.base, tokens["dispatcher"])
            for s in opened:
                s.until(lambda ev, iid=iid: ev.event == "incident" and ev.data["incident_id"] == iid, timeout=60)  # fmt: skip
                lat.append(0.0)  # replaced below
                lat[-1] = time.monotonic() - t0
            time.sleep(0.2)
    finally:
        for s in opened:
            s.close()
    return {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat), "n": len(lat)}


def poll(server, tokens, pages: int, events: int, every: float) -> dict:
    """``pages`` pollers, each GETting the worker's list every ``every`` s (random phase) and
    noting when each new incident first shows."""
    seen: dict[int, list[float]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    requests = [0]

    def poller(n):
        rng = random.Random(n)
        time.sleep(rng.random() * every)
        while not stop.is_set():
            t = time.monotonic()
            got = api(server.base, tokens["worker"], "GET", "/api/v1/incidents?limit=20&sort=-id")
            now = time.monotonic()
            with lock:
                requests[0] += 1
                for inc in got["incidents"]:
                    seen.setdefault(inc["id"], []).append(now)
            time.sleep(max(0.0, every - (time.monotonic() - t)))

    threads = [threading.Thread(target=poller, args=(n,), daemon=True) for n in range(pages)]
    for t in threads:
        t.start()
    time.sleep(every + 0.5)
    made = []
    t_start = time.monotonic()
    for _ in range(events):
        made.append(dispatch(server.base, tokens["dispatcher"]))
        time.sleep(every / 3)
    time.sleep(every + 1.0)
    stop.set()
    for t in threads:
        t.join(every + 30)
    elapsed = time.monotonic() - t_start
    lat = []
    for iid, t0 in made:
        # each page's first sighting after the commit
        firsts = {}
        with lock:
            times = sorted(seen.get(iid, []))
        # pages are not told apart in `seen`: take the earliest `pages` sightings after t0
        later = [t - t0 for t in times if t >= t0][:pages]
        firsts = later
        lat += firsts
    return {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat) if lat else float("nan"),
            "n": len(lat), "requests_per_s": requests[0] / elapsed}  # fmt: skip


def held(server, tokens, n: int) -> dict:
    before = rss_mb(server.proc.pid)
    opened, t0 = [], time.monotonic()
    try:
        for _ in range(n):
            opened.append(SocketStream(server.port, {"Authorization": f"Bearer {tokens['worker']}"}))  # fmt: skip
        open_s = time.monotonic() - t0
        mem = rss_mb(server.proc.pid)
        hz = []
        for _ in range(20):
            t = time.monotonic()
            with urllib.request.urlopen(server.base + "/healthz", timeout=30) as r:
                r.read()
            hz.append(time.monotonic() - t)
        iid, t1 = dispatch(server.base, tokens["dispatcher"])
        last = 0.0
        for s in opened:
            s.until(lambda ev: ev.event == "incident" and ev.data["incident_id"] == iid, timeout=120)  # fmt: skip
            last = time.monotonic() - t1
        alive = sum(not s.closed.is_set() for s in opened)
    finally:
        for s in opened:
            s.close()
    return {"streams": n, "alive": alive, "open_s": open_s, "rss_mb": mem, "rss_before_mb": before,
            "healthz_p50_ms": pct(hz, 50) * 1000, "all_delivered_s": last}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--poll", type=float, default=5.0, help="the pollers' period, seconds")
    ap.add_argument("--pollers", type=int, default=50)
    ap.add_argument("--held", type=int, default=1000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-"))
    url = args.db or f"sqlite:///{tmp / 'live.sqlite3'}"
    seed(url)
    store = Store(url)
    tokens = {u.role: store.create_token(u.id, "bench", actor="bench") for u in store.users()}
    store.dispose()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    server = Server(tmp, "--db", url)  # the default: 2 workers x 4 threads
    try:
        backend = url.split(":", 1)[0]
        print(f"geogrid serve (2 workers x 4 threads, LiveWorker) on {backend}")
        r = sse(server, tokens, args.streams, args.events)
        print(f"SSE, {args.streams} open streams, {args.events} assignments: delivery after the API call returned "
              f"p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms ({r['n']} deliveries)")  # fmt: skip
        p = poll(server, tokens, args.pollers, max(args.events // 2, 5), args.poll)
        print(f"polling the list every {args.poll:g} s, {args.pollers} pages: p50 {p['p50'] * 1000:.0f} ms, "
              f"p95 {p['p95'] * 1000:.0f} ms, max {p['max'] * 1000:.0f} ms ({p['n']} sightings), "
              f"{p['requests_per_s']:.1f} list requests/s on the server (SSE: none; one feed read per process per event)")  # fmt: skip
        h = held(server, tokens, args.held)
        print(f"held: {h['alive']}/{h['streams']} streams open (opened in {h['open_s']:.1f} s), server RSS {h['rss_before_mb']:.0f} → {h['rss_mb']:.0f} MB, "
              f"/healthz p50 {h['healthz_p50_ms']:.1f} ms meanwhile, one assignment reached all in {h['all_delivered_s'] * 1000:.0f} ms")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
