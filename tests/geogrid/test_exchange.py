"""Importing a layer edited in a GIS tool as a draft, exporting versions and drafts: the round
trip keeps codes, names, attributes and shared edges exactly (geogrid.usecases.exchange)."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from gis_edits import DX, A, B, edit_gpkg

from geogrid import cli
from geogrid.access import Actor
from geogrid.db import Store
from geogrid.errors import Forbidden, InputError, ValidationFailed
from geogrid.planning import geometry as geo
from geogrid.planning.edits import ReplaceGrids, edit_from_dict
from geogrid.service import Service
from geogrid.usecases import exchange, planning

PLANNER = Actor("guihua", "planner")


@pytest.fixture
def svc(tmp_path):
    return Service.bootstrap(Store(f"sqlite:///{tmp_path / 'db.sqlite3'}"))


def _write(tmp_path, svc, fmt, **kw):
    name, data, _ = exchange.export(svc, PLANNER, version=1, fmt=fmt, **kw)
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_an_unmodified_export_imports_as_no_change(tmp_path, svc, fmt):
    path = _write(tmp_path, svc, fmt)
    if fmt == "shp":
        assert path.suffix == ".zip"
        names = zipfile.ZipFile(path).namelist()
        assert {"320113005-v1-grids2.shp", "320113005-v1-grids2.dbf"} <= set(names)
    state, found = exchange.import_draft(svc, PLANNER, "原样导入", path)
    assert state.report.ok and not state.changed
    assert found["summary"]["grids"] == 0 and found["summary"]["units"] == 0
    assert found["attributes"] == [] and found["transfers"] == []
    base = svc.store.load_district(state.base.id)
    for a, b in zip(base.grids2.geometry, state.district.grids2.geometry, strict=True):
        assert geo.same(a, b)


def test_file_names_and_formats(tmp_path, svc):
    name, data, mime = exchange.export(svc, PLANNER, version=1, fmt="geojson")
    assert name == "320113005-v1-grids2.geojson" and mime == "application/geo+json"
    assert len(json.loads(data)["features"]) == 156
    name, _, mime = exchange.export(svc, PLANNER, fmt="gpkg", layer="grids1")
    assert name == "320113005-v1-grids1.gpkg" and mime == "application/geopackage+sqlite3"
    path = _write(tmp_path, svc, "gpkg")
    assert {n for n, _ in pyogrio.list_layers(path)} == {"outline", "grids1", "grids2", "units"}
    with pytest.raises(InputError, match="format"):
        exchange.export(svc, PLANNER, fmt="kml")
    with pytest.raises(InputError, match="layer"):
        exchange.export(svc, PLANNER, fmt="gpkg", layer="roads")


def test_a_vertex_moved_in_both_grids_and_a_rename(tmp_path, svc):
    path = _write(tmp_path, svc, "gpkg")
    v = edit_gpkg(path, both=True, rename=(B, "新改的名字"))
    state, found = exchange.import_draft(svc, PLANNER, "QGIS 编辑", path)
    assert state.report.ok, state.report.errors
    assert set(state.changed) == {A, B}
    assert sorted(g["code"] for g in found["grids"]) == [A, B]
    assert [(a["code"], a["changes"]) for a in found["attributes"]] == [
        (B, {"name": ["仙鹤社区第02网格", "新改的名字"]})
    ]
    base = svc.store.load_district(state.base.id)
    d = state.district
    # codes, names and other attributes kept
    cols = ["code", "parent", "kind", "worker", "worker_phone"]
    assert d.grids2[cols].equals(base.grids2[cols])
    assert (d.grids2["name"] != base.grids2["name"]).sum() == 1
    # the edges still shared, vertex for vertex: the coverage is valid and the new vertex is in both
    assert shapely.coverage_is_valid(d.grids2.geometry.to_numpy())
    target = (round(v[0] + DX, 7), v[1])
    for code in (A, B):
        xy = shapely.get_coordinates(d.grid2(code).geometry)
        assert np.isclose(xy, target, rtol=0, atol=1e-9).all(axis=1).any()
    # the edit replays alike from the database, and publishes
    again = planning.draft_state(svc, PLANNER, state.draft.id)
    assert again.report.ok and set(again.changed) == {A, B}
    answer = planning.publish(svc, PLANNER, state.draft.id, "QGIS 调整")
    assert answer.version.number == 2
    published = svc.store.load_district(answer.version.id)
    assert published.grid2(B)["name"] == "新改的名字"


def test_a_vertex_moved_in_one_grid_only_is_a_draft_that_cannot_publish(tmp_path, svc):
    path = _write(tmp_path, svc, "gpkg")
    edit_gpkg(path, both=False)
    state, _ = exchange.import_draft(svc, PLANNER, "只改一个", path)
    assert not state.report.ok
    kinds = {f.check for f in state.report.errors}
    assert kinds & {"overlap", "gap"}, kinds
    with pytest.raises(ValidationFailed):
        planning.publish(svc, PLANNER, state.draft.id, "不行")


def _drafts(svc):
    return len(planning.drafts(svc, PLANNER, status=None))


def test_bad_inputs_leave_no_draft(tmp_path, svc):
    bad = []
    text = tmp_path / "notes.geojson"
    text.write_text("this is not a GIS file", encoding="utf-8")
    bad.append((text, {}, "GIS file"))
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    bad.append((empty, {}, "empty"))
    points = _write(tmp_path, svc, "geojson", layer="units")
    bad.append((points, {}, "Point"))
    only_points = tmp_path / "pts.gpkg"
    frame = gpd.read_file(points, engine="pyogrio")
    pyogrio.write_dataframe(frame, only_points, layer="a", driver="GPKG")
    pyogrio.write_dataframe(frame, only_points, layer="b", driver="GPKG")
    bad.append((only_points, {}, "no polygon layer"))
    g2 = _write(tmp_path, svc, "geojson")
    fc = json.loads(g2.read_text(encoding="utf-8"))
    fc["features"][0]["properties"]["parent"] = "320113005099"
    unknown = tmp_path / "unknown.geojson"
    unknown.write_text(json.dumps(fc), encoding="utf-8")
    bad.append((unknown, {}, "unknown community 320113005099"))
    bad.append((g2, {"src_crs": "gcj02"}, "coordinate system"))
    metres = tmp_path / "metres.geojson"
    frame = gpd.read_file(g2, engine="pyogrio").to_crs("EPSG:4549")
    plain = json.loads(frame.to_json(to_wgs84=False))
    plain.pop("crs", None)  # metres, and no word of it
    metres.write_text(json.dumps(plain), encoding="utf-8")
    bad.append((metres, {}, "longitude/latitude"))
    before = _drafts(svc)
    for path, kw, message in bad:
        with pytest.raises(InputError, match=message):
            exchange.import_draft(svc, PLANNER, "坏文件", path, **kw)
    assert _drafts(svc) == before


def test_a_retired_code_may_not_come_back(tmp_path, svc):
    old = planning.open_draft(svc, PLANNER, "合并").draft.id
    planning.edit(svc, PLANNER, old, {"kind": "merge", "codes": [A, B]}, 0)
    planning.publish(svc, PLANNER, old, "合并")
    path = _write(tmp_path, svc, "geojson")  # version 1, where grid B still is
    before = _drafts(svc)
    with pytest.raises(InputError, match=f"{B} was used before and retired"):
        exchange.import_draft(svc, PLANNER, "旧编码", path)
    assert _drafts(svc) == before


def test_the_edit_round_trips_and_others_may_not_import(tmp_path, svc):
    path = _write(tmp_path, svc, "geojson")
    fc = json.loads(path.read_text(encoding="utf-8"))
    edit = ReplaceGrids(fc, source="x.geojson")
    assert edit_from_dict(json.loads(json.dumps(edit.to_dict()))) == edit
    with pytest.raises(Forbidden):
        exchange.import_draft(svc, Actor("diaodu", "dispatcher"), "不许", path)
    with pytest.raises(Forbidden):
        exchange.export(svc, Actor("diaodu", "dispatcher"), draft=1)


def test_a_worker_exports_only_their_own_units(svc):
    worker = Actor("wangge", "worker", frozenset({"320113005007007"}))
    _, data, _ = exchange.export(svc, worker, fmt="geojson", layer="units")
    grids = {f["properties"]["grid"] for f in json.loads(data)["features"]}
    assert grids == {"320113005007007"}


def test_cli_import_and_export(tmp_path, svc, monkeypatch):
    url = str(svc.store.engine.url)
    runner = CliRunner()
    out = tmp_path / "v1.gpkg"
    res = runner.invoke(
        cli.main, ["export", "grids2", "--version", "1", "--out", str(out), "--db", url]
    )
    assert res.exit_code == 0, res.output
    edit_gpkg(out, both=True, rename=(B, "命令行改名"))
    res = runner.invoke(
        cli.main, ["draft", "import", str(out), "--name", "命令行导入", "--db", url]
    )
    assert res.exit_code == 0, res.output
    assert "2 grids change" in res.output and "命令行改名" in res.output
    res = runner.invoke(
        cli.main, ["draft", "import", str(tmp_path / "none.gpkg"), "--name", "x", "--db", url]
    )
    assert res.exit_code == 2 and "no such file" in res.output
    draft_id = planning.drafts(svc, PLANNER)[0].id
    zipped = tmp_path / "draft.zip"
    res = runner.invoke(
        cli.main, ["export", "grids2", "--draft", str(draft_id), "--out", str(zipped), "--db", url]
    )
    assert res.exit_code == 0, res.output
    assert any(n.endswith(".shp") for n in zipfile.ZipFile(zipped).namelist())
