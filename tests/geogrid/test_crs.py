"""Tests for geogrid.crs: CRS names, GCJ-02/BD-09 conversions, validation, geometries.

The GCJ-02 and BD-09 conversions are checked against two independent implementations installed
for tests only: ``coordTransform`` (naive inverses) and ``prcoords`` (iterative inverses).
"""

from __future__ import annotations

import math

import coordTransform.coordTransform as ct
import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from shapely import Point, Polygon, box

from geogrid import crs
from geogrid.crs import (
    CHINA_BOUNDS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_coordinates,
    distance_m,
    from_metric,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_crs,
    parse_coordinate,
    to_metric,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geogrid.errors import CoordinateError, CRSError

XIANLIN = (118.93, 32.11)
XIANLIN_BOX = (118.88, 32.07, 118.98, 32.15)
# coordTransform's own, smaller "China" box; inside it both oracles and geogrid shift every point
CT_BOX = (73.67, 3.87, 135.04, 53.54)
FORWARD_TOL = 1e-9  # degrees
ROUND_TRIP_M = 0.01

CONVERSIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    bd09_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
]


def random_points(bounds, n, seed):
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    return rng.uniform(west, east, n), rng.uniform(south, north, n)


@pytest.fixture(scope="module")
def xianlin_points():
    return random_points(XIANLIN_BOX, 2000, seed=1)


@pytest.fixture(scope="module")
def china_points():
    return random_points(CT_BOX, 3000, seed=2)


@pytest.fixture(params=["xianlin", "china"])
def points(request, xianlin_points, china_points):
    return xianlin_points if request.param == "xianlin" else china_points


# --------------------------------------------------------------------------------------------
# normalize_crs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("wgs 84", "wgs84"),
        (" Wgs_84 ", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("4326", "wgs84"),
        (4326, "wgs84"),
        (np.int64(4326), "wgs84"),
        ("urn:ogc:def:crs:EPSG::4326", "wgs84"),
        ("OGC:CRS84", "wgs84"),
        ("CGCS2000", "cgcs2000"),
        ("cgcs 2000", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        (4490, "cgcs2000"),
        ("GCJ02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gcj", "gcj02"),
        ("gcj02ll", "gcj02"),
        ("BD09", "bd09"),
        ("BD-09", "bd09"),
        ("bd", "bd09"),
        ("bd09ll", "bd09"),
        ("EPSG:4549", "EPSG:4549"),
        ("epsg:4549", "EPSG:4549"),
        ("4549", "EPSG:4549"),
        (4549, "EPSG:4549"),
        ("EPSG:3857", "EPSG:3857"),
        ("EPSG:4214", "EPSG:4214"),
    ],
)
def test_normalize_crs_accepts_variants(name, expected):
    assert normalize_crs(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "mars",
        "",
        "wgs",
        "bd09mc",
        "EPSG:",
        "EPSG:9999999",
        "EPSG:4978",  # geocentric
        "EPSG:5773",  # vertical
        0,
        True,
        3.5,
        None,
        ["wgs84"],
        "x" * 500,
    ],
)
def test_normalize_crs_rejects_unknown_and_lists_accepted_names(name):
    with pytest.raises(CRSError) as info:
        normalize_crs(name)
    message = str(info.value)
    for accepted in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:4549"):
        assert accepted in message
    assert len(message) < 400  # a huge input is not echoed in full
    assert info.value.http_status == 400


def test_normalize_crs_is_cached():
    crs._normalize.cache_clear()
    normalize_crs("GCJ-02")
    normalize_crs("GCJ-02")
    with pytest.raises(CRSError):
        normalize_crs("EPSG:9999999")
    with pytest.raises(CRSError):
        normalize_crs("EPSG:9999999")
    info = crs._normalize.cache_info()
    assert (info.hits, info.misses) == (2, 2)


