"""The web service under concurrent load: requests per second and 99th-percentile latency of
``GET /api/v1/locate`` (with the 5 nearest units) at 1, 8 and 32 concurrent keep-alive clients,
against a bare Flask endpoint returning a small JSON object, both on the README's production
server settings: ``gunicorn -w 2 -k gthread --threads 4`` on loopback.

Run from the repository root::

    .venv/bin/python bench/serve_bench.py [--requests N] [--clients 1,8,32]

The load generator (tests/web/serve_support.py, the stress test's) runs as threads in this
process, on the same 2 cores as the servers, so the absolute figures are lower than a separate
client machine would see; the two servers face the same client, so the comparison holds. A bare
endpoint is the ceiling of what gunicorn + Flask can do here: the gap to it is geogrid's own work
(authentication, the locate answer, JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))
from serve_support import free_port, hammer  # noqa: E402  (the tests' load generator)
from web_support import seed  # noqa: E402  (the tests' installation)

GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "4"]


def bare_app():
    """A Flask app with one endpoint and nothing else: the server's ceiling."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/api/v1/locate")
    def locate():
        return jsonify(match="interior", grid2={"code": "320113005007007"})

    return app


def start(app: str, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *GUNICORN, "-b", f"127.0.0.1:{port}", app]
    proc = subprocess.Popen(
        cmd, cwd=ROOT / "bench", env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/locate", timeout=2).read()
            return proc, base
        except urllib.error.HTTPError:
            return proc, base  # answering (401 without a token)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{app} did not start:\n{log.read_text()}") from None
            time.sleep(0.3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="requests per client count")
    ap.add_argument("--clients", default="1,8,32")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    from geogrid.db import Store

    tmp = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    seed(url)
    store = Store(url)
    token = store.create_token(store.users()[0].id, "bench", actor="bench")
    store.dispose()
    env = {
        **os.environ,
        "GEOGRID_INSTANCE": str(tmp / "instance"),
        "GEOGRID_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
    }
    rng = np.random.default_rng(20261206)
    paths = [
        f"/api/v1/locate?lon={x:.6f}&lat={y:.6f}&units=5"
        for x, y in zip(
            rng.uniform(118.88, 118.98, 500), rng.uniform(32.07, 32.15, 500), strict=True
        )
    ]
    headers = {"Authorization": f"Bearer {token}"}

    def ok(path, status, body):
        return None if status == 200 else f"HTTP {status}"

    results = {}
    for name, app in (("geogrid", "web:create_app()"), ("bare Flask", "serve_bench:bare_app()")):
        proc, base = start(app, env, tmp / f"{name.replace(' ', '-')}.log")
        try:
            hammer(base, paths, clients=8, requests=50, headers=headers, check=ok)  # warm up
            for n in counts:
                load = hammer(
                    base, paths, clients=n, requests=max(1, args.requests // n),
                    headers=headers, check=ok,
                )  # fmt: skip
                results[name, n] = load
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(
        f"gunicorn {' '.join(GUNICORN)}, GET /api/v1/locate?…&units=5, {args.requests} requests per row"
    )
    print(
        f"  {'clients':>7}  {'geogrid req/s':>13} {'p99 ms':>8}   {'bare Flask req/s':>16} {'p99 ms':>8}  failures"
    )
    for n in counts:
        a, b = results["geogrid", n], results["bare Flask", n]
        print(
            f"  {n:>7}  {a.rate:13.0f} {a.percentile(99) * 1e3:8.1f}   "
            f"{b.rate:16.0f} {b.percentile(99) * 1e3:8.1f}  {len(a.failures) + len(b.failures)}"
        )
    print(json.dumps({f"{k[0]}@{k[1]}": round(v.rate) for k, v in results.items()}))
    return 1 if any(v.failures for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
