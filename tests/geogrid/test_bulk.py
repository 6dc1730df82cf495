"""Bulk location (geogrid.bulk): reading CSV and GeoJSON, errors with their place in the file,
limits, answers equal to Locator.locate, and writing the answers back."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from geogrid import bulk, crs
from geogrid.errors import CoordinateError, CRSError, DataError, InputError
from geogrid.locate import Locator
from geogrid.model import COORD_DECIMALS, District, default_data_dir

POINT = (118.93, 32.11)
POINT_GRID = "320113005007007"
#: Some of the fields, as a caller chooses them.
SOME_FIELDS = ("grid2_code", "match", "distance_m", "needs_confirmation", "candidates", "error")


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator(District.load(default_data_dir()))


@pytest.fixture(scope="module")
def district(locator) -> District:
    return locator.district


def random_points(district, n, seed):
    """Points over the district's bounding box and around it: inside, outside, near edges."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = district.grids2.total_bounds
    xs = rng.uniform(minx - 0.005, maxx + 0.005, n).tolist()
    ys = rng.uniform(miny - 0.005, maxy + 0.005, n).tolist()
    ring = district.grids2.geometry.iloc[0].exterior.coords  # on edges and vertices
    xs += [ring[3][0], (ring[4][0] + ring[5][0]) / 2]
    ys += [ring[3][1], (ring[4][1] + ring[5][1]) / 2]
    return xs, ys


def expected(loc) -> dict:
    """Every field of the answer for one point, straight from its Location."""
    g2, g1 = loc.grid2, loc.grid1
    return {
        "grid2_code": g2.code if g2 else None,
        "grid2_name": g2.name if g2 else None,
        "grid1_code": g1.code if g1 else None,
        "grid1_name": g1.name if g1 else None,
        "worker": g2.people.get("worker") if g2 else None,
        "worker_phone": g2.people.get("worker_phone") if g2 else None,
        "match": loc.match,
        "distance_m": round(loc.distance_m, 2),
        "needs_confirmation": loc.needs_confirmation,
        "candidates": [
            {"code": c.grid.code, "distance_m": round(c.distance_m, 2)} for c in loc.candidates
        ],
        "wgs84_lon": round(loc.lon, COORD_DECIMALS),
        "wgs84_lat": round(loc.lat, COORD_DECIMALS),
        "error": None,
    }


def csv_of(header, rows) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def written_csv(results, **kw) -> list[dict]:
    out = io.StringIO()
    bulk.write_csv(results, out, **kw)
    return list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"))))


# ============================================================================ CSV: columns
@pytest.mark.parametrize(
    ("header", "columns"),
    [
        (["id", "lon", "lat"], ("lon", "lat")),
        (["id", "Lng", "LAT"], ("Lng", "LAT")),
        (["long", "latitude"], ("long", "latitude")),  # "long" came from the API's list
        (["Longitude", "Latitude"], ("Longitude", "Latitude")),
        ([" X ", " Y "], (" X ", " Y ")),
        (["名称", "经度", "纬度"], ("经度", "纬度")),
        (["x", "lon", "y", "lat"], ("lon", "lat")),  # by the order of the names, not columns
    ],
)
def test_coordinate_columns_found_by_name(header, columns):
    points = bulk.read_csv(csv_of(header, [["118.93"] * len(header)]))
    assert points.columns == columns


def test_one_list_of_column_names_for_bulk_and_import():
    from geogrid import io as gio

    assert bulk.LON_NAMES == ("lon", "lng", "long", "longitude", "x", "经度")
    assert bulk.LAT_NAMES == ("lat", "latitude", "y", "纬度")
    assert (gio.CSV_X_NAMES, gio.CSV_Y_NAMES) == (bulk.LON_NAMES, bulk.LAT_NAMES)


