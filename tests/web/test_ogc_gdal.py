"""A real OGC client on the real server: GDAL's OGC API – Features driver (``OAPIF:``, through
pyogrio) reads every collection of ``geogrid serve`` (gunicorn), on SQLite and PostGIS, with the
right feature counts, codes and geometry, and in EPSG:4549 when asked."""

from __future__ import annotations

import io
import json
import urllib.request

import numpy as np
import pyogrio
import pytest
import shapely
import shapely.geometry
from gis_edits import DX, A, B, edit_gpkg
from serve_support import Server, call_api
from web_support import WORKER_GRID, seed
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from geogrid.crs import to_metric
from geogrid.db import Store
from geogrid.model import District, default_data_dir

SAMPLE = District.load(default_data_dir())


@pytest.fixture
def served(db_url, tmp_path, monkeypatch):
    seed(db_url)
    store = Store(db_url)
    users = {u.role: u for u in store.users()}
    token = store.create_token(users["dispatcher"].id, "gdal", actor="tests")
    worker_token = store.create_token(users["worker"].id, "gdal", actor="tests")
    store.dispose()
    server = Server(tmp_path, "--db", db_url)
    # GDAL reads its HTTP authentication from its configuration (here: the environment)
    monkeypatch.setenv("GDAL_HTTP_AUTH", "BEARER")
    monkeypatch.setenv("GDAL_HTTP_BEARER", token)
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "60")
    monkeypatch.setenv("CPL_VSIL_CURL_CACHE_SIZE", "0")
    server.db_url = db_url
    yield server, token, worker_token
    server.stop()


def _report(server, token, x, y):
    body = {"x": x, "y": y, "category": "0601", "description": "GDAL"}
    return call_api(server.base, token, "POST", "/api/v1/incidents", body)[1]["id"]


def test_gdal_reads_every_collection(served):
    server, token, _ = served
    inside = SAMPLE.grid2(WORKER_GRID).geometry.representative_point()
    ids = [_report(server, token, inside.x, inside.y), _report(server, token, 118.90, 32.09)]
    source = f"OAPIF:{server.base}/ogc"
    layers = [name for name, _ in pyogrio.list_layers(source)]
    assert layers == ["district", "grids1", "grids2", "units", "incidents"]
    for name, frame in (
        ("grids1", SAMPLE.grids1),
        ("grids2", SAMPLE.grids2),
        ("units", SAMPLE.units),
    ):
        got = pyogrio.read_dataframe(source, layer=name)
        assert len(got) == len(frame), name
        assert got.crs.to_string() == "OGC:CRS84"  # lon/lat, as stored
        assert list(got["code"]) == list(frame["code"]), name
        same = shapely.equals_exact(got.geometry.values, frame.geometry.values, tolerance=1e-9)
        assert same.all(), (name, int((~same).sum()))
        for col in ("name", "parent") if name != "units" else ("name", "grid"):
            assert list(got[col]) == list(frame[col]), (name, col)
    outline = pyogrio.read_dataframe(source, layer="district")
    assert len(outline) == 1 and outline.geometry[0].equals(SAMPLE.territory())
    incidents = pyogrio.read_dataframe(source, layer="incidents")
    assert sorted(incidents["id"].astype(int)) == sorted(ids)
    assert set(incidents["state"]) == {"reported"}


def test_gdal_in_the_metric_crs_and_with_a_box(served):
    server, _, worker_token = served
    source = f"OAPIF:{server.base}/ogc"
    metric = pyogrio.read_dataframe(source, layer="grids2", CRS="EPSG:4549")  # an open option
    assert metric.crs.to_epsg() == 4549 and len(metric) == 156
    x, y = to_metric(*np.asarray(SAMPLE.grids2.geometry.values[0].exterior.coords[0]))
    first = metric.geometry.values[0].exterior.coords[0]
    assert abs(first[0] - x) < 1e-3 and abs(first[1] - y) < 1e-3  # GDAL gives x (east) first
    box = (118.925, 32.100, 118.945, 32.115)
    want = SAMPLE.units.loc[SAMPLE.units.geometry.intersects(shapely.box(*box)), "code"]
    got = pyogrio.read_dataframe(source, layer="units", bbox=box)
    assert sorted(got["code"]) == sorted(want) and len(want) > 3


def test_gdal_as_a_grid_worker(served, monkeypatch):
    server, _, worker_token = served
    monkeypatch.setenv("GDAL_HTTP_BEARER", worker_token)
    units = pyogrio.read_dataframe(f"OAPIF:{server.base}/ogc", layer="units")
    assert set(units["grid"]) == {WORKER_GRID}
    assert len(units) == int((SAMPLE.units["grid"] == WORKER_GRID).sum())


def test_read_from_the_service_edit_in_a_gis_tool_import_as_a_draft(served, tmp_path):
    """The QGIS round trip: the grids read from the OGC API into a GeoPackage, a shared vertex
    moved in both neighbours and a grid renamed there, the file imported back as a draft."""
    server, _, _ = served
    source = f"OAPIF:{server.base}/ogc"
    path = tmp_path / "grids.gpkg"
    for layer in ("grids2", "grids1"):
        frame = pyogrio.read_dataframe(source, layer=layer).drop(columns="id")
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
    vertex = edit_gpkg(path, both=True, rename=(B, "QGIS 改名"))
    store = Store(server.db_url)
    planner = next(u for u in store.users() if u.role == "planner")
    token = store.create_token(planner.id, "qgis", actor="tests")
    store.dispose()
    boundary, body = encode_multipart(
        {
            "name": "QGIS 往返",
            "file": FileStorage(io.BytesIO(path.read_bytes()), filename="grids.gpkg"),
        }
    )
    req = urllib.request.Request(
        server.base + "/api/v1/drafts/import",
        data=body,
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as resp:
        answer = json.loads(resp.read())
    assert answer["report"]["ok"], answer["report"]
    assert sorted(answer["changed"]) == [A, B]  # only the two grids whose shapes moved
    assert [(a["code"], a["changes"]) for a in answer["impact"]["attributes"]] == [
        (B, {"name": ["仙鹤社区第02网格", "QGIS 改名"]})
    ]
    assert answer["impact"]["communities"] == []
    # the draft, read back: every other grid exactly as it was, the moved vertex in both
    draft = answer["draft"]["id"]
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{server.base}/api/v1/drafts/{draft}/export?format=geojson",
            headers={"Authorization": f"Bearer {token}"},
        ),
        timeout=60,
    ) as resp:
        drafted = json.loads(resp.read())["features"]
    geoms = {f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in drafted}
    for code, geom in zip(SAMPLE.grids2["code"], SAMPLE.grids2.geometry, strict=True):
        if code not in (A, B):
            # the same vertices exactly (a ring may start elsewhere: compare normalized)
            assert shapely.equals_exact(
                shapely.normalize(geoms[code]), shapely.normalize(geom), tolerance=0
            ), code
    assert shapely.coverage_is_valid(np.array(list(geoms.values())))
    target = (round(vertex[0] + DX, 7), vertex[1])
    for code in (A, B):
        xy = shapely.get_coordinates(geoms[code])
        assert np.isclose(xy, target, rtol=0, atol=1e-9).all(axis=1).any(), code
    props = {f["properties"]["code"]: f["properties"] for f in drafted}
    for rec in SAMPLE.grids2.drop(columns="geometry").to_dict("records"):
        want = {**rec, "name": "QGIS 改名"} if rec["code"] == B else rec
        assert {k: props[rec["code"]].get(k) for k in want} == want