# --------------------------------------------------------------------------------------------
# Forward transforms against the oracles
# --------------------------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_oracles(points):
    lon, lat = points
    ours_lon, ours_lat = wgs84_to_gcj02(lon, lat)
    ct_lon, ct_lat = (np.asarray(v) for v in ct.wgs84_to_gcj02(lon, lat))  # C batch
    ct_scalar = np.array([ct._py_wgs84_to_gcj02(a, b) for a, b in zip(lon, lat, strict=True)])
    pr = np.array([prcoords.wgs_gcj((b, a)) for a, b in zip(lon, lat, strict=True)])
    for other_lon, other_lat in [(ct_lon, ct_lat), ct_scalar.T, (pr[:, 1], pr[:, 0])]:
        np.testing.assert_allclose(ours_lon, other_lon, rtol=0, atol=FORWARD_TOL)
        np.testing.assert_allclose(ours_lat, other_lat, rtol=0, atol=FORWARD_TOL)
    # the transform really moved every point: the comparison is not identity against identity
    assert np.all(np.hypot(ours_lon - lon, ours_lat - lat) > 1e-4)


def test_gcj02_to_bd09_matches_oracles(points):
    lon, lat = points
    ours_lon, ours_lat = gcj02_to_bd09(lon, lat)
    ct_lon, ct_lat = (np.asarray(v) for v in ct.gcj02_to_bd09(lon, lat))
    pr = np.array([prcoords.gcj_bd((b, a)) for a, b in zip(lon, lat, strict=True)])
    for other_lon, other_lat in [(ct_lon, ct_lat), (pr[:, 1], pr[:, 0])]:
        np.testing.assert_allclose(ours_lon, other_lon, rtol=0, atol=FORWARD_TOL)
        np.testing.assert_allclose(ours_lat, other_lat, rtol=0, atol=FORWARD_TOL)


def test_wgs84_to_bd09_matches_oracles(points):
    lon, lat = points
    ours_lon, ours_lat = wgs84_to_bd09(lon, lat)
    ct_lon, ct_lat = (np.asarray(v) for v in ct.wgs84_to_bd09(lon, lat))
    pr = np.array([prcoords.wgs_bd((b, a)) for a, b in zip(lon, lat, strict=True)])
    for other_lon, other_lat in [(ct_lon, ct_lat), (pr[:, 1], pr[:, 0])]:
        np.testing.assert_allclose(ours_lon, other_lon, rtol=0, atol=FORWARD_TOL)
        np.testing.assert_allclose(ours_lat, other_lat, rtol=0, atol=FORWARD_TOL)


def test_bd09_uses_x_pi_not_pi():
    # eviltransform's JS bug: pi instead of x_pi = pi * 3000 / 180 in the perturbation terms
    lon, lat = 118.935, 32.108
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * math.pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * math.pi)
    buggy = (z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006)
    ours = gcj02_to_bd09(lon, lat)
    assert max(abs(ours[0] - buggy[0]), abs(ours[1] - buggy[1])) > 1e-6


# --------------------------------------------------------------------------------------------
# Inverses: exact, unlike the naive ones
# --------------------------------------------------------------------------------------------


@pytest.fixture
def precise_prcoords(monkeypatch):
    # prcoords stops iterating at 1e-5 degrees by default; make its oracle as exact as ours
    monkeypatch.setattr(prcoords, "PRC_EPS", 1e-13)
    return prcoords


def test_gcj02_to_wgs84_matches_prcoords_iterative_inverse(points, precise_prcoords):
    glon, glat = points  # GCJ-02 input
    ours_lon, ours_lat = gcj02_to_wgs84(glon, glat)
    pr = np.array([precise_prcoords.gcj_wgs_bored((b, a)) for a, b in zip(glon, glat, strict=True)])
    np.testing.assert_allclose(ours_lon, pr[:, 1], rtol=0, atol=1e-11)
    np.testing.assert_allclose(ours_lat, pr[:, 0], rtol=0, atol=1e-11)