def test_coordinate_columns_given_by_the_caller():
    text = csv_of(["id", "E", "N", "lat"], [["a", "118.93", "32.11", "9"]])
    points = bulk.read_csv(text, lon_column="E", lat_column="n")  # case does not matter
    assert points.columns == ("E", "N")
    assert (points.xs.tolist(), points.ys.tolist()) == ([118.93], [32.11])
    with pytest.raises(bulk.ColumnNotFound, match=r"no column 'east'; the columns are: id, E"):
        bulk.read_csv(text, lon_column="east")
    with pytest.raises(bulk.ColumnNotFound, match="both 'E'"):
        bulk.read_csv(text, lon_column="E", lat_column="E")


def test_missing_coordinate_columns_are_named():
    with pytest.raises(bulk.ColumnNotFound) as exc:
        bulk.read_csv("name,address\na,b\n")
    message = exc.value.message
    assert message.startswith("no longitude column (looked for lon, lng, long, longitude, x, 经度)")
    assert "lon and lat (or x and y)" in message and message.endswith("it has: name, address")
    with pytest.raises(bulk.ColumnNotFound, match="no latitude column"):
        bulk.read_csv("lon,address\n1,b\n")
    wide = ",".join(f"column{i}" for i in range(50))
    with pytest.raises(bulk.ColumnNotFound, match="column19 and 30 more$"):
        bulk.read_csv(wide + "\n")
    assert issubclass(bulk.ColumnNotFound, DataError)


# ============================================================================ CSV: encodings
def test_utf8_with_and_without_bom_and_text():
    text = "名称,经度,纬度\n仙林,118.93,32.11\n"
    plain = bulk.read_csv(text.encode("utf-8"))
    marked = bulk.read_csv(text.encode("utf-8-sig"))
    from_text = bulk.read_csv("\ufeff" + text)
    for points, bom in ((plain, False), (marked, True), (from_text, True)):
        assert points.header == ["名称", "经度", "纬度"] and points.rows == [
            ["仙林", "118.93", "32.11"]
        ]
        assert points.bom is bom


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb18030_as_excel_saves_it_on_chinese_windows(encoding):
    points = bulk.read_csv("名称,经度,纬度\n仙林街道,118.93,32.11\n".encode(encoding))
    assert points.columns == ("经度", "纬度") and points.rows[0][0] == "仙林街道"
    assert points.bom is False and not points.errors


def test_other_bytes_are_a_clear_data_error():
    with pytest.raises(DataError, match=r"neither UTF-8 nor GB18030 text \(not UTF-8 from byte 17"):
        bulk.read_csv(b"lon,lat,name\n1,2,\xff\xfe\xfa\n")
    # a byte-order mark says UTF-8: broken UTF-8 after it is not taken for GB18030
    with pytest.raises(DataError, match="from byte 20"):
        bulk.read_csv(b"\xef\xbb\xbflon,lat,name\n1,2,\xc4\xe3\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "the CSV is empty"),
        ("\n\n,,\n", "the CSV is empty"),
        ("lon,lat\n" + "1" * 200_000 + ",2\n", "not a readable CSV file: field larger"),
    ],
)
def test_unreadable_csv(data, message):
    with pytest.raises(DataError, match=message):
        bulk.read_csv(data)


