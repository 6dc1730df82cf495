"""Reading boundary files and writing layers: formats, field mapping, CRSs, codes, errors."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import box

from geogrid import crs, io, model
from geogrid.errors import CRSError, DataError, InputError

FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "csv": ".csv"}
PARENTS = ("320113005001", "320113005002")
TOL = 1e-7  # degrees, about 1 cm


# ---------------------------------------------------------------------- fixture
def _lattice():
    """16 squares of 500 m in EPSG:4549 near (118.93, 32.11), as lon/lat, row by row."""
    x0, y0 = (round(v, -2) for v in crs.to_metric(118.93, 32.11))
    cells = [
        box(x0 + i * 500, y0 + j * 500, x0 + (i + 1) * 500, y0 + (j + 1) * 500)
        for j in range(4)
        for i in range(4)
    ]
    return list(crs.geometry_from_metric(np.array(cells, dtype=object)))


@pytest.fixture
def district() -> model.District:
    cells = _lattice()
    rows2, geoms2 = [], []
    for k, geom in enumerate(cells):
        parent = PARENTS[0] if k % 4 < 2 else PARENTS[1]
        n = sum(1 for r in rows2 if r["parent"] == parent) + 1
        rows2.append(
            {
                "code": f"{parent}{n:03d}",
                "name": f"第{k + 1}网格",
                "parent": parent,
                "kind": "住宅区" if k % 3 else None,
                "worker": f"网格员{k}",
                "worker_phone": f"139{k:08d}" if k % 5 else None,
            }
        )
        geoms2.append(geom)
    rows1, geoms1 = [], []
    for i, parent in enumerate(PARENTS):
        rows1.append(
            {
                "code": parent,
                "name": ["仙林社区", "仙鹤社区"][i],
                "parent": "320113005",
                "leader": ["王芳", "李强"][i],
                "leader_title": "街道党工委委员",
                "leader_phone": f"1380000000{i}",
                "office": "仙林街道社会治理服务中心",
                "office_phone": None if i else "025-85790000",
            }
        )
        kids = [g for r, g in zip(rows2, geoms2, strict=True) if r["parent"] == parent]
        geoms1.append(shapely.coverage_union_all(kids))
    units, points = [], []
    for k in (0, 5, 10, 15):
        grid = rows2[k]["code"]
        units.append(
            {
                "code": f"{grid}{k + 1:04d}",
                "name": f"仙林{k}号小区",
                "category": "住宅小区",
                "address": f"仙林大道{k + 1}号",
                "head": "张三" if k else None,
                "head_phone": f"1370000{k:04d}",
                "grid": grid,
                "households": 120 + k if k != 5 else None,
                "residents": 300 + k,
            }
        )
        points.append(cells[k].centroid)
    outline = shapely.coverage_union_all(cells)
    return model.District(
        code="320113005",
        name="仙林街道",
        grids1=model._frame(rows1, model.GRID1_COLUMNS, geoms1),
        grids2=model._frame(rows2, model.GRID2_COLUMNS, geoms2),
        units=model._frame(units, model.UNIT_COLUMNS, points),
        outline=outline,
        meta={"source": "测试"},
    )


def _attrs(frame, columns):
    """Attribute rows with missing values as None and integers as int."""
    out = []
    for rec in frame[columns].to_dict("records"):
        out.append({k: model.plain(v) for k, v in rec.items()})
    return out


def _same_geometry(a, b, tol=TOL) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=tol))


def _assert_layer_equal(got, want, columns):
    assert _attrs(got, columns) == _attrs(want, columns)
    assert len(got) == len(want)
    for g, w in zip(got.geometry, want.geometry, strict=True):
        assert _same_geometry(g, w), (g, w)


def _write_fc(path, features):
    fc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_layer_round_trips_through_every_format(district, tmp_path, fmt):
    paths = {}
    for layer in io.LAYERS:
        paths[layer] = io.export_layer(district, layer, tmp_path / f"{layer}{FORMATS[fmt]}")
        assert paths[layer].exists()
    back = io.import_district(
        [paths["grids1"], paths["grids2"]], units=paths["units"], outline=paths["outline"]
    )
    assert (back.code, back.name) == ("320113005", "仙林街道")
    assert back.meta == {"source": "测试"}
    assert _same_geometry(back.outline, district.outline)
    _assert_layer_equal(back.grids1, district.grids1, model.GRID1_COLUMNS)
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)
    _assert_layer_equal(back.units, district.units, model.UNIT_COLUMNS)
    assert all(isinstance(c, str) and len(c) == 19 for c in back.units["code"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_explicit_format_adds_its_suffix(district, tmp_path, fmt):
    path = io.export_layer(district, "grids2", tmp_path / "grids.v1", fmt=fmt.upper())
    assert path == tmp_path / f"grids.v1{FORMATS[fmt]}"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".v1")[0].startswith("grids.v1")
    back = io.import_district(path)
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)
    assert io.export_layer(district, "grids2", tmp_path / "g.json", fmt="geojson").name == "g.json"


def test_all_layers_in_one_geopackage(district, tmp_path):
    path = tmp_path / "xianlin.gpkg"
    for layer in io.LAYERS:
        io.export_layer(district, layer, path)
    io.export_layer(district, "grids2", path)  # replacing a layer keeps the others
    assert sorted(pyogrio.list_layers(path)[:, 0]) == sorted(io.LAYERS)
    back = io.import_district(path, units=path, outline=path)
    _assert_layer_equal(back.grids1, district.grids1, model.GRID1_COLUMNS)
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)
    _assert_layer_equal(back.units, district.units, model.UNIT_COLUMNS)
    only2 = io.import_district(path, layer="grids2")
    assert len(only2.grids2) == 16 and list(only2.grids1["code"]) == list(PARENTS)
    assert only2.grids1["name"].isna().all()  # built from the grids, not read


def test_geojson_export_is_rfc7946_utf8(district, tmp_path):
    path = io.export_layer(district, "grids1", tmp_path / "g1.geojson")
    text = path.read_text(encoding="utf-8")
    assert "仙林社区" in text and "\\u" not in text
    fc = json.loads(text)
    assert "crs" not in fc
    props = fc["features"][0]["properties"]
    assert props["code"] == "320113005001" and props["level"] == 1
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 118.9 < lon < 119.0 and 32.0 < lat < 32.2
    assert all(len(repr(v).split(".")[-1]) <= 7 for v in (lon, lat))


def test_shapefile_export_is_utf8_with_short_reversible_names(district, tmp_path):
    path = io.export_layer(district, "grids1", tmp_path / "g1.shp")
    assert (tmp_path / "g1.cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    assert (tmp_path / "g1.prj").exists()
    fields = list(pyogrio.read_info(path)["fields"])
    assert fields == [
        "code",
        "name",
        "level",
        "parent",
        "leader",
        "leader_ttl",
        "leader_tel",
        "office",
        "office_tel",
    ]
    assert all(len(f.encode()) <= 10 for f in fields)
    assert set(io.SHAPEFILE_NAMES.values()) >= set(fields) - set(model.GRID1_COLUMNS) - {"level"}
    raw = gpd.read_file(path, engine="pyogrio")
    assert raw["leader_ttl"].iloc[0] == "街道党工委委员"


def test_shapefile_export_shortens_other_long_names_uniquely(district, tmp_path):
    district.meta = {"网格管理办公室": "甲", "网格管理办公电话": "乙", "population_total": 5}
    path = io.export_layer(district, "outline", tmp_path / "o.shp")
    fields = list(pyogrio.read_info(path)["fields"])
    assert fields == ["code", "name", "网格管", "网格_1", "population"]
    assert all(len(f.encode()) <= 10 for f in fields)


def test_csv_export_points_as_lon_lat_polygons_as_wkt(district, tmp_path):
    units = io.export_layer(district, "units", tmp_path / "u.csv").read_bytes()
    assert units.startswith(b"\xef\xbb\xbf")
    header = units[3:].decode("utf-8").splitlines()[0].split(",")
    assert header == [*model.UNIT_COLUMNS, "lon", "lat"]
    assert "仙林0号小区" in units.decode("utf-8")
    grids = io.export_layer(district, "grids2", tmp_path / "g.csv").read_bytes()
    lines = grids[3:].decode("utf-8").splitlines()
    assert lines[0].split(",")[-1] == "wkt" and "POLYGON ((118.9" in lines[1]


def test_export_of_empty_units_layer(district, tmp_path):
    district.units = model.empty_layer("units")
    for fmt, suffix in FORMATS.items():
        path = io.export_layer(district, "units", tmp_path / f"u{suffix}")
        assert path.exists(), fmt
    assert list(pyogrio.read_info(tmp_path / "u.gpkg")["fields"]) == model.UNIT_COLUMNS
    with pytest.raises(DataError, match="no features"):
        io.read_layer(tmp_path / "u.gpkg")


# ---------------------------------------------------------------------- CRSs
def test_shapefile_in_epsg4549_imports_to_lon_lat(district, tmp_path):
    path = tmp_path / "metric.shp"
    frame = io._export_frame(district, "grids2").to_crs(4549)
    assert frame.total_bounds[0] > 390_000  # really metres
    frame.rename(columns=io.SHAPEFILE_NAMES).to_file(path, engine="pyogrio", encoding="UTF-8")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4549"
    back = io.import_district(path)
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)


def test_geopackage_in_cgcs2000_imports(district, tmp_path):
    path = tmp_path / "cgcs.gpkg"
    io._export_frame(district, "grids2").set_crs(4490, allow_override=True).to_file(
        path, engine="pyogrio"
    )
    assert pyogrio.read_info(path)["crs"] == "EPSG:4490"
    back = io.import_district(path)
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)


def test_src_crs_epsg_overrides_the_file(district, tmp_path):
    path = tmp_path / "mislabelled.gpkg"
    frame = io._export_frame(district, "grids2").to_crs(4549)
    frame.set_crs(4326, allow_override=True).to_file(path, engine="pyogrio")
    with pytest.raises(DataError, match="not longitude/latitude"):
        io.import_district(path)
    back = io.import_district(path, src_crs="EPSG:4549")
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_web_map_coordinates_convert_back_exactly(district, tmp_path, system):
    shifted = crs.transform_geometry(np.asarray(district.grids2.geometry.values), "wgs84", system)
    features = [
        _feature({"code": code, "name": name}, geom)
        for code, name, geom in zip(
            district.grids2["code"], district.grids2["name"], shifted, strict=True
        )
    ]
    path = _write_fc(tmp_path / f"{system}.geojson", features)
    metric = crs.geometry_to_metric(np.asarray(district.grids2.geometry.values))
    naive = io.import_district(path)
    offset = shapely.hausdorff_distance(
        crs.geometry_to_metric(np.asarray(naive.grids2.geometry.values)), metric
    )
    assert (offset > 100).all()  # the shift is real: hundreds of metres
    back = io.import_district(path, src_crs=system)
    error = shapely.hausdorff_distance(
        crs.geometry_to_metric(np.asarray(back.grids2.geometry.values)), metric
    )
    assert (error < 0.01).all(), error.max()


def test_unknown_src_crs_is_a_crs_error(district, tmp_path):
    path = io.export_layer(district, "grids2", tmp_path / "g.geojson")
    with pytest.raises(CRSError):
        io.import_district(path, src_crs="mars2000")


def test_geojson_in_metres_without_crs_member_is_rejected(tmp_path):
    path = _write_fc(
        tmp_path / "m.geojson",
        [_feature({"code": "320113005001001"}, box(399000, 3554500, 399500, 3555000))],
    )
    with pytest.raises(DataError, match="pass src_crs"):
        io.import_district(path)
    back = io.import_district(path, src_crs="EPSG:4549")
    lon, lat = back.grids2.geometry.iloc[0].centroid.coords[0]
    assert 118.92 < lon < 118.94 and 32.10 < lat < 32.12


def test_shapefile_without_prj_needs_src_crs(district, tmp_path):
    path = io.export_layer(district, "grids2", tmp_path / "g.shp")
    (tmp_path / "g.prj").unlink()
    with pytest.raises(DataError, match="src_crs") as err:
        io.import_district(path)
    assert str(path) in str(err.value)
    back = io.import_district(path, src_crs="EPSG:4326")
    _assert_layer_equal(back.grids2, district.grids2, model.GRID2_COLUMNS)


# ---------------------------------------------------------------------- fields, levels, codes
def test_chinese_field_names_are_mapped(district, tmp_path):
    features = []
    for frame, level in ((district.grids1, "一级"), (district.grids2, "二级")):
        for rec, geom in zip(frame.to_dict("records"), frame.geometry, strict=True):
            props = {"网格编码": rec["code"], "网格名称": rec["name"], "层级": level}
            props["上级编码"] = rec["parent"]
            if level == "二级":
                props["网格员"] = rec["worker"]
            features.append(_feature(props, geom))
    path = tmp_path / "中文.gpkg"
    gpd.GeoDataFrame.from_features(features, crs=4326).to_file(path, engine="pyogrio")
    mapping = {"code": "网格编码", "name": "网格名称", "level": "层级", "parent": "上级编码"}
    back = io.import_district(path, fields={**mapping, "worker": "网格员"})
    _assert_layer_equal(back.grids1, district.grids1, ["code", "name", "parent"])
    _assert_layer_equal(back.grids2, district.grids2, ["code", "name", "parent", "worker"])


def test_unit_fields_are_mapped(district, tmp_path):
    grids = io.export_layer(district, "grids2", tmp_path / "g.geojson")
    features = [
        _feature({"编码": r["code"], "名称": r["name"], "户数": r["households"]}, g)
        for r, g in zip(district.units.to_dict("records"), district.units.geometry, strict=True)
    ]
    units = _write_fc(tmp_path / "u.geojson", features)
    back = io.import_district(
        grids, units=units, unit_fields={"code": "编码", "name": "名称", "households": "户数"}
    )
    _assert_layer_equal(back.units, district.units, ["code", "name", "households"])
    assert list(back.units["grid"]) == [c[:15] for c in district.units["code"]]
    assert back.units["address"].isna().all()


def test_mapping_to_none_ignores_a_field(tmp_path):
    path = _write_fc(
        tmp_path / "g.geojson",
        [_feature({"code": "320113005001001", "level": "网格"}, box(118.93, 32.11, 118.94, 32.12))],
    )
    with pytest.raises(DataError, match="level"):
        io.import_district(path)
    assert len(io.import_district(path, fields={"level": None}).grids2) == 1


def test_level_and_parent_inferred_from_codes(tmp_path):
    a, b = box(118.93, 32.11, 118.935, 32.115), box(118.935, 32.11, 118.94, 32.115)
    c = box(118.93, 32.115, 118.94, 32.12)
    path = _write_fc(
        tmp_path / "g.geojson",
        [
            _feature({"code": "320113005001", "name": "一社区"}, shapely.union_all([a, b])),
            _feature({"code": "320113005001001", "name": "一"}, a),
            _feature({"code": "320113005001002", "name": "二"}, b),
            _feature({"code": "320113005002001", "name": "三"}, c),
        ],
    )
    d = io.import_district(path)
    assert d.code == "320113005"
    assert list(d.grids1["code"]) == ["320113005001", "320113005002"]
    assert list(d.grids1["parent"]) == ["320113005", "320113005"]
    assert list(d.grids1["name"]) == ["一社区", None]
    assert list(d.grids2["parent"]) == ["320113005001", "320113005001", "320113005002"]


def test_level_field_values_and_level_argument(tmp_path):
    geom = box(118.93, 32.11, 118.94, 32.12)
    path = _write_fc(
        tmp_path / "g.geojson",
        [
            _feature({"code": "A1", "level": 1, "parent": "320113005"}, geom),
            _feature({"code": "A1-1", "level": "2", "parent": "A1"}, geom),
            _feature({"code": "A1-2", "level": "二级", "parent": "A1"}, geom),
            _feature({"code": "A1-3", "level": None, "parent": "A1"}, geom),
        ],
    )
    with pytest.raises(DataError, match=r"feature 3 \(code 'A1-3'\)"):
        io.import_district(path)
    d = io.import_district(path, level=2)
    assert list(d.grids1["code"]) == ["A1"]
    assert list(d.grids2["code"]) == ["A1-1", "A1-2", "A1-3"]
    assert list(d.grids2["parent"]) == ["A1"] * 3
    with pytest.raises(InputError, match="level"):
        io.import_district(path, level=3)


def test_level1_built_as_union_of_level2(district, tmp_path):
    path = io.export_layer(district, "grids2", tmp_path / "g2.gpkg")
    d = io.import_district(path, district_code="320113005", district_name="仙林街道")
    assert (d.code, d.name) == ("320113005", "仙林街道")
    assert list(d.grids1["code"]) == list(PARENTS)
    assert list(d.grids1["parent"]) == ["320113005"] * 2
    for got, want in zip(d.grids1.geometry, district.grids1.geometry, strict=True):
        assert got.geom_type == "Polygon"
        assert crs.area_m2(got.symmetric_difference(want)) < 1e-3
        assert abs(crs.area_m2(got) - 8 * 500 * 500) < 1.0


def test_numeric_code_columns_stay_exact_strings(tmp_path):
    geom = box(118.93, 32.11, 118.94, 32.12)
    pt = shapely.Point(118.935, 32.115)
    grids = tmp_path / "g.geojson"
    grids.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"code":320113005001001,"worker_phone":13912345678},"geometry":'
        + json.dumps(shapely.geometry.mapping(geom))
        + "}]}",
        encoding="utf-8",
    )
    units = tmp_path / "u.shp"
    frame = gpd.GeoDataFrame(
        {"code": np.array([3201130050010010001], dtype=np.int64), "households": [7]},
        geometry=[pt],
        crs=4326,
    )
    frame.to_file(units, engine="pyogrio")
    # GDAL alone would read this 19-digit numeric .dbf field as a float
    assert pyogrio.read_info(units)["dtypes"][0] == "float64"
    d = io.import_district(grids, units=units)
    assert list(d.grids2["code"]) == ["320113005001001"]
    assert list(d.grids2["worker_phone"]) == ["13912345678"]
    assert list(d.units["code"]) == ["3201130050010010001"]
    assert list(d.units["grid"]) == ["320113005001001"]
    assert list(d.units["households"]) == [7]

    floats = tmp_path / "f.gpkg"
    gpd.GeoDataFrame({"code": [320113005001001.0]}, geometry=[geom], crs=4326).to_file(
        floats, engine="pyogrio"
    )
    assert pyogrio.read_info(floats)["dtypes"][0] == "float64"
    assert list(io.import_district(floats).grids2["code"]) == ["320113005001001"]

    inexact = tmp_path / "u.gpkg"
    gpd.GeoDataFrame({"code": [3201130050010010001.0]}, geometry=[pt], crs=4326).to_file(
        inexact, engine="pyogrio"
    )
    with pytest.raises(DataError, match="too large to be exact"):
        io.import_district(floats, units=inexact)


def test_single_part_multipolygon_becomes_polygon(tmp_path):
    a, b = box(118.93, 32.11, 118.935, 32.115), box(118.94, 32.11, 118.945, 32.115)
    path = _write_fc(
        tmp_path / "g.geojson",
        [
            _feature({"code": "320113005001001"}, shapely.MultiPolygon([a])),
            _feature({"code": "320113005001002"}, shapely.MultiPolygon([a, b])),
        ],
    )
    d = io.import_district(path)
    assert list(d.grids2.geom_type) == ["Polygon", "MultiPolygon"]
    assert d.grids2.geometry.iloc[0].equals(a)


def test_grids_from_several_files(district, tmp_path):
    first = io.export_layer(district, "grids2", tmp_path / "a.geojson")
    d = io.import_district([first, io.export_layer(district, "grids1", tmp_path / "b.shp")])
    _assert_layer_equal(d.grids1, district.grids1, model.GRID1_COLUMNS)
    _assert_layer_equal(d.grids2, district.grids2, model.GRID2_COLUMNS)


# ---------------------------------------------------------------------- other sources
def test_zipped_shapefile(district, tmp_path):
    io.export_layer(district, "grids2", tmp_path / "grids.shp")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            zf.write(tmp_path / f"grids.{ext}", f"grids.{ext}")
    _assert_layer_equal(io.import_district(archive).grids2, district.grids2, model.GRID2_COLUMNS)


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_without_cpg_guesses_chinese_encoding(tmp_path, encoding):
    path = tmp_path / "g.shp"
    frame = gpd.GeoDataFrame(
        {"编码": ["320113005001001"], "名称": ["仙林一网格"]},
        geometry=[box(118.93, 32.11, 118.94, 32.12)],
        crs=4326,
    )
    frame.to_file(path, engine="pyogrio", encoding=encoding)
    (tmp_path / "g.cpg").unlink()
    d = io.import_district(path, fields={"code": "编码", "name": "名称"})
    assert list(d.grids2["name"]) == ["仙林一网格"]


def test_read_layer_returns_source_columns_in_wgs84(district, tmp_path):
    path = tmp_path / "metric.gpkg"
    io._export_frame(district, "units").to_crs(4549).to_file(path, engine="pyogrio")
    frame = io.read_layer(path)
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*model.UNIT_COLUMNS, "geometry"]
    for got, want in zip(frame.geometry, district.units.geometry, strict=True):
        assert _same_geometry(got, want)


# ---------------------------------------------------------------------- errors
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file") as err:
        io.import_district(tmp_path / "nope.geojson")
    assert "nope.geojson" in str(err.value)


@pytest.mark.parametrize("name", ["grids.geojson", "grids.gpkg", "grids.shp", "grids.txt"])
def test_garbage_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01garbage, not a map\xff" * 20)
    with pytest.raises(DataError) as err:
        io.import_district(path)
    assert str(path) in str(err.value)


def test_wrong_file_type_and_empty_file(tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("code,name\n320113005001001,仙林\n", encoding="utf-8")
    with pytest.raises(DataError, match="no geometry"):
        io.import_district(table)
    empty = _write_fc(tmp_path / "empty.geojson", [])
    with pytest.raises(DataError, match="no features"):
        io.import_district(empty)
    blank = tmp_path / "blank.geojson"
    blank.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="blank.geojson"):
        io.import_district(blank)


def test_unknown_mapped_field_lists_the_files_fields(district, tmp_path):
    path = io.export_layer(district, "grids2", tmp_path / "g.geojson")
    with pytest.raises(DataError, match="网格编码") as err:
        io.import_district(path, fields={"code": "网格编码"})
    assert "code, name, level, parent, kind, worker, worker_phone" in str(err.value)
    with pytest.raises(InputError, match="unknown field 'colour'"):
        io.import_district(path, fields={"colour": "颜色"})


def test_bad_level_value_names_the_feature(tmp_path):
    geom = box(118.93, 32.11, 118.94, 32.12)
    path = _write_fc(
        tmp_path / "g.geojson",
        [
            _feature({"code": "320113005001001", "level": "二级"}, geom),
            _feature({"code": "320113005001002", "level": "三级"}, geom),
        ],
    )
    with pytest.raises(DataError, match=r"feature 1 \(code '320113005001002'\).*'三级'"):
        io.import_district(path)


def test_bad_code_length_without_level(tmp_path):
    path = _write_fc(
        tmp_path / "g.geojson",
        [_feature({"code": "3201130050011"}, box(118.93, 32.11, 118.94, 32.12))],
    )
    with pytest.raises(DataError, match="13-character code"):
        io.import_district(path)


def test_several_layers_need_a_layer_name(district, tmp_path):
    path = tmp_path / "misc.gpkg"
    for name in ("a", "b"):
        io._export_frame(district, "grids2").to_file(path, layer=name, engine="pyogrio")
    with pytest.raises(DataError, match=r"several layers \(a, b\)"):
        io.import_district(path)
    with pytest.raises(DataError, match="no layer 'c'"):
        io.import_district(path, layer="c")
    assert len(io.import_district(path, layer="b").grids2) == 16


def test_unknown_export_format_and_layer(district, tmp_path):
    with pytest.raises(InputError, match="kml"):
        io.export_layer(district, "grids2", tmp_path / "g.kml")
    with pytest.raises(InputError, match="unknown export format"):
        io.export_layer(district, "grids2", tmp_path / "g.geojson", fmt="kml")
    with pytest.raises(InputError, match="unknown layer"):
        io.export_layer(district, "grids3", tmp_path / "g.geojson")
    district.outline = None
    with pytest.raises(InputError, match="no outline"):
        io.export_layer(district, "outline", tmp_path / "o.geojson")
    assert not list(tmp_path.iterdir())


def test_households_must_be_whole_numbers(district, tmp_path):
    grids = io.export_layer(district, "grids2", tmp_path / "g.geojson")
    units = _write_fc(
        tmp_path / "u.geojson",
        [
            _feature(
                {"code": "3201130050010010001", "households": "many"}, shapely.Point(118.93, 32.11)
            )
        ],
    )
    with pytest.raises(DataError, match="'many'"):
        io.import_district(grids, units=units)


def test_deeply_nested_properties_are_refused(tmp_path):
    """A GeoJSON property nested deeper than MAX_DEPTH levels (the feature and its properties
    counted) is a DataError naming the feature and the field, however deep (pyogrio leaves
    values too deep to decode as text)."""
    from geogrid.nesting import MAX_DEPTH

    square = [
        [118.93, 32.11],
        [118.935, 32.11],
        [118.935, 32.115],
        [118.93, 32.115],
        [118.93, 32.11],
    ]
    geometry = json.dumps({"type": "Polygon", "coordinates": [square]})

    def write(levels: int):
        value = '{"a":' * levels + "1" + "}" * levels
        props = f'{{"code":"320113005001001","extra":{value}}}'
        text = f'{{"type":"Feature","geometry":{geometry},"properties":{props}}}'
        path = tmp_path / f"grids{levels}.geojson"
        path.write_text(f'{{"type":"FeatureCollection","features":[{text}]}}', encoding="utf-8")
        return path

    assert len(io.read_layer(write(MAX_DEPTH - 2))) == 1
    for levels in (MAX_DEPTH - 1, 1000):
        with pytest.raises(
            DataError,
            match=f"feature 1: property 'extra' nests arrays and objects deeper than {MAX_DEPTH} levels",
        ):
            io.import_district(write(levels))