def test_bd09_inverses_match_prcoords_iterative_inverse(points, precise_prcoords):
    blon, blat = points  # BD-09 input
    pairs = list(zip(blat, blon, strict=True))
    gcj = np.array([precise_prcoords.bd_gcj_bored(p) for p in pairs])
    wgs = np.array([precise_prcoords.bd_wgs_bored(p) for p in pairs])
    for ours, theirs in [(bd09_to_gcj02(blon, blat), gcj), (bd09_to_wgs84(blon, blat), wgs)]:
        np.testing.assert_allclose(ours[0], theirs[:, 1], rtol=0, atol=1e-11)
        np.testing.assert_allclose(ours[1], theirs[:, 0], rtol=0, atol=1e-11)


def test_naive_gcj02_inverse_is_off_but_ours_is_exact(points):
    lon, lat = points
    glon, glat = wgs84_to_gcj02(lon, lat)
    naive = np.array([ct._py_gcj02_to_wgs84(a, b) for a, b in zip(glon, glat, strict=True)])
    naive_error = distance_m(lon, lat, naive[:, 0], naive[:, 1])
    ours_error = distance_m(lon, lat, *gcj02_to_wgs84(glon, glat))
    assert naive_error.max() > 0.05
    assert ours_error.max() < ROUND_TRIP_M
    assert ours_error.max() < 1e-6  # in practice about 1e-9 m


def test_closed_form_bd09_inverse_is_off_but_ours_is_exact(points):
    glon, glat = points
    blon, blat = gcj02_to_bd09(glon, glat)
    closed = np.array([ct._py_bd09_to_gcj02(a, b) for a, b in zip(blon, blat, strict=True)])
    closed_error = distance_m(glon, glat, closed[:, 0], closed[:, 1])
    ours_error = distance_m(glon, glat, *bd09_to_gcj02(blon, blat))
    assert closed_error.max() > 0.05
    assert ours_error.max() < 1e-6


# --------------------------------------------------------------------------------------------
# Round trips, scalar and vectorised
# --------------------------------------------------------------------------------------------

ROUND_TRIPS = [
    (wgs84_to_gcj02, gcj02_to_wgs84),
    (wgs84_to_bd09, bd09_to_wgs84),
    (gcj02_to_bd09, bd09_to_gcj02),
]


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS, ids=lambda f: f.__name__)
def test_round_trip_vectorised(points, forward, inverse):
    lon, lat = points
    back_lon, back_lat = inverse(*forward(lon, lat))
    error = distance_m(lon, lat, back_lon, back_lat)
    assert error.max() < ROUND_TRIP_M
    assert error.max() < 1e-6


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS, ids=lambda f: f.__name__)
def test_round_trip_scalar(xianlin_points, china_points, forward, inverse):
    lon = np.concatenate([xianlin_points[0][:200], china_points[0][:300]])
    lat = np.concatenate([xianlin_points[1][:200], china_points[1][:300]])
    back = np.array([inverse(*forward(float(a), float(b))) for a, b in zip(lon, lat, strict=True)])
    error = distance_m(lon, lat, back[:, 0], back[:, 1])
    assert error.max() < 1e-6