# ============================================================================ CSV: rows and their lines
def test_rows_their_lines_and_their_errors():
    text = (
        "\n"  # line 1: blank lines before the header are skipped
        "id,lon,lat,note\n"  # 2
        "ok,118.93,32.11,x\n"  # 3
        "\n"  # 4
        ",,,\n"  # 5: nothing but separators
        'multi,118.93,32.11,"two\nlines"\n'  # 6-7
        "text,abc,32.1,x\n"  # 8
        "empty,118.93,,x\n"  # 9
        "blank,  ,32.1,x\n"  # 10
        "short,118.93\n"  # 11
        "padded,118.93,32.11\n"  # 12: the missing note is no problem
        "long,118.93,32.11,x,y\n"  # 13
        "trailing,118.93,32.11,x,,\n"  # 14: empty extra values are no problem
        "inf,1e999,32.1,x\n"  # 15
        "nan,118.93,NaN,x\n"  # 16
    )
    points = bulk.read_csv(text)
    assert [r[0] for r in points.rows] == [
        "ok", "multi", "text", "empty", "blank", "short", "padded", "long", "trailing", "inf", "nan",
    ]  # fmt: skip
    assert [points.where(i) for i in range(len(points))] == [
        f"line {n}" for n in (3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
    ]
    assert all(len(r) == 4 for r in points.rows)
    assert points.rows[6] == ["padded", "118.93", "32.11", ""]
    assert points.errors == {
        2: "lon must be a number, got 'abc'",
        3: "lat is empty",
        4: "lon is empty",
        5: "the row has 2 values, fewer than the header's 4",
        7: "the row has more values than the header's 4 columns",
        9: "lon must be a finite number, got '1e999'",
        10: "lat must be a finite number, got 'NaN'",
    }
    good = [0, 1, 6, 8]
    assert points.xs[good].tolist() == [118.93] * 4 and points.ys[good].tolist() == [32.11] * 4
    assert np.isnan(points.xs[list(points.errors)]).all()


@pytest.mark.parametrize(
    "value",
    ["118.93", " 118.93\t", "+118.93", "1.1893e2", "118.", "\u3000118.93", "١١٨.٩٣", "0118.930"],
)
def test_coordinates_read_as_a_single_point_reads_them(value):
    """The fast path for plain numbers and the one-by-one path agree with parse_coordinate."""
    many = bulk.read_csv(csv_of(["lon", "lat"], [[value, "32.11"]] * 3))
    mixed = bulk.read_csv(csv_of(["lon", "lat"], [[value, "32.11"], ["abc", "32.11"]]))
    want = crs.parse_coordinate(value, "lon")
    assert many.xs.tolist() == [want] * 3 and not many.errors
    assert mixed.xs[0] == want and list(mixed.errors) == [1]


def test_header_only():
    points = bulk.read_csv("lon,lat\n")
    assert len(points) == 0 and points.rows == []


# ============================================================================ limits
def test_limits_on_the_number_of_points():
    rows = "lon,lat\n" + "118.93,32.11\n" * 11
    assert len(bulk.read_csv(rows, limit=11)) == 11
    with pytest.raises(bulk.TooManyPoints, match=r"too many points: 11 \(limit 10\)"):
        bulk.read_csv(rows, limit=10)
    fc = {"type": "FeatureCollection", "features": [None] * 11}
    with pytest.raises(bulk.TooManyPoints, match="limit 10"):
        bulk.read_geojson(json.dumps(fc), limit=10)
    mp = {"type": "MultiPoint", "coordinates": [list(POINT)] * 11}
    with pytest.raises(bulk.TooManyPoints, match="limit 10"):
        bulk.read_geojson(json.dumps(mp), limit=10)
    assert len(bulk.read_geojson(json.dumps(mp), limit=11)) == 11
    assert bulk.TooManyPoints.http_status == 413 and bulk.TooManyPoints.exit_code == 2


# ============================================================================ GeoJSON
def feature(coordinates, **props):
    geometry = {"type": "Point", "coordinates": coordinates}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_geojson_points_and_their_errors():
    features = [
        feature(list(POINT), n=1),
        feature(["118.93", 32.11]),
        feature([118.93]),
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
        {"type": "Feature", "geometry": None},
        42,
        feature([True, 32.11]),
        feature([118.93, 32.11, 12.5]),
        feature([10**400, 32.11]),
    ]
    points = bulk.read_geojson(json.dumps({"type": "FeatureCollection", "features": features}))
    assert points.kind == "FeatureCollection" and points.crs is None and len(points) == 9
    assert points.errors == {
        1: "coordinates must be numbers",
        2: "coordinates must be an array [x, y]",
        3: "geometry must be a Point, got 'LineString'",
        4: "the feature has no geometry",
        5: "not a GeoJSON Feature",
        6: "coordinates must be numbers",
    }
    assert points.where(3) == "feature 4"
    assert points.xs[[0, 7]].tolist() == [118.93, 118.93] and np.isnan(points.xs[8])
    assert points.properties(0) == {"n": 1} and points.properties(4) == {}
    assert points.position(7) == [118.93, 32.11, 12.5] and points.position(4) is None


def test_geojson_kinds():
    one = bulk.read_geojson(json.dumps(feature(list(POINT))))
    assert (one.kind, len(one), one.where(0)) == ("Feature", 1, "feature 1")
    point = bulk.read_geojson(json.dumps({"type": "Point", "coordinates": list(POINT)}).encode())
    assert (point.kind, point.xs.tolist(), point.where(0)) == ("Point", [118.93], "point 1")
    mp = bulk.read_geojson(json.dumps({"type": "MultiPoint", "coordinates": [list(POINT), "x"]}))
    assert mp.kind == "MultiPoint" and mp.errors == {1: "coordinates must be an array [x, y]"}
    assert mp.where(1) == "point 2" and mp.properties(1) == {"index": 1}
    assert mp.position(0) == list(POINT) and mp.position(1) is None
    nan = bulk.read_geojson('{"type": "Point", "coordinates": [NaN, 32.11]}')
    assert np.isnan(nan.xs[0]) and not nan.errors  # found when converting: "not finite"


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ("{not json", DataError, "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, DataError, "not valid JSON"),
        ("[1, 2]", DataError, "expected a GeoJSON FeatureCollection of Points"),
        ('{"type": "Polygon"}', DataError, "got Polygon"),
        ('{"type": "FeatureCollection"}', DataError, '"features" array'),
        ('{"type": "MultiPoint", "coordinates": 5}', DataError, '"coordinates" array'),
        ('{"type": "Point", "coordinates": [1, 2], "crs": "x"}', DataError, '"crs" member'),
        (
            '{"type": "Point", "coordinates": [1, 2], "crs": {"properties": {"name": "mars"}}}',
            CRSError,
            "unknown CRS 'mars'",
        ),
    ],
)
def test_unusable_geojson(body, error, message):
    with pytest.raises(error, match=message):
        bulk.read_geojson(body)


