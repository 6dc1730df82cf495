"""The command line: every command through click's CliRunner, plus the installed entry point."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import mapping, shape

from geogrid import bulk, cli, crs, io, model, sample

DATA = model.default_data_dir()
LAYER_FILES = list(model.LAYER_FILES.values())


@pytest.fixture(autouse=True)
def _no_env_data(monkeypatch):
    """Tests use the bundled sample unless they say otherwise."""
    monkeypatch.delenv(cli.DATA_ENV, raising=False)


@pytest.fixture(scope="module")
def district() -> model.District:
    return model.District.load(DATA)


@pytest.fixture(scope="module")
def units(district):
    """(code, lon, lat, grid) of every unit of the sample."""
    u = district.units
    points = u.geometry.values
    lons, lats = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
    return list(zip(u["code"], lons, lats, u["grid"], strict=True))


@pytest.fixture(scope="module")
def locator():
    """The CLI's cached locator over the sample, with its distance lists built once."""
    loc = cli.get_locator(DATA)
    loc.locate(118.93, 32.11)
    return loc


def run(*args, code: int = 0):
    """Invoke the CLI; check the exit status and that no exception escaped as a traceback."""
    result = CliRunner().invoke(cli.main, [str(a) for a in args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == code, (result.exit_code, result.output)
    return result


def copy_data(tmp_path: Path, name: str = "data") -> Path:
    dest = tmp_path / name
    dest.mkdir()
    for f in LAYER_FILES:
        shutil.copy(DATA / f, dest / f)
    return dest


def drop_grid(fc_path: Path, code: str) -> None:
    fc = json.loads(fc_path.read_text(encoding="utf-8"))
    fc["features"] = [f for f in fc["features"] if f["properties"]["code"] != code]
    fc_path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


# ---------------------------------------------------------------------- entry point, help
def test_console_script_entry_point():
    script = Path(sys.executable).parent / "geogrid"
    proc = subprocess.run(
        [str(script), "info", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != cli.DATA_ENV},
    )
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert (facts["code"], facts["grids2"]) == ("320113005", 156)


def test_help_lists_commands_and_examples():
    out = run("--help").output
    for command in ("sample", "info", "validate", "import", "export", "locate"):
        assert command in out
    assert "geogrid import" in run("import", "--help").output
    assert "geogrid locate 118.93 32.11" in run("locate", "-h").output


def test_no_command_is_usage_error():
    assert "Usage" in run("nonsense", code=2).output


# ---------------------------------------------------------------------- data directory
def test_data_dir_resolution(tmp_path, monkeypatch):
    assert cli.data_dir() == DATA
    monkeypatch.setenv(cli.DATA_ENV, str(tmp_path))
    assert cli.data_dir() == tmp_path
    assert cli.data_dir(tmp_path / "x") == tmp_path / "x"


def test_env_and_data_option_pick_the_district(tmp_path, monkeypatch):
    other = copy_data(tmp_path)
    fc_path = other / model.LAYER_FILES["district"]
    fc = json.loads(fc_path.read_text(encoding="utf-8"))
    fc["features"][0]["properties"]["name"] = "测试街道"
    del fc["features"][0]["properties"]["sample"]
    fc_path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    assert json.loads(run("info", "--json", "--data", other).output)["name"] == "测试街道"
    monkeypatch.setenv(cli.DATA_ENV, str(other))
    facts = json.loads(run("info", "--json").output)
    assert (facts["name"], facts["sample"]) == ("测试街道", False)
    assert json.loads(run("info", "--json", "--data", DATA).output)["sample"] is True


def test_missing_data_directory_is_exit_2(tmp_path):
    result = run("info", "--data", tmp_path / "nowhere", code=2)
    assert result.stderr.startswith("error: ") and "not a district directory" in result.stderr


# ---------------------------------------------------------------------- sample, info
def test_sample_reproduces_committed_boundaries(tmp_path):
    out = tmp_path / "boundaries"
    result = run("sample", "--out", out)
    assert "156 second-level grids" in result.output and "1786 units" in result.output
    assert len(result.output.strip().splitlines()) == 1
    for name in LAYER_FILES:
        assert (out / name).read_bytes() == (DATA / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == sorted(LAYER_FILES)
    assert not list(tmp_path.glob(".boundaries*"))  # no temporary leftovers


def test_info_text_and_json():
    text = run("info").output
    assert "320113005 仙林街道" in text
    assert "32.67 km²" in text
    assert "10 first-level, 156 second-level" in text
    assert "商铺: 820" in text and "260,000" in text
    facts = json.loads(run("info", "--json").output)
    assert facts["area_km2"] == pytest.approx(32.67, abs=0.005)
    assert (facts["grids1"], facts["grids2"], facts["units"]) == (10, 156, 1786)
    assert facts["units_by_category"] == sample.UNIT_COUNTS
    assert facts["residents"] == 260_000 and facts["sample"] is True


# ---------------------------------------------------------------------- validate
def test_validate_ok():
    result = run("validate", DATA)
    assert result.output.strip().splitlines()[-1].startswith("OK: no errors")


def test_validate_single_grids_file():
    run("validate", DATA / model.LAYER_FILES["grids2"])


def test_validate_json_parses():
    report = json.loads(run("validate", DATA, "--json").output)
    assert report["ok"] is True and report["errors"] == []


def test_validate_broken_copy_reports_the_gap(tmp_path):
    broken = copy_data(tmp_path)
    drop_grid(broken / model.LAYER_FILES["grids2"], "320113005004005")
    result = run("validate", broken, code=1)
    assert "gap" in result.stdout and "FAILED" in result.stdout
    assert result.stderr.startswith("error: validation failed")
    report = json.loads(run("validate", broken, "--json", code=1).stdout)
    gaps = [f for f in report["errors"] if f["check"] == "gap"]
    assert gaps and gaps[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_validate_gap_width_option():
    run("validate", DATA, "--gap-width", "5")
    assert "--gap-width" in run("validate", DATA, "--gap-width", "0", code=2).output


@pytest.mark.parametrize("what", ["missing", "garbage", "broken-dir"])
def test_validate_unreadable_is_exit_2(tmp_path, what):
    if what == "missing":
        path = tmp_path / "nothing.geojson"
    elif what == "garbage":
        path = tmp_path / "grids.geojson"
        path.write_bytes(b"\x00\x01 this is not a vector file")
    else:
        path = copy_data(tmp_path)
        (path / model.LAYER_FILES["grids2"]).write_text("{not json", encoding="utf-8")
    result = run("validate", path, code=2)
    assert result.stderr.startswith("error: ") and str(path) in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------- import
def _import_args(grids2: Path | None = None):
    return [
        DATA / model.LAYER_FILES["grids1"],
        grids2 or DATA / model.LAYER_FILES["grids2"],
        "--units",
        DATA / model.LAYER_FILES["units"],
        "--outline",
        DATA / model.LAYER_FILES["district"],
    ]


def test_import_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "d"
    result = run("import", *_import_args(), "--out", out)
    assert "156 second-level grids" in result.output and "Dry run" in result.output
    assert list(tmp_path.iterdir()) == []


def test_import_commit_writes_loadable_district(tmp_path):
    out = tmp_path / "d"
    result = run("import", *_import_args(), "--out", out, "--commit")
    assert "Wrote" in result.output
    loaded = model.District.load(out)
    assert (loaded.code, loaded.name, len(loaded.grids2), len(loaded.units)) == (
        "320113005",
        "仙林街道",
        156,
        1786,
    )
    for name in LAYER_FILES:  # GeoJSON in, GeoJSON out: unchanged
        assert (out / name).read_bytes() == (DATA / name).read_bytes(), name
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_import_commit_replaces_district_keeping_other_files(tmp_path):
    out = tmp_path / "d"
    run("import", *_import_args(), "--out", out, "--commit")
    (out / "README.md").write_text("notes", encoding="utf-8")
    run("import", DATA / model.LAYER_FILES["grids2"], "--out", out, "--commit")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["README.md", model.LAYER_FILES["grids1"], model.LAYER_FILES["grids2"], "units.geojson"]
    )
    assert len(model.District.load(out).units) == 0
    assert (out / "README.md").read_text(encoding="utf-8") == "notes"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_import_refuses_a_directory_that_is_not_a_district(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.txt").write_text("precious", encoding="utf-8")
    result = run("import", *_import_args(), "--out", out, "--commit", code=2)
    assert "not a district directory" in result.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]


def test_import_failure_while_writing_leaves_nothing_half_written(tmp_path, monkeypatch):
    out = tmp_path / "d"
    run("import", *_import_args(), "--out", out, "--commit")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def failing_save(self, path):
        (Path(path) / model.LAYER_FILES["grids1"]).write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(model.District, "save", failing_save)
    result = run("import", *_import_args(), "--out", out, "--commit", code=2)
    assert "No space left on device" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    run("import", *_import_args(), "--out", tmp_path / "new", "--commit", code=2)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_import_with_errors_writes_nothing(tmp_path):
    broken = tmp_path / "grids2.geojson"
    shutil.copy(DATA / model.LAYER_FILES["grids2"], broken)
    drop_grid(broken, "320113005004005")
    out = tmp_path / "d"
    result = run("import", *_import_args(broken), "--out", out, "--commit", code=1)
    assert "gap" in result.stdout and "FAILED" in result.stdout
    assert "Nothing written" in result.stderr and "error: validation failed" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["grids2.geojson"]


def test_import_field_mapping(tmp_path):
    fc = json.loads((DATA / model.LAYER_FILES["grids2"]).read_text(encoding="utf-8"))
    for f in fc["features"]:
        p = f["properties"]
        f["properties"] = {"网格编码": p["code"], "网格名称": p["name"], "网格员": p["worker"]}
    src = tmp_path / "网格.geojson"
    src.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "d"
    args = ["--field", "code=网格编码", "--field", "name=网格名称", "--field", "worker=网格员"]
    run("import", src, *args, "--out", out, "--commit")
    g2 = model.District.load(out).grids2
    original = model.District.load(DATA).grids2
    assert list(g2["name"]) == list(original["name"])
    assert list(g2["worker"]) == list(original["worker"])
    assert list(g2["parent"]) == list(original["parent"])


def test_import_bad_field_option_is_exit_2(tmp_path):
    result = run(
        "import",
        DATA / model.LAYER_FILES["grids2"],
        "--out",
        tmp_path / "d",
        "--field",
        "code",
        code=2,
    )
    assert "NAME=SOURCEFIELD" in result.output
    result = run(
        "import",
        DATA / model.LAYER_FILES["grids2"],
        "--out",
        tmp_path / "d",
        "--field",
        "nope=x",
        code=2,
    )
    assert result.stderr.startswith("error: ") and "unknown field 'nope'" in result.stderr
    result = run("import", tmp_path / "missing.shp", "--out", tmp_path / "d", code=2)
    assert "no such file" in result.stderr
    assert not (tmp_path / "d").exists()


def _shift_to_gcj(src: Path, dest: Path) -> None:
    fc = json.loads(src.read_text(encoding="utf-8"))
    for f in fc["features"]:
        moved = crs.transform_geometry(shape(f["geometry"]), "wgs84", "gcj02")
        f["geometry"] = mapping(moved)
    dest.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


def test_import_gcj02_gives_the_same_grids(tmp_path, district):
    sources = []
    for key in ("grids1", "grids2"):
        dest = tmp_path / f"gcj_{key}.geojson"
        _shift_to_gcj(DATA / model.LAYER_FILES[key], dest)
        sources.append(dest)
    shifted = shape(json.loads(sources[1].read_text(encoding="utf-8"))["features"][0]["geometry"])
    moved = shapely.hausdorff_distance(
        crs.geometry_to_metric(shifted), crs.geometry_to_metric(district.grids2.geometry.iloc[0])
    )
    assert moved > 400  # the GCJ-02 offset here is about 535 m
    out = tmp_path / "d"
    run("import", *sources, "--src-crs", "gcj02", "--out", out, "--commit")
    back = model.District.load(out)
    for key in ("grids1", "grids2"):
        got, want = getattr(back, key), getattr(district, key)
        assert list(got["code"]) == list(want["code"])
        a = crs.geometry_to_metric(np.asarray(got.geometry.values))
        b = crs.geometry_to_metric(np.asarray(want.geometry.values))
        assert float(shapely.hausdorff_distance(a, b).max()) < 0.01


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize("fmt", io.FORMATS)
def test_export_each_format(tmp_path, fmt):
    suffix = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "csv": ".csv"}[fmt]
    path = tmp_path / f"grids2{suffix}"
    result = run("export", "grids2", "--out", path)
    assert f"grids2 (156 features) to {path}" in result.output
    back = io.read_layer(path)
    assert len(back) == 156
    assert sorted(map(str, back["code"])) == sorted(model.District.load(DATA).grids2["code"])


def test_export_format_option_and_units_csv(tmp_path):
    result = run("export", "units", "--out", tmp_path / "units", "--format", "csv")
    assert "units (1786 features)" in result.output
    with open(tmp_path / "units.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1786 and {"code", "grid", "lon", "lat"} <= set(rows[0])
    run("export", "outline", "--out", tmp_path / "outline.gpkg")
    assert len(io.read_layer(tmp_path / "outline.gpkg")) == 1


def test_export_bad_arguments(tmp_path):
    run("export", "roads", "--out", tmp_path / "x.geojson", code=2)
    result = run("export", "grids2", "--out", tmp_path / "x.txt", code=2)
    assert result.stderr.startswith("error: ") and "suffix" in result.stderr


# ---------------------------------------------------------------------- locate, one point
def test_locate_a_unit_point(units, locator, district):
    code, lon, lat, grid = units[0]
    out = run("locate", repr(lon), repr(lat)).output
    g2 = district.grid2(grid)
    g1 = district.grid1(g2["parent"])
    assert f"{grid} {g2['name']}" in out
    assert g2["worker"] in out and g2["worker_phone"] in out
    assert f"{g1['code']} {g1['name']}" in out and g1["leader"] in out and g1["office"] in out
    assert "m to the nearest grid boundary" in out


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09", "EPSG:4549"])
def test_locate_json_in_each_crs(units, locator, system):
    code, lon, lat, grid = units[1]
    x, y = crs.from_wgs84(lon, lat, system)
    answer = json.loads(run("locate", repr(x), repr(y), "--crs", system, "--json").output)
    assert answer["grid2"]["code"] == grid
    assert answer["grid1"]["code"] == grid[:12]
    assert answer["lon"] == pytest.approx(lon, abs=1e-9)
    assert answer["lat"] == pytest.approx(lat, abs=1e-9)
    assert answer["units"] == []
    if system != "wgs84":
        assert answer["input"]["crs"] == crs.normalize_crs(system)
    if system == "gcj02":
        assert crs.distance_m(lon, lat, x, y) > 400  # the twin really is elsewhere


def test_locate_nearest_units(units, locator):
    code, lon, lat, grid = units[2]
    answer = json.loads(run("locate", repr(lon), repr(lat), "--json", "--units", 4).output)
    hits = answer["units"]
    assert len(hits) == 4 and hits[0]["code"] == code and hits[0]["distance_m"] == 0
    assert [h["distance_m"] for h in hits] == sorted(h["distance_m"] for h in hits)
    text = run("locate", repr(lon), repr(lat), "--units", 2).output
    assert "Nearest units" in text and code in text


def test_locate_near_boundary_asks_for_confirmation(district, locator):
    ring = district.grids2.geometry.iloc[0].exterior
    lon, lat = ring.coords[5]
    answer = json.loads(run("locate", lon, lat, "--json").output)
    assert answer["match"] in ("edge", "vertex") and answer["needs_confirmation"] is True
    assert answer["candidates"] and answer["candidates"][0]["distance_m"] == 0
    text = run("locate", lon, lat).output
    assert "CONFIRM" in text and answer["candidates"][0]["code"] in text


def test_locate_negative_coordinates_are_coordinates(locator):
    text = run("locate", "-73.9", "40.7").output
    assert "outside the district" in text and "Nearest grid 320113005" in text
    answer = json.loads(run("locate", "--json", "-73.9", "-40.7").output)
    assert answer["match"] == "outside" and answer["nearest"]["code"].startswith("320113005")
    result = run("locate", "-200", "32", code=2)
    assert result.stderr == "error: lon -200.0 is out of range [-180, 180]\n"


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        ("118.93", "95", "lat 95.0 is out of range"),
        ("abc", "32.1", "lon must be a number, got 'abc'"),
        ("118.93", "nan", "lat must be a finite number"),
        ("1e30", "1e30", "outside the area"),
    ],
)
def test_locate_bad_coordinates_are_exit_2(lon, lat, message):
    args = ["--crs", "EPSG:4549"] if lon == "1e30" else []
    result = run("locate", lon, lat, *args, code=2)
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_locate_usage_errors():
    assert "No such option: --jsn" in run("locate", "--jsn", "1", code=2).output
    assert "unknown CRS 'mars'" in run("locate", "1", "2", "--crs", "mars", code=2).stderr
    assert "LON LAT" in run("locate", "118.93", code=2).output
    assert "--in" in run("locate", "--in", "x.csv", code=2).output
    assert "not both" in run("locate", "1", "2", "--in", "a.csv", "--out", "b.csv", code=2).output


def test_locate_on_overlapping_grids_is_exit_2(tmp_path):
    data = copy_data(tmp_path)
    fc_path = data / model.LAYER_FILES["grids2"]
    fc = json.loads(fc_path.read_text(encoding="utf-8"))
    twin = json.loads(json.dumps(fc["features"][0]))  # a second grid drawn over the first
    twin["properties"]["code"] = fc["features"][0]["properties"]["code"][:-3] + "999"
    fc["features"].append(twin)
    fc_path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    result = run("locate", "118.93", "32.11", "--data", data, code=2)
    assert result.stderr.startswith("error: second-level grids ") and "overlap" in result.stderr
    assert "geogrid validate" in result.stderr


# ---------------------------------------------------------------------- locate, bulk
def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_bulk_csv_with_bad_rows(tmp_path, units, locator):
    src = tmp_path / "calls.csv"
    picked = units[::9]
    with open(src, "w", encoding="utf-8-sig", newline="") as f:  # Excel's BOM
        w = csv.writer(f)
        w.writerow(["编号", "经度", "纬度", "备注"])
        for code, lon, lat, _ in picked:
            w.writerow([code, repr(lon), repr(lat), "ok"])
        w.writerow(["bad-text", "abc", "32.1", "x"])  # line len(picked) + 2
        w.writerow(["bad-empty", "118.93", "", "x"])
        w.writerow(["bad-range", "118.93", "95", "x"])
    out = tmp_path / "out" / "located.csv"
    result = run("locate", "--in", src, "--out", out, code=1)
    rows = _read_csv(out)
    assert list(rows[0])[:4] == ["编号", "经度", "纬度", "备注"]
    assert list(rows[0])[4:] == [*bulk.ANSWER_FIELDS, "error"]
    assert len(rows) == len(picked) + 3
    by_code = {code: grid for code, _, _, grid in picked}
    for row in rows[: len(picked)]:
        assert row["grid2_code"] == by_code[row["编号"]]
        assert row["grid1_code"] == row["grid2_code"][:12] and row["worker"]
        assert row["error"] == "" and row["match"] == "interior"
        assert row["needs_confirmation"] in ("true", "false")
    bad = {row["编号"]: row for row in rows[len(picked) :]}
    assert bad["bad-text"]["error"] == "经度 must be a number, got 'abc'"
    assert bad["bad-empty"]["error"] == "纬度 is empty"
    assert "out of range" in bad["bad-range"]["error"]
    assert all(row["grid2_code"] == "" for row in bad.values())
    first_bad = len(picked) + 2
    assert f"line {first_bad}: 经度 must be a number" in result.stderr
    assert f"Located {len(picked)} of {len(picked) + 3} rows" in result.stderr
    assert "3 with bad coordinates" in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["located.csv"]  # no temporary file left


def test_bulk_csv_all_located_gcj02_to_geojson(tmp_path, units, locator):
    src = tmp_path / "calls.csv"
    picked = units[1::17]
    with open(src, "w", encoding="utf-8", newline="") as f:  # no BOM, given column names
        w = csv.writer(f)
        w.writerow(["id", "E", "N"])
        for code, lon, lat, _ in picked:
            x, y = crs.from_wgs84(lon, lat, "gcj02")
            w.writerow([code, repr(x), repr(y)])
    out = tmp_path / "located.geojson"
    run("locate", "--in", src, "--out", out, "--crs", "GCJ-02", "--lon-col", "E", "--lat-col", "n")
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert len(fc["features"]) == len(picked)
    for feature, (code, lon, lat, grid) in zip(fc["features"], picked, strict=True):
        p = feature["properties"]
        assert p["id"] == code and p["grid2_code"] == grid and p["error"] is None
        assert isinstance(p["needs_confirmation"], bool)
        assert p["wgs84_lon"] == pytest.approx(lon, abs=1e-7)
        assert p["wgs84_lat"] == pytest.approx(lat, abs=1e-7)
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)