@pytest.mark.parametrize("convert", CONVERSIONS, ids=lambda f: f.__name__)
def test_scalar_and_vectorised_paths_agree(xianlin_points, china_points, convert):
    lon = np.concatenate([xianlin_points[0][:300], china_points[0][:300], [2.35, np.nan]])
    lat = np.concatenate([xianlin_points[1][:300], china_points[1][:300], [48.85, 30.0]])
    vec_lon, vec_lat = convert(lon, lat)
    scalar = [convert(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]
    for value in scalar[0]:
        assert type(value) is float
    scalar = np.array(scalar)
    np.testing.assert_allclose(vec_lon, scalar[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(vec_lat, scalar[:, 1], rtol=0, atol=1e-11)


@pytest.mark.parametrize("convert", CONVERSIONS, ids=lambda f: f.__name__)
def test_array_inputs_keep_shape_and_are_not_modified(xianlin_points, convert):
    lon = xianlin_points[0][:12].reshape(3, 4).copy()
    lat = xianlin_points[1][:12].reshape(3, 4).copy()
    before = lon.copy(), lat.copy()
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == out_lat.shape == (3, 4)
    assert out_lon.dtype == np.float64
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])
    flat_lon, flat_lat = convert(lon.ravel().tolist(), lat.ravel().tolist())  # lists work too
    np.testing.assert_array_equal(flat_lon, out_lon.ravel())
    np.testing.assert_array_equal(flat_lat, out_lat.ravel())
    # a scalar broadcasts against an array
    b_lon, b_lat = convert(lon[0], float(lat[0, 0]))
    assert b_lon.shape == (4,)
    assert b_lon[0] == out_lon[0, 0] and b_lat[0] == out_lat[0, 0]


@pytest.mark.parametrize("convert", CONVERSIONS, ids=lambda f: f.__name__)
def test_equal_inputs_give_equal_outputs(xianlin_points, convert):
    # shared vertices must stay shared: an element's result may not depend on its neighbours
    lon, lat = xianlin_points[0][:97], xianlin_points[1][:97]
    lon = np.concatenate([lon, lon[::-1], lon[:5]])
    lat = np.concatenate([lat, lat[::-1], lat[:5]])
    out_lon, out_lat = convert(lon, lat)
    np.testing.assert_array_equal(out_lon[:97], out_lon[97:194][::-1])
    np.testing.assert_array_equal(out_lat[:97], out_lat[97:194][::-1])
    np.testing.assert_array_equal(out_lon[:5], out_lon[194:])
    one_lon, one_lat = convert(lon[3:4], lat[3:4])
    assert abs(one_lon[0] - out_lon[3]) < 1e-13 and abs(one_lat[0] - out_lat[3]) < 1e-13


def test_gcj02_inverse_converges_at_the_sqrt_cusp():
    # the offset has sqrt(|lon - 105|) terms, whose slope is unbounded at 105 E
    lon = np.array([105.0, 105.0 + 1e-12, 105.0 - 1e-9, 104.9999, 105.00001])
    lat = np.full_like(lon, 35.0)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(lon, lat, *back).max() < 1e-6
    for a, b in zip(lon, lat, strict=True):
        assert distance_m(a, b, *gcj02_to_wgs84(*wgs84_to_gcj02(float(a), float(b)))) < 1e-6


# --------------------------------------------------------------------------------------------
# Offsets at Xianlin, and outside China
# --------------------------------------------------------------------------------------------


def test_offset_magnitudes_at_xianlin():
    gcj = wgs84_to_gcj02(*XIANLIN)
    bd = wgs84_to_bd09(*XIANLIN)
    assert 500 < distance_m(*XIANLIN, *gcj) < 570
    assert 1100 < distance_m(*XIANLIN, *bd) < 1250
    # field notes: about 475 m east and 247 m south
    (x0, y0), (x1, y1) = to_metric(*XIANLIN), to_metric(*gcj)
    assert 450 < x1 - x0 < 500
    assert -270 < y1 - y0 < -220


OUTSIDE_CHINA = [
    (2.35, 48.85),  # Paris
    (-74.0, 40.7),  # New York
    (139.7, 35.7),  # Tokyo: east of the box
    (100.0, 60.0),  # north of the box
    (100.0, 0.5),  # south of the box
    (71.9, 35.0),  # west of the box
    (-118.93, -32.11),
]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE_CHINA)
def test_gcj02_is_the_identity_outside_china(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert ct._py_wgs84_to_gcj02(lon, lat) == [lon, lat]  # the oracle agrees
    # BD-09 still applies its own shift
    assert wgs84_to_bd09(lon, lat) == gcj02_to_bd09(lon, lat) != (lon, lat)
    assert to_wgs84(lon, lat, "gcj02") == (lon, lat)


def test_gcj02_identity_outside_china_vectorised():
    lon, lat = (np.array(v) for v in zip(*OUTSIDE_CHINA, XIANLIN, strict=True))
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon[:-1], lon[:-1])
        np.testing.assert_array_equal(out_lat[:-1], lat[:-1])
        assert out_lon[-1] != lon[-1]