def test_legacy_crs_member_unless_the_caller_gives_one():
    legacy = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    x, y = crs.to_metric(*POINT)
    points = bulk.read_geojson(json.dumps({"type": "Point", "coordinates": [x, y], "crs": legacy}))
    assert points.crs == "EPSG:4549"
    assert bulk.resolve_crs(points) == "EPSG:4549"
    assert bulk.resolve_crs(points, "epsg:4549") == "EPSG:4549"
    with pytest.raises(InputError, match=r"the CRS given \(gcj02\) and the file's crs member"):
        bulk.resolve_crs(points, "GCJ-02")
    plain = bulk.read_csv("lon,lat\n1,2\n")
    assert bulk.resolve_crs(plain) == "wgs84" and bulk.resolve_crs(plain, "bd") == "bd09"


# ============================================================================ locating
@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09", "EPSG:4549"])
def test_answers_are_the_locators(district, locator, system):
    xs, ys = random_points(district, 300, seed=7)
    x, y = crs.from_wgs84(np.array(xs), np.array(ys), system)
    rows = [
        [i, repr(a), repr(b)] for i, (a, b) in enumerate(zip(x.tolist(), y.tolist(), strict=True))
    ]
    results = bulk.locate(bulk.read_csv(csv_of(["id", "x", "y"], rows)), locator, system)
    assert results.crs == crs.normalize_crs(system) and not results.errors
    lon, lat = crs.to_wgs84(x, y, system)
    singles = [locator.locate(a, b) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)]
    assert results.answers == [expected(s) for s in singles]
    if system == "wgs84":  # the points as given: exactly the single-point answers
        assert results.answers == [
            expected(locator.locate(a, b)) for a, b in zip(xs, ys, strict=True)
        ]
    matches = {a["match"] for a in results.answers}
    assert {"interior", "outside"} <= matches and any(a["candidates"] for a in results.answers)
    if system == "wgs84":
        assert matches & {"edge", "vertex"}