def test_bulk_geojson_round_trip(tmp_path, units, locator):
    picked = units[5::23]
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "n": i},
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
        }
        for i, (code, lon, lat, _) in enumerate(picked)
    ]
    features.append({"type": "Feature", "properties": {"code": "nowhere"}, "geometry": None})
    features.append(
        {
            "type": "Feature",
            "properties": {"code": "far"},
            "geometry": {"type": "Point", "coordinates": [-73.9, 40.7]},
        }
    )
    src = tmp_path / "points.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")

    out = tmp_path / "located.geojson"
    result = run("locate", "--in", src, "--out", out, code=1)
    assert "1 outside the district: feature" in result.stderr
    assert f"feature {len(picked) + 1}: the feature has no geometry" in result.stderr
    got = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(got) == len(features)
    for feature, original, (_, _, _, grid) in zip(got, features, picked, strict=False):
        assert feature["geometry"] == original["geometry"]
        assert feature["properties"]["n"] == original["properties"]["n"]
        assert feature["properties"]["grid2_code"] == grid
    assert got[-2]["properties"]["error"] == "the feature has no geometry"
    assert got[-1]["properties"]["match"] == "outside"
    assert got[-1]["properties"]["grid2_code"] is None

    out_csv = tmp_path / "located.csv"
    run("locate", "--in", src, "--out", out_csv, code=1)
    rows = _read_csv(out_csv)
    assert list(rows[0])[:4] == ["code", "n", "lon", "lat"]
    assert [r["grid2_code"] for r in rows[: len(picked)]] == [p[3] for p in picked]
    assert float(rows[0]["lon"]) == picked[0][1]