def test_china_box_edges_are_inside():
    west, south, east, north = CHINA_BOUNDS
    for lon, lat in [(west, 30.0), (east, 30.0), (100.0, south), (100.0, north)]:
        assert wgs84_to_gcj02(lon, lat) != (lon, lat)
        assert wgs84_to_gcj02(np.nextafter(lon, 0 if lon == west else 200), lat)[0] != lon
    assert wgs84_to_gcj02(np.nextafter(west, 0), 30.0) == (np.nextafter(west, 0), 30.0)


def test_non_finite_input_gives_non_finite_output_without_raising():
    lon = np.array([np.nan, np.inf, 118.93, -np.inf])
    lat = np.array([32.11, 32.11, np.nan, 0.0])
    for convert in CONVERSIONS:
        out_lon, out_lat = convert(lon, lat)
        assert not (np.isfinite(out_lon) & np.isfinite(out_lat)).any()
        for a, b in zip(lon, lat, strict=True):
            assert not all(map(math.isfinite, convert(float(a), float(b))))


# --------------------------------------------------------------------------------------------
# to_wgs84 / from_wgs84
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["wgs84", "WGS-84", 4326, "EPSG:4326", "cgcs2000", "EPSG:4490", 4490]
)
def test_wgs84_and_cgcs2000_are_the_identity(name):
    assert to_wgs84(*XIANLIN, name) == XIANLIN
    assert from_wgs84(*XIANLIN, name) == XIANLIN
    lon, lat = np.array([118.93, 118.94]), np.array([32.11, 32.12])
    out_lon, out_lat = to_wgs84(lon, lat, name)
    np.testing.assert_array_equal(out_lon, lon)
    assert out_lon is not lon  # a new array, as from every other conversion
    assert to_wgs84(118, 32, name) == (118.0, 32.0)
    assert type(to_wgs84(np.float64(118.93), 32, name)[0]) is float


@pytest.mark.parametrize(
    ("name", "forward"),
    [("gcj02", wgs84_to_gcj02), ("GCJ-02", wgs84_to_gcj02), ("bd", wgs84_to_bd09)],
)
def test_to_and_from_wgs84_dispatch(name, forward, xianlin_points):
    lon, lat = xianlin_points
    assert from_wgs84(*XIANLIN, name) == forward(*XIANLIN)
    back = to_wgs84(*forward(*XIANLIN), name)
    assert distance_m(*XIANLIN, *back) < 1e-6
    out_lon, out_lat = from_wgs84(lon, lat, name)
    np.testing.assert_array_equal(out_lon, forward(lon, lat)[0])
    assert distance_m(lon, lat, *to_wgs84(out_lon, out_lat, name)).max() < 1e-6