def test_answers_as_geojson_and_csv_see_them(district, locator):
    xs, ys = random_points(district, 50, seed=3)
    fc = {
        "type": "FeatureCollection",
        "features": [feature([a, b]) for a, b in zip(xs, ys, strict=True)],
    }
    from_geojson = bulk.locate(bulk.read_geojson(json.dumps(fc)), locator, fields=SOME_FIELDS)
    rows = [[repr(a), repr(b)] for a, b in zip(xs, ys, strict=True)]
    from_csv = bulk.locate(bulk.read_csv(csv_of(["lon", "lat"], rows)), locator, fields=SOME_FIELDS)
    assert from_geojson.answers == from_csv.answers
    assert from_geojson.fields == SOME_FIELDS


def test_points_in_error_and_the_summary(locator):
    text = "id,lon,lat\na,118.93,32.11\nb,abc,1\nc,118.5,32.0\nd,200,32\ne,118.93\n"
    results = bulk.locate(bulk.read_csv(text), locator)
    assert results.errors == {
        1: "lon must be a number, got 'abc'",
        3: "lon 200.0 is out of range [-180, 180]",
        4: "the row has 2 values, fewer than the header's 3",
    }
    for i in results.errors:
        assert results.answers[i] == {**dict.fromkeys(bulk.ALL_FIELDS), "error": results.errors[i]}
    assert results.answers[0]["grid2_code"] == POINT_GRID and results.answers[0]["error"] is None
    assert results.outside == [2]
    assert results.summary() == {
        "points": 5, "located": 1, "outside": 1, "needs_confirmation": 0, "errors": 3,
    }  # fmt: skip
    assert results.problems() == [
        "line 3: lon must be a number, got 'abc'",
        "line 5: lon 200.0 is out of range [-180, 180]",
        "line 6: the row has 2 values, fewer than the header's 3",
    ]
    assert np.isnan(results.lon[1]) and results.lon[0] == 118.93


def test_points_that_do_not_convert(locator):
    results = bulk.locate(bulk.read_csv("x,y\n1e30,1e30\n399011,3554551\n"), locator, "EPSG:4549")
    with pytest.raises(CoordinateError) as single:
        locator.locate(1e30, 1e30, "EPSG:4549")
    assert results.errors == {0: single.value.message}
    assert results.answers[1]["grid2_code"] == POINT_GRID


def test_fields_and_progress(locator):
    points = bulk.read_csv("lon,lat\n118.93,32.11\n")
    results = bulk.locate(points, locator, fields=["error", "match", "grid2_code"])
    assert results.fields == ("grid2_code", "match", "error")  # in the order of ALL_FIELDS
    assert list(results.answers[0]) == ["grid2_code", "match", "error"]
    with pytest.raises(ValueError, match="unknown answer fields"):
        bulk.locate(points, locator, fields=["grid3_code"])
    with pytest.raises(ValueError, match="no 'needs_confirmation' field"):
        results.summary()
    seen = []

    def progress(items, total):
        seen.append(total)
        return items

    bulk.locate(points, locator, progress=progress)
    assert seen == [1]


# ============================================================================ writing
def test_csv_out_keeps_the_input_and_adds_the_answers(locator):
    text = 'name,Lon,lat,Match\n"点 1, 甲",118.93,32.11,old\n坏点,abc,32.1,\n'
    results = bulk.locate(bulk.read_csv(text.encode("gb18030")), locator, fields=SOME_FIELDS)
    rows = written_csv(results)
    assert list(rows[0]) == [
        "name", "Lon", "lat", "Match",
        "grid2_code", "distance_m", "needs_confirmation", "candidates", "error",
    ]  # fmt: skip
    assert rows[0]["name"] == "点 1, 甲" and rows[0]["Match"] == "interior"  # filled in
    assert rows[0]["needs_confirmation"] == "false" and rows[0]["error"] == ""
    assert rows[1]["grid2_code"] == "" and rows[1]["Match"] == ""
    assert rows[1]["error"] == "Lon must be a number, got 'abc'"
    out = io.StringIO()
    bulk.write_csv(results, out, bom=True)
    assert out.getvalue().startswith("\ufeffname,Lon,lat,Match,grid2_code")
    assert out.getvalue().endswith("\r\n")


