"""OGC API – Features: geogrid's ``/ogc`` against pygeoapi serving the same PostGIS rows, both on
the README's production server settings (gunicorn, 2 workers of 4 threads) on loopback.

Run from the repository root (``make bench-ogc``)::

    .venv/bin/python bench/ogc_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

A fresh PostGIS database gets the sample district (``tests/web/web_support.seed``); the current
version's second-level grids and units are copied into plain tables (``ogc_grids2``,
``ogc_units``, primary key on the code, GiST index on the geometry), which pygeoapi's PostgreSQL
provider serves; geogrid serves the same rows from its own tables. pygeoapi is installed, the
first time, into its own virtual environment (``bench/out/pygeoapi-venv``; it pins its own Flask
and SQLAlchemy). Each request is sent ``--runs`` times over one keep-alive connection after a
warm-up; the figures are the median and 90th percentile of the whole answer (sent, computed,
read). Both servers' answers are checked to hold the same feature ids.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))
from backends import postgres_database  # noqa: E402  (bench/backends.py)
from serve_support import Server, free_port  # noqa: E402  (the tests' real server)
from web_support import seed  # noqa: E402  (the tests' installation)

from geogrid.db import Store  # noqa: E402

VENV = ROOT / "bench" / "out" / "pygeoapi-venv"
BOX = "118.925,32.100,118.945,32.115"
#: name → (geogrid path, pygeoapi path)
REQUESTS = {
    "grids2: the whole collection (156 polygons)": (
        "/ogc/collections/grids2/items?limit=200",
        "/collections/grids2/items?limit=200&f=json",
    ),
    "grids2: a bbox (what touches a 2 × 1.7 km box)": (
        f"/ogc/collections/grids2/items?limit=200&bbox={BOX}",
        f"/collections/grids2/items?limit=200&bbox={BOX}&f=json",
    ),
    "units: a bbox (points in the same box)": (
        f"/ogc/collections/units/items?limit=1000&bbox={BOX}",
        f"/collections/units/items?limit=1000&bbox={BOX}&f=json",
    ),
    "units: one page of 100": (
        "/ogc/collections/units/items?limit=100&offset=1000",
        "/collections/units/items?limit=100&offset=1000&f=json",
    ),
    "grids2: one feature": (
        "/ogc/collections/grids2/items/320113005007007",
        "/collections/grids2/items/320113005007007?f=json",
    ),
}


def install_pygeoapi() -> Path:
    if not (VENV / "bin" / "pygeoapi").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", "pygeoapi", "psycopg2-binary",
             "SQLAlchemy", "GeoAlchemy2", "gunicorn"],
            check=True,
        )  # fmt: skip
    return VENV


def copy_tables(url: str) -> None:
    """The current version's grids and units as plain tables, indexed, for pygeoapi."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    current = "(SELECT version_id FROM district_state LIMIT 1)"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE ogc_grids2 AS SELECT code, name, parent, kind, geom FROM grids "
            f"WHERE level = 2 AND version_id = {current} ORDER BY code"
        ))  # fmt: skip
        conn.execute(sa.text(
            "CREATE TABLE ogc_units AS SELECT code, name, category, address, head, head_phone, "
            f"grid, households, residents, geom FROM units WHERE version_id = {current} ORDER BY id"
        ))  # fmt: skip
        for t in ("ogc_grids2", "ogc_units"):
            conn.execute(sa.text(f"ALTER TABLE {t} ADD PRIMARY KEY (code)"))
            conn.execute(sa.text(f"CREATE INDEX ON {t} USING gist (geom)"))
            conn.execute(sa.text(f"ANALYZE {t}"))
    engine.dispose()