def test_epsg_4549_input_converts_to_the_right_lon_lat(xianlin_points):
    x, y = to_metric(*XIANLIN)
    lon, lat = to_wgs84(x, y, "EPSG:4549")
    assert abs(lon - XIANLIN[0]) < 1e-9 and abs(lat - XIANLIN[1]) < 1e-9
    assert (round(x), round(y)) == (399011, 3554551)
    assert to_wgs84(x, y, 4549) == (lon, lat)
    # arrays, against an independent pyproj transformer built here
    xs, ys = to_metric(*xianlin_points)
    check = pyproj.Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)
    out_lon, out_lat = to_wgs84(xs, ys, "epsg:4549")
    np.testing.assert_allclose(out_lon, xianlin_points[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(out_lat, check.transform(xs, ys)[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(from_wgs84(out_lon, out_lat, "EPSG:4549")[0], xs, atol=1e-6)


def test_web_mercator_against_its_formula():
    x, y = from_wgs84(*XIANLIN, "EPSG:3857")
    r = 6378137.0
    assert abs(x - r * math.radians(XIANLIN[0])) < 1e-6
    expected_y = r * math.log(math.tan(math.pi / 4 + math.radians(XIANLIN[1]) / 2))
    assert abs(y - expected_y) < 1e-6
    assert distance_m(*XIANLIN, *to_wgs84(x, y, "EPSG:3857")) < 1e-6


def test_gcj02_to_projected_goes_through_wgs84():
    glon, glat = wgs84_to_gcj02(*XIANLIN)
    x, y = transform_geometry(Point(glon, glat), "gcj02", "EPSG:4549").coords[0]
    ex, ey = to_metric(*XIANLIN)
    assert math.hypot(x - ex, y - ey) < 1e-6


def test_to_wgs84_rejects_unknown_crs():
    with pytest.raises(CRSError, match="unknown CRS 'mars'"):
        to_wgs84(*XIANLIN, "mars")
    with pytest.raises(CRSError):
        from_wgs84(*XIANLIN, "EPSG:9999999")
    with pytest.raises(CRSError):
        to_wgs84(*XIANLIN, ["unhashable"])


def test_mismatched_array_shapes_raise_coordinate_error():
    with pytest.raises(CoordinateError, match="different shapes"):
        wgs84_to_gcj02([118.9, 118.95, 118.96], [32.1, 32.11])
    with pytest.raises(CoordinateError, match="numbers"):
        to_wgs84(["a", "b"], [32.1, 32.11], "gcj02")


def test_identity_fast_path_returns_the_input_untouched():
    # the single-point locator calls this per request: WGS-84 in is WGS-84 out, the very values
    # (no projection round trip; its speed is bench/locate_bench.py's to measure, not a test's)
    lon, lat = to_wgs84(118.93, 32.11, "wgs84")
    assert (lon, lat) == (118.93, 32.11)
    glon, glat = to_wgs84(118.935, 32.108, "gcj02")
    assert 400 < float(distance_m(118.935, 32.108, glon, glat)) < 700  # the GCJ-02 offset here


# --------------------------------------------------------------------------------------------
# check_coordinates / parse_coordinate
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "name", "message"),
    [
        (118.93, 95.0, "wgs84", "lat 95.0 is out of range [-90, 90]"),
        (118.93, -90.5, "gcj02", "lat -90.5 is out of range [-90, 90]"),
        (181, 32.11, "bd09", "lon 181.0 is out of range [-180, 180]"),
        ("abc", 32.11, "wgs84", "lon 'abc' is not a number"),
        (118.93, "32.1", "wgs84", "lat '32.1' is not a number"),
        (None, 32.11, "wgs84", "lon None is not a number"),
        (True, 32.11, "wgs84", "lon True is not a number"),
        (float("nan"), 32.11, "wgs84", "lon nan is not a finite number"),
        (118.93, float("inf"), "cgcs2000", "lat inf is not a finite number"),
        (118.93, float("-inf"), "EPSG:4214", "lat -inf is not a finite number"),
        (1e9, float("nan"), "EPSG:4549", "y nan is not a finite number"),
        ("1", 3554551.0, "EPSG:4549", "x '1' is not a number"),
    ],
)
def test_check_coordinates_messages_for_scalars(x, y, name, message):
    with pytest.raises(CoordinateError) as info:
        check_coordinates(x, y, name)
    assert str(info.value) == message


def test_check_coordinates_accepts_valid_input():
    check_coordinates(118.93, 32.11)
    check_coordinates(-180, 90, "gcj02")
    check_coordinates(np.float32(118.9), np.int64(32), "bd09")
    check_coordinates(399011.0, 3554551.0, "EPSG:4549")
    check_coordinates(1e9, -1e9, "EPSG:4549")  # projected: finiteness only
    check_coordinates(np.array([118.93, 118.94]), np.array([32.11, 32.12]))
    check_coordinates([118.93, 118.94], 32.11)
    check_coordinates(np.zeros((2, 3)), np.zeros((2, 3)))
    check_coordinates(np.array([]), np.array([]))


@pytest.mark.parametrize(
    ("x", "y", "name", "message"),
    [
        (
            [118.9, 118.95, 118.96, 118.97],
            [32.1, 95.0, 32.12, -91.0],
            "wgs84",
            "lat has 2 of 4 values out of range [-90, 90], the first at index 1 (95.0)",
        ),
        (
            np.array([118.9, np.nan, np.inf]),
            np.array([32.1, 32.1, 32.1]),
            "gcj02",
            "lon has 2 of 3 values that are not finite numbers, the first at index 1 (nan)",
        ),
        (
            np.array([[1.0, 2.0], [3.0, np.inf]]),
            np.zeros((2, 2)),
            "EPSG:4549",
            "x has 1 of 4 values that are not finite numbers, the first at index (1, 1) (inf)",
        ),
        (
            [118.9, "abc", 118.96],
            [32.1, 32.1, 32.1],
            "wgs84",
            "lon has 1 of 3 values that are not numbers, the first at index 1 ('abc')",
        ),
        (
            np.array(["118.9", "x"]),
            [32.1, 32.1],
            "wgs84",
            "lon has 2 of 2 values that are not numbers, the first at index 0 ('118.9')",
        ),
        (
            np.array([True, False]),
            [32.1, 32.1],
            "wgs84",
            "lon must be numbers, got an array of bool",
        ),
        (
            [118.9, 118.95, 118.96],
            [32.1, 32.11],
            "wgs84",
            "lon and lat have different shapes (3,) and (2,)",
        ),
        ([[1.0, 2.0], [3.0]], [1.0], "wgs84", "lon must be a number or an array of numbers"),
    ],
)
def test_check_coordinates_messages_for_arrays(x, y, name, message):
    with pytest.raises(CoordinateError) as info:
        check_coordinates(x, y, name)
    assert str(info.value) == message


def test_check_coordinates_unknown_crs():
    with pytest.raises(CRSError):
        check_coordinates(118.93, 32.11, "mars")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("118.93", 118.93),
        (" 32.11\n", 32.11),
        ("-0.5", -0.5),
        ("+3", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e2", 100.0),
        ("3554551.25", 3554551.25),
        (32, 32.0),
        (32.5, 32.5),
        (np.float64(1.5), 1.5),
        (np.int32(7), 7.0),
    ],
)
def test_parse_coordinate_accepts_numbers(value, expected):
    result = parse_coordinate(value, "lon")
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "lon must be a number, got 'abc'"),
        ("", "lon must be a number, got ''"),
        ("1,5", "lon must be a number, got '1,5'"),
        ("0x10", "lon must be a number, got '0x10'"),
        ("1_000", "lon must be a number, got '1_000'"),
        ("118.93E", "lon must be a number, got '118.93E'"),
        (None, "lon must be a number, got None"),
        (True, "lon must be a number, got True"),
        ([1.0], "lon must be a number, got [1.0]"),
        ("nan", "lon must be a finite number, got 'nan'"),
        ("-Infinity", "lon must be a finite number, got '-Infinity'"),
        ("1e999", "lon must be a finite number, got '1e999'"),
        (float("inf"), "lon must be a finite number, got inf"),
        (float("nan"), "lon must be a finite number, got nan"),
    ],
)
def test_parse_coordinate_rejects_non_numbers(value, message):
    with pytest.raises(CoordinateError) as info:
        parse_coordinate(value, "lon")
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------
# Geometries and distances
# --------------------------------------------------------------------------------------------


