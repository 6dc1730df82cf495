"""The README's production set-up under concurrent load: ``geogrid serve`` (gunicorn, 2 workers
of 4 threads) answering many keep-alive clients at once, on loopback, for a bounded number of
requests. Every answer must be right and no worker may die.

Before the locator's nearest-unit index was made safe for threads, this load killed workers
with SIGSEGV/SIGABRT ("double free or corruption") within seconds and answered some requests
with 500s. Every fourth request is an OGC API box query (``/ogc``), whose layers and ready
GeoJSON all threads of a worker share, checked against shapely on the sample.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from serve_support import Server, hammer, worker_crashes
from web_support import seed

from geogrid.db import Store
from geogrid.locate import Locator
from geogrid.model import District, default_data_dir

CLIENTS = 16
REQUESTS = 200  # per client: 3,200 requests in all


def test_many_threads_on_several_workers_no_crash_no_wrong_answer(tmp_path):
    url = f"sqlite:///{tmp_path / 'stress.sqlite3'}"
    seed(url)
    store = Store(url)
    token = store.create_token(store.users()[0].id, "stress", actor="tests")
    store.dispose()

    sample = District.load(default_data_dir())
    loc = Locator(sample)
    rng = np.random.default_rng(2026)
    points = list(
        zip(rng.uniform(118.88, 118.98, 400), rng.uniform(32.07, 32.15, 400), strict=True)
    )
    expected, paths = {}, []
    for x, y in points:
        path = f"/api/v1/locate?lon={x:.6f}&lat={y:.6f}&units=5"
        where = loc.locate(round(x, 6), round(y, 6))
        units = [u.code for u in loc.nearest_units(where.lon, where.lat, 5)]
        expected[path] = (where.grid2.code if where.grid2 else None, units)
        paths.append(path)

    for i, (x, y) in enumerate(points[:100]):
        box = (round(x, 4), round(y, 4), round(x + 0.01, 4), round(y + 0.008, 4))
        layer = sample.units if i % 2 else sample.grids2
        path = (
            f"/ogc/collections/{'units' if i % 2 else 'grids2'}/items?limit=1000&bbox="
            + ",".join(map(str, box))
        )
        expected[path] = sorted(layer.loc[layer.geometry.intersects(shapely.box(*box)), "code"])
        paths.insert(i * 4, path)

    def check(path, status, body):
        if status != 200:
            return f"HTTP {status}: {body[:200]!r}"
        answer = json.loads(body)
        if path.startswith("/ogc/"):
            got = sorted(f["id"] for f in answer["features"])
            return (
                None
                if got == expected[path]
                else f"{len(got)} features, expected {len(expected[path])}"
            )
        got = ((answer.get("grid2") or {}).get("code"), [u["code"] for u in answer["units"]])
        return None if got == expected[path] else f"answered {got}, expected {expected[path]}"

    server = Server(tmp_path, "--db", url, "--workers", "2", "--threads", "4")
    try:
        load = hammer(
            server.base,
            paths,
            clients=CLIENTS,
            requests=REQUESTS,
            headers={"Authorization": f"Bearer {token}"},
            check=check,
        )
    finally:
        server.stop()
    log = server.output()
    assert load.failures == [], load.failures[:5]
    assert len(load.latencies) == CLIENTS * REQUESTS
    assert worker_crashes(log) == []
    assert log.count("Booting worker") == 2, "a worker died and was replaced"
