"""``geogrid locate``: one point (LON LAT, printed or as JSON), or every point of a CSV or GeoJSON
file (``--in``/``--out``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from .. import bulk as _bulk
from .. import crs as _crs
from .. import usecases
from ..access import cli_actor
from ..db.types import parse_time
from ..errors import CoordinateError, DataError, InputError
from ..locate import Location
from ..service import Service
from .base import _atomic_write, data_option, get_locator, main
from .db import actor, open_store

#: Bad or unlocated rows listed one by one in a bulk summary; the rest are counted.
_LISTED_ROWS = 20


_TABLE_SUFFIXES = {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}


# ---------------------------------------------------------------------- locate
def _coordinate(value: str, name: str) -> float:
    try:
        return _crs.parse_coordinate(value, name)
    except CoordinateError:
        word = value.lstrip("-").lower()
        if value.startswith("-") and word[:1].isalpha() and word not in ("nan", "inf", "infinity"):
            raise click.UsageError(f"No such option: {value}") from None
        raise


def _person(name, phone) -> str:
    return ", ".join(str(v) for v in (name, phone) if v) or "-"


def _format_location(loc: Location, crs_name: str, near_m: float, units) -> str:
    lines = [f"Location     {loc.lon:.7f}, {loc.lat:.7f} (WGS-84)"]
    if loc.input is not None and crs_name != "wgs84":
        x, y, given = loc.input
        lines.append(f"Input        {x!r}, {y!r} ({given})")
    g2, g1 = loc.grid2, loc.grid1
    if g2 is None:
        lines.append("Grid         none: the point is outside the district")
        if loc.nearest is not None:
            n = loc.nearest
            lines.append(f"Nearest grid {n.grid.code} {n.grid.name} ({n.distance_m:,.1f} m away)")
    else:
        lines.append(f"Grid         {g2.code} {g2.name} (match: {loc.match})")
        if g2.people.get("kind"):
            lines.append(f"  kind       {g2.people['kind']}")
        lines.append(
            f"  worker     {_person(g2.people.get('worker'), g2.people.get('worker_phone'))}"
        )
        if g1 is None:
            lines.append(f"Community    {g2.parent} (not in the first-level grids)")
        else:
            p = g1.people
            leader = p.get("leader")
            if leader and p.get("leader_title"):
                leader = f"{leader} ({p['leader_title']})"
            lines += [
                f"Community    {g1.code} {g1.name}",
                f"  leader     {_person(leader, p.get('leader_phone'))}",
                f"  office     {_person(p.get('office'), p.get('office_phone'))}",
            ]
        if loc.match == "interior":
            lines.append(f"Boundary     {loc.distance_m:,.1f} m to the nearest grid boundary")
        else:
            lines.append(
                f"Boundary     on a grid {loc.match}: it belongs to the grid with the smallest "
                "code among those sharing it"
            )
    if loc.needs_confirmation:
        lines.append(
            f"CONFIRM      within {near_m:g} m of a grid boundary: confirm the grid with the caller"
        )
        for c in loc.candidates:
            lines.append(f"  candidate  {c.grid.code} {c.grid.name} ({c.distance_m:,.1f} m)")
    if units:
        lines.append("Nearest units")
        for u in units:
            lines.append(
                f"  {u.distance_m:8,.1f} m  {u.code} {u.name} ({u.category}), grid {u.grid}"
            )
    return "\n".join(lines)


@main.command("locate", context_settings={"ignore_unknown_options": True})
@click.argument("lon", required=False)
@click.argument("lat", required=False)
@click.option(
    "--crs",
    "crs_name",
    default=None,
    metavar="CRS",
    help="CRS of the input: wgs84, cgcs2000, gcj02 (AMap, Tencent, WeChat), bd09 (Baidu), "
    "or EPSG:n [default: wgs84; for a GeoJSON file, the CRS its crs member names].",
)
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one point).")
@click.option(
    "--units",
    "n_units",
    type=click.IntRange(min=0),
    default=0,
    metavar="K",
    help="Also list the K nearest units (one point).",
)
@click.option(
    "--in",
    "in_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Bulk: CSV or GeoJSON file of points.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Bulk: output file, .csv or .geojson.",
)
@click.option("--lon-col", metavar="NAME", help="Bulk CSV: longitude (or x) column.")
@click.option("--lat-col", metavar="NAME", help="Bulk CSV: latitude (or y) column.")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="Answer from the database's current version (and roster) instead of a directory.",
)
@click.option(
    "--at",
    metavar="TIME",
    default=None,
    help="With --db: answer as of this time (ISO 8601; local times are UTC+8).",
)
def locate_cmd(
    lon, lat, crs_name, data, as_json, n_units, in_path, out_path, lon_col, lat_col, db_url, at
):
    """Find the grid that owns a point (LON LAT), or every point of a file (--in/--out).

    One point: prints the second-level grid and its worker, the first-level grid with its leader
    and office, the distance to the nearest boundary, and a request to confirm with the candidate
    grids when the point is near a boundary (the nearest grid when it is outside). Negative
    coordinates are fine (geogrid locate -73.9 40.7). Exit status 0, or 2 for a bad coordinate or
    CRS.

    Bulk (see geogrid.bulk): reads a CSV (UTF-8, or GB18030 as Excel saves it on Chinese Windows;
    lon/lat columns found by name: lon, lng, long, longitude, x, 经度 and lat, latitude, y, 纬度,
    or given with --lon-col/--lat-col) or GeoJSON points (a FeatureCollection, Feature,
    MultiPoint or Point; a legacy crs member is honoured), and writes the rows with grid2_code,
    grid2_name, grid1_code, grid1_name, worker, worker_phone, match, distance_m,
    needs_confirmation, candidates (in CSV codes joined by ';', in GeoJSON codes with
    distances), wgs84_lon/wgs84_lat when the input is not WGS-84, and error. A row with bad
    coordinates does not stop the run: its reason goes to the error column and, with its CSV
    line or feature number, to the summary on stderr. Exit status 0 only when every row lies in
    a grid; 1 when any row has bad coordinates or lies outside the district; 2 when the file
    cannot be used.

    \b
    Examples:
      geogrid locate 118.93 32.11
      geogrid locate 118.935051 32.107787 --crs gcj02 --units 3
      geogrid locate --in complaints.csv --out located.csv --crs bd09
    """
    bulk = in_path is not None or out_path is not None
    if bulk:
        if in_path is None or out_path is None:
            raise click.UsageError("bulk mode needs both --in and --out")
        if lon is not None:
            raise click.UsageError("give either LON LAT or --in/--out, not both")
        if as_json or n_units:
            raise click.UsageError("--json and --units apply to one point, not to --in/--out")
        if db_url is not None or at:
            raise click.UsageError("--db and --at apply to one point")
        _locate_file(in_path, out_path, crs_name, lon_col, lat_col, data)
        return
    if lon is None or lat is None:
        raise click.UsageError("give LON LAT, or --in FILE --out FILE")
    if lon_col or lat_col:
        raise click.UsageError("--lon-col and --lat-col apply to --in/--out")
    crs_name = _crs.normalize_crs(crs_name or "wgs84")
    xname, yname = _crs.axis_names(crs_name)
    x, y = _coordinate(lon, xname), _coordinate(lat, yname)
    if db_url is not None or at:
        if data:
            raise click.UsageError("give either --data or --db, not both")
        svc = Service(open_store(db_url or None))
        found = usecases.locate(
            svc, cli_actor(actor()), x, y, crs_name, units=n_units, at=parse_time(at, "--at")
        )
        near_m = svc.current()[1].near_m
    else:
        locator = get_locator(data)
        found, near_m = (
            usecases.locating.answer(locator, x, y, crs_name, units=n_units),
            locator.near_m,
        )
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_format_location(found.location, crs_name, near_m, found.units))


# ---------------------------------------------------------------------- bulk locate
def _table_format(path: Path, what: str) -> str:
    fmt = _TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: {what} must be .csv, .geojson or .json")
    return fmt


def _read_points(path: Path, fmt: str, lon_col, lat_col) -> _bulk.Points:
    """The points of a bulk input file; its problems named with its path."""
    data = path.read_bytes()
    try:
        if fmt == "csv":
            return _bulk.read_csv(data, lon_column=lon_col, lat_column=lat_col)
        return _bulk.read_geojson(data)
    except _bulk.ColumnNotFound as exc:
        raise DataError(f"{path}: {exc.message}; name them with --lon-col/--lat-col") from None
    except InputError as exc:
        raise type(exc)(f"{path}: {exc.message}") from None


def _progress(rows, total: int):
    return tqdm(rows, total=total, desc="locating", unit="row", file=sys.stderr, disable=None)


def _locate_file(in_path, out_path, crs_name, lon_col, lat_col, data) -> None:
    in_fmt = _table_format(in_path, "--in")
    out_fmt = _table_format(out_path, "--out")
    if in_path.absolute() == out_path.absolute():
        raise click.UsageError("--out must not be the --in file")
    if in_fmt != "csv" and (lon_col or lat_col):
        raise click.UsageError("--lon-col/--lat-col apply to CSV input only")
    crs_name = _crs.normalize_crs(crs_name) if crs_name else None
    points = _read_points(in_path, in_fmt, lon_col, lat_col)
    try:
        crs_name = _bulk.resolve_crs(points, crs_name)
    except InputError as exc:
        raise InputError(f"{in_path}: {exc.message}") from None
    wgs84 = _bulk.WGS84_FIELDS if crs_name != "wgs84" else ()
    fields = (*_bulk.ANSWER_FIELDS, *wgs84, _bulk.ERROR_FIELD)
    locator = get_locator(data)
    results = _bulk.locate(points, locator, crs_name, fields=fields, progress=_progress)
    if out_fmt == "csv":
        _atomic_write(out_path, lambda f: _bulk.write_csv(results, f, bom=True))
    else:
        collection = _bulk.to_geojson(results)
        _atomic_write(out_path, lambda f: _bulk.write_geojson(collection, f))

    summary = results.summary()
    outside = [points.where(i) for i in results.outside]
    bad = results.problems()
    lines = [
        f"Located {summary['located']} of {summary['points']} rows into a grid; wrote {out_path}"
    ]
    if outside:
        shown = ", ".join(outside[:_LISTED_ROWS])
        more = f" and {len(outside) - _LISTED_ROWS} more" if len(outside) > _LISTED_ROWS else ""
        lines.append(f"{len(outside)} outside the district: {shown}{more}")
    if bad:
        lines.append(f"{len(bad)} with bad coordinates (see the error column):")
        lines += [f"  {b}" for b in bad[:_LISTED_ROWS]]
        if len(bad) > _LISTED_ROWS:
            lines.append(f"  ... and {len(bad) - _LISTED_ROWS} more")
    click.echo("\n".join(lines), err=True)
    if bad or outside:
        click.get_current_context().exit(1)