def test_csv_out_candidates_as_codes(district, locator):
    ring = district.grids2.geometry.iloc[0].exterior.coords
    results = bulk.locate(bulk.read_csv(f"lon,lat\n{ring[3][0]!r},{ring[3][1]!r}\n"), locator)
    answer = results.answers[0]
    assert answer["candidates"] and answer["needs_confirmation"] is True
    row = written_csv(results)[0]
    assert row["candidates"] == ";".join(c["code"] for c in answer["candidates"])
    assert row["needs_confirmation"] == "true"


def test_geojson_out_keeps_the_features(locator):
    legacy = {"type": "name", "properties": {"name": "EPSG:4549"}}
    x, y = crs.to_metric(*POINT)
    fc = {
        "type": "FeatureCollection",
        "crs": legacy,
        "features": [
            {**feature([x, y], ref=0), "id": "p0"},
            {"type": "Feature", "geometry": None, "properties": None},
            7,
        ],
    }
    results = bulk.locate(bulk.read_geojson(json.dumps(fc)), locator, fields=SOME_FIELDS)
    out = bulk.to_geojson(results, version=3)
    assert list(out) == ["type", "version", "summary", "features", "crs"]
    assert out["crs"] == legacy and out["version"] == 3
    assert out["summary"] == {
        "points": 3, "located": 1, "outside": 0, "needs_confirmation": 0, "errors": 2,
    }  # fmt: skip
    first, second, third = out["features"]
    assert first["id"] == "p0" and first["geometry"]["coordinates"] == [x, y]
    assert first["properties"]["ref"] == 0 and first["properties"]["grid2_code"] == POINT_GRID
    assert second["properties"]["error"] == "the feature has no geometry"
    assert third == {
        "type": "Feature",
        "geometry": None,
        "properties": {**dict.fromkeys(SOME_FIELDS), "error": "not a GeoJSON Feature"},
    }


def test_geojson_out_for_each_kind(locator):
    mp = {"type": "MultiPoint", "coordinates": [list(POINT), [118.5, 32.0], 5]}
    out = bulk.to_geojson(bulk.locate(bulk.read_geojson(json.dumps(mp)), locator))
    assert out["type"] == "FeatureCollection" and "version" not in out
    assert [f["properties"]["index"] for f in out["features"]] == [0, 1, 2]
    assert out["features"][1]["properties"]["match"] == "outside"
    assert out["features"][2]["geometry"] is None and out["features"][2]["properties"]["error"]
    point = {"type": "Point", "coordinates": list(POINT)}
    out = bulk.to_geojson(bulk.locate(bulk.read_geojson(json.dumps(point)), locator), version=1)
    assert out["type"] == "Feature" and out["geometry"] == point and out["version"] == 1
    one = feature(list(POINT), name="甲")
    out = bulk.to_geojson(bulk.locate(bulk.read_geojson(json.dumps(one)), locator))
    assert out["properties"]["name"] == "甲" and out["properties"]["grid2_code"] == POINT_GRID


def test_csv_rows_become_wgs84_points(locator):
    gx, gy = crs.from_wgs84(*POINT, "gcj02")
    text = f"id,lon,lat\n1,{gx!r},{gy!r}\n2,x,y\n"
    results = bulk.locate(bulk.read_csv(text), locator, "gcj02")
    out = bulk.to_geojson(results)
    located, bad = out["features"]
    assert located["geometry"]["coordinates"] == pytest.approx(list(POINT), abs=1e-9)
    assert located["properties"]["id"] == "1" and located["properties"]["wgs84_lon"] == 118.93
    assert bad["geometry"] is None and bad["properties"]["error"] == "lon must be a number, got 'x'"