def test_transform_geometry_keeps_shared_vertices_shared():
    # two neighbouring GCJ-02 grids sharing an edge with an extra vertex on it
    left = Polygon([(118.90, 32.10), (118.91, 32.10), (118.9101, 32.105), (118.91, 32.11),
                    (118.90, 32.11)])  # fmt: skip
    right = Polygon([(118.91, 32.10), (118.92, 32.10), (118.92, 32.11), (118.91, 32.11),
                     (118.9101, 32.105)])  # fmt: skip
    grids = np.array([left, right])
    assert shapely.coverage_is_valid(grids)
    out = transform_geometry(grids, "gcj02")
    assert shapely.coverage_is_valid(out)
    shared = {c for c in left.exterior.coords} & {c for c in right.exterior.coords}
    out_shared = set(out[0].exterior.coords) & set(out[1].exterior.coords)
    assert len(shared) == len(out_shared) == 3
    assert shapely.area(shapely.intersection(out[0], out[1])) == 0
    # every vertex went through gcj02_to_wgs84
    coords = shapely.get_coordinates(grids)
    np.testing.assert_array_equal(
        shapely.get_coordinates(out), np.column_stack(gcj02_to_wgs84(coords[:, 0], coords[:, 1]))
    )


def test_transform_geometry_between_any_two_systems():
    point = Point(*XIANLIN)
    bd = transform_geometry(point, "wgs84", "bd09")
    assert bd.coords[0] == wgs84_to_bd09(*XIANLIN)
    gcj = transform_geometry(bd, "BD-09", "GCJ-02")
    assert gcj.coords[0] == bd09_to_gcj02(*bd.coords[0])
    metric = transform_geometry(gcj, "gcj", 4549)
    back = transform_geometry(metric, "EPSG:4549", "wgs84")
    assert distance_m(*XIANLIN, *back.coords[0]) < 1e-6
    assert transform_geometry(point, "wgs84", "cgcs2000") is point
    assert transform_geometry(point, "EPSG:4549", 4549) is point