def pygeoapi_config(url: str, port: int, folder: Path) -> Path:
    parsed = sa.engine.make_url(url)
    data = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
            "dbname": parsed.database, "user": parsed.username or "postgres",
            "password": parsed.password or "", "search_path": ["public"]}  # fmt: skip

    def resource(table: str) -> dict:
        return {
            "type": "collection", "title": table, "description": table, "keywords": [table],
            "extents": {"spatial": {"bbox": [118.8, 32.0, 119.1, 32.2],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "PostgreSQL", "data": data,
                           "id_field": "code", "table": f"ogc_{table}", "geom_field": "geom"}],
        }  # fmt: skip

    x = "bench"
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
            "languages": ["en-US"], "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": x},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": x, "description": x, "keywords": [x],
                               "keywords_type": "theme", "terms_of_service": x, "url": x},
            "license": {"name": x, "url": x},
            "provider": {"name": x, "url": x},
            "contact": {"name": x, "position": x, "address": x, "city": x,
                        "stateorprovince": x, "postalcode": x, "country": x, "phone": x,
                        "fax": x, "email": x, "url": x, "hours": x, "instructions": x,
                        "role": "pointOfContact"},
        },
        "resources": {"grids2": resource("grids2"), "units": resource("units")},
    }  # fmt: skip
    path = folder / "pygeoapi.config.json"  # YAML is a superset of JSON
    path.write_text(json.dumps(config, ensure_ascii=False))
    return path


def start_pygeoapi(venv: Path, config: Path, port: int, folder: Path):
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config),
           "PYGEOAPI_OPENAPI": str(folder / "openapi.yml")}  # fmt: skip
    subprocess.run(
        [str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(config),
         "--output-file", str(folder / "openapi.yml")],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    log = (folder / "pygeoapi.log").open("w")
    proc = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "pygeoapi.flask_app:APP"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/collections?f=json", timeout=5).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((folder / "pygeoapi.log").read_text()[-3000:]) from None
            time.sleep(0.5)


def timed(base: str, path: str, runs: int, headers: dict) -> tuple[list[float], dict]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    out, body = [], None
    for i in range(runs + 3):  # three to warm up
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        took = time.perf_counter() - t0
        if resp.status != 200:
            raise SystemExit(f"{base}{path}: HTTP {resp.status} {data[:300]!r}")
        if i >= 3:
            out.append(took)
        body = data
    conn.close()
    return out, json.loads(body)


def ids(answer: dict) -> list[str]:
    feats = answer.get("features", [answer])
    return sorted(str(f["id"]) for f in feats)


def measure(url: str, venv: Path, runs: int) -> list[tuple]:
    """Both servers on the database at ``url``: (request, features, our times, pygeoapi's, same
    ids) per request."""
    seed(url)
    copy_tables(url)
    store = Store(url)
    token = store.create_token(store.users()[0].id, "bench", actor="bench")
    store.dispose()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = Server(folder, "--db", url, "--workers", "2", "--threads", "4")
        port = free_port()
        proc, theirs = start_pygeoapi(venv, pygeoapi_config(url, port, folder), port, folder)
        try:
            for name, (mine, other) in REQUESTS.items():
                a, got_a = timed(ours.base, mine, runs, {"Authorization": f"Bearer {token}"})
                b, got_b = timed(theirs, other, runs, {})
                rows.append((name, len(ids(got_a)), a, b, ids(got_a) == ids(got_b)))
        finally:
            ours.stop()
            proc.terminate()
            proc.wait(timeout=30)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", required=True, help="an admin URL of a PostGIS server")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    venv = install_pygeoapi()
    with postgres_database(args.postgres) as url:
        rows = measure(url, venv, args.runs)

    def ms(xs, q):
        xs = sorted(xs)
        return 1000 * (statistics.median(xs) if q == 50 else xs[int(0.9 * (len(xs) - 1))])

    print(f"{args.runs} runs each, load average {os.getloadavg()[0]:.1f}")
    print("| request | features | geogrid p50 | p90 | pygeoapi p50 | p90 | same ids |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, n, a, b, same in rows:
        print(f"| {name} | {n} | {ms(a, 50):.1f} ms | {ms(a, 90):.1f} ms | "
              f"{ms(b, 50):.1f} ms | {ms(b, 90):.1f} ms | {'yes' if same else 'NO'} |")  # fmt: skip
    slow = [r[0] for r in rows[:3] if ms(r[2], 50) >= 50]
    print(
        "target (whole grids2 page and a bbox under 50 ms):",
        "FAIL " + str(slow) if slow else "PASS",
    )


if __name__ == "__main__":
    main()