def test_bulk_gb18030_csv_and_a_legacy_crs_member(tmp_path, units, locator):
    picked = units[3::31]
    src = tmp_path / "excel.csv"  # Excel on Chinese Windows saves GBK
    lines = ["编号,经度,纬度"] + [f"{code},{lon!r},{lat!r}" for code, lon, lat, _ in picked]
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    out = tmp_path / "located.csv"
    run("locate", "--in", src, "--out", out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 for Excel
    assert [r["grid2_code"] for r in _read_csv(out)] == [p[3] for p in picked]

    legacy = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {"code": code},
            "geometry": {"type": "Point", "coordinates": list(crs.to_metric(lon, lat))},
        }
        for code, lon, lat, _ in picked
    ]
    src = tmp_path / "qgis.geojson"
    fc = {"type": "FeatureCollection", "crs": legacy, "features": features}
    src.write_text(json.dumps(fc), encoding="utf-8")
    out = tmp_path / "located.geojson"
    run("locate", "--in", src, "--out", out)  # no --crs: the file's own
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["crs"] == legacy and got["summary"]["located"] == len(picked)
    for feature, original, (_, lon, lat, grid) in zip(
        got["features"], features, picked, strict=True
    ):
        assert feature["id"] == original["id"] and feature["geometry"] == original["geometry"]
        assert feature["properties"]["grid2_code"] == grid
        assert feature["properties"]["wgs84_lon"] == pytest.approx(lon, abs=1e-7)
        assert feature["properties"]["wgs84_lat"] == pytest.approx(lat, abs=1e-7)
        assert isinstance(feature["properties"]["candidates"], list)
    result = run("locate", "--in", src, "--out", out, "--crs", "gcj02", code=2)
    assert "qgis.geojson: the CRS given (gcj02) and the file's crs member" in result.stderr