def test_transform_geometry_keeps_z_missing_and_empty():
    line = shapely.LineString([(118.93, 32.11, 10.0), (118.94, 32.12, 20.0)])
    geoms = np.array([line, None, Polygon(), box(118.93, 32.11, 118.94, 32.12)])
    out = transform_geometry(geoms, "wgs84", "gcj02")
    assert out[0].has_z
    np.testing.assert_array_equal(shapely.get_coordinates(out[0], include_z=True)[:, 2], [10, 20])
    assert out[1] is None and out[2].is_empty
    assert out[3].exterior.coords[0] == wgs84_to_gcj02(118.94, 32.11)


def test_transform_geometry_rejects_unknown_crs():
    with pytest.raises(CRSError):
        transform_geometry(Point(*XIANLIN), "mars")


def test_distance_m_against_geodesic(xianlin_points):
    geod = pyproj.Geod(ellps="GRS80")
    lon, lat = xianlin_points
    lon2, lat2 = np.roll(lon, 1), np.roll(lat, 1)
    ours = distance_m(lon, lat, lon2, lat2)
    geodesic = geod.inv(lon, lat, lon2, lat2)[2]
    np.testing.assert_allclose(ours, geodesic, rtol=3e-4)  # EPSG:4549 scale error here ~1e-4
    assert distance_m(*XIANLIN, *XIANLIN) == 0.0
    scalar = distance_m(float(lon[0]), float(lat[0]), float(lon2[0]), float(lat2[0]))
    assert type(scalar) is float and scalar == pytest.approx(ours[0], abs=1e-9)
    # broadcasting a single point against many
    many = distance_m(lon[:5], lat[:5], *XIANLIN)
    assert many.shape == (5,)
    assert many[0] == pytest.approx(distance_m(float(lon[0]), float(lat[0]), *XIANLIN))


def test_metric_helpers_unchanged():
    x, y = to_metric(*XIANLIN)
    assert from_metric(x, y) == pytest.approx(XIANLIN, abs=1e-9)