def test_geojson_in_csv_out(locator):
    features = [feature([118.93, 32.11], name="甲", tags=["a"], ok=True), feature([1, 2, 3])]
    features.append({"type": "Feature", "geometry": None, "properties": {"other": None}})
    fc = {"type": "FeatureCollection", "features": features}
    results = bulk.locate(bulk.read_geojson(json.dumps(fc)), locator)
    rows = written_csv(results)
    assert list(rows[0])[:6] == ["name", "tags", "ok", "other", "lon", "lat"]
    assert (rows[0]["name"], rows[0]["tags"], rows[0]["ok"]) == ("甲", '["a"]', "true")
    assert (rows[1]["lon"], rows[1]["lat"], rows[2]["lon"]) == ("1", "2", "")
    projected = bulk.read_geojson(json.dumps(feature(list(crs.to_metric(*POINT)))))
    rows = written_csv(bulk.locate(projected, locator, "EPSG:4549"))
    assert rows[0]["grid2_code"] == POINT_GRID and "x" in rows[0] and "y" in rows[0]


def test_write_geojson_a_feature_a_line():
    obj = {
        "type": "FeatureCollection",
        "summary": {"points": 2},
        "features": [feature([1.5, 2.0], big=10**30), feature([3, 4], name="乙")],
    }
    out = io.StringIO()
    bulk.write_geojson(obj, out)
    text = out.getvalue()
    assert json.loads(text) == obj
    assert len(text.splitlines()) == 4 and "乙" in text  # head, two features, end
    single = io.StringIO()
    bulk.write_geojson(feature([1, 2]), single)
    assert json.loads(single.getvalue()) == feature([1, 2])


def _nested_text(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_deeply_nested_geojson_is_refused_naming_the_feature(locator):
    point = '{"type":"Point","coordinates":[118.93,32.11]}'
    flat = f'{{"type":"Feature","geometry":{point},"properties":{{"n":1}}}}'
    deep = f'{{"type":"Feature","geometry":{point},"properties":{_nested_text(1000)}}}'
    limit = f"deeper than {bulk.MAX_DEPTH} levels"
    with pytest.raises(DataError, match=f"feature 2 nests arrays and objects {limit}"):
        bulk.read_geojson(f'{{"type":"FeatureCollection","features":[{flat},{deep}]}}')
    with pytest.raises(DataError, match=f"the feature nests arrays and objects {limit}"):
        bulk.read_geojson(deep)
    deep_position = "[" * 40 + "1" + "]" * 40
    with pytest.raises(DataError, match=f"point 2 nests arrays and objects {limit}"):
        bulk.read_geojson(f'{{"type":"MultiPoint","coordinates":[[118.93,32.11],{deep_position}]}}')
    with pytest.raises(DataError, match="outside its features"):
        bulk.read_geojson(
            f'{{"type":"FeatureCollection","features":[{flat}],"x":{_nested_text(40)}}}'
        )
    # a feature at the limit (itself, then its properties 31 levels deep) is read and written
    ok = f'{{"type":"Feature","geometry":{point},"properties":{_nested_text(bulk.MAX_DEPTH - 1)}}}'
    points = bulk.read_geojson(f'{{"type":"FeatureCollection","features":[{ok}]}}')
    out = io.StringIO()
    bulk.write_geojson(bulk.to_geojson(bulk.locate(points, locator)), out)
    written = json.loads(out.getvalue())["features"][0]["properties"]
    assert written["grid2_code"] == "320113005007007"
    with pytest.raises(DataError, match=limit):
        one_more = _nested_text(bulk.MAX_DEPTH)
        bulk.read_geojson(f'{{"type":"Feature","geometry":{point},"properties":{one_more}}}')