def test_bulk_multipoint(tmp_path, locator):
    src = tmp_path / "points.json"
    src.write_text(json.dumps({"type": "MultiPoint", "coordinates": [[118.93, 32.11], [1, 2]]}))
    out = tmp_path / "located.csv"
    result = run("locate", "--in", src, "--out", out, code=1)
    assert "1 outside the district: point 2" in result.stderr
    rows = _read_csv(out)
    assert [(r["index"], r["lon"], r["grid2_code"]) for r in rows] == [
        ("0", "118.93", "320113005007007"),
        ("1", "1", ""),
    ]


def test_bulk_unusable_input_is_exit_2(tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("name,address\na,b\n", encoding="utf-8")
    result = run("locate", "--in", src, "--out", tmp_path / "o.csv", code=2)
    assert "no longitude column" in result.stderr
    result = run("locate", "--in", src, "--out", tmp_path / "o.csv", "--lon-col", "x1", code=2)
    assert "no column 'x1'" in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"lon,lat,name\n118.93,32.11,\xff\xfe\xfa\n")
    result = run("locate", "--in", latin, "--out", tmp_path / "o.csv", code=2)
    assert "latin.csv: the CSV is neither UTF-8 nor GB18030 text" in result.stderr
    result = run("locate", "--in", tmp_path / "none.csv", "--out", tmp_path / "o.csv", code=2)
    assert result.stderr.startswith("error: ") and "none.csv" in result.stderr
    assert (
        "--out must be .csv"
        in run("locate", "--in", src, "--out", tmp_path / "o.txt", code=2).stderr
    )
    assert not (tmp_path / "o.csv").exists()
