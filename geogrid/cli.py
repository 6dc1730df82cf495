"""The ``geogrid`` command line: sample data, district info, validation, import, export, locate.

Commands that read a district take ``--data DIR``; without it they use ``$GEOGRID_DATA``, else the
bundled sample (:func:`data_dir` is the one place that decides). Exit codes, for every command:

==  ===========================================================================================
0   success
1   the data failed validation (``validate``, ``import``), or a bulk ``locate`` left rows
    without a grid
2   unusable input: a usage error, an unreadable file, a bad coordinate, an unknown CRS
==  ===========================================================================================

A :class:`~geogrid.errors.GeogridError` raised anywhere below a command becomes
``error: <message>`` on stderr and the error's ``exit_code`` (:class:`GeogridGroup`), never a
traceback. A new command is a function decorated with ``@main.command()``; it reads the district
with :func:`load_district` (or :func:`get_locator`) and lets geogrid's errors propagate.

Field mappings are parsed from ``NAME=SOURCEFIELD`` options; an empty source field ignores the
attribute:

>>> parse_mapping(["code=网格编码", " name = 网格名称 ", "kind="])
{'code': '网格编码', 'name': '网格名称', 'kind': None}
>>> parse_mapping(["code"])
Traceback (most recent call last):
...
ValueError: 'code' is not NAME=SOURCEFIELD (for example code=网格编码)
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import click
import shapely
from tqdm import tqdm

from . import bulk as _bulk
from . import crs as _crs
from . import io as _io
from . import model, sample
from . import validate as _validate
from .errors import CoordinateError, DataError, GeogridError, InputError, ValidationFailed
from .locate import Location, Locator

#: Environment variable naming the district directory used when ``--data`` is not given.
DATA_ENV = "GEOGRID_DATA"

#: Bad or unlocated rows listed one by one in a bulk summary; the rest are counted.
_LISTED_ROWS = 20

_TABLE_SUFFIXES = {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}


# ---------------------------------------------------------------------- shared helpers
def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The district directory: ``value`` (``--data``), else ``$GEOGRID_DATA``, else the sample."""
    return Path(value or os.environ.get(DATA_ENV) or model.default_data_dir())


def load_district(value: str | os.PathLike | None = None) -> model.District:
    """The district in :func:`data_dir` of ``value``."""
    return model.District.load(data_dir(value))


@functools.lru_cache(maxsize=4)
def _cached_locator(path: str, stamp: tuple) -> Locator:
    return Locator(model.District.load(path))


def get_locator(value: str | os.PathLike | None = None) -> Locator:
    """A :class:`~geogrid.locate.Locator` over :func:`data_dir` of ``value``.

    Cached per directory and the modification times of its layer files, so one process (a test
    run, a future server) builds it once per version of the data.
    """
    path = data_dir(value).resolve()
    stamp = []
    for name in model.LAYER_FILES.values():
        try:
            stamp.append((path / name).stat().st_mtime_ns)
        except OSError:
            stamp.append(None)
    return _cached_locator(str(path), tuple(stamp))


def data_option(fn: Callable) -> Callable:
    """The ``--data DIR`` option, resolved later by :func:`data_dir`."""
    return click.option(
        "--data",
        metavar="DIR",
        default=None,
        help=f"District directory [default: ${DATA_ENV}, else the bundled sample].",
    )(fn)


def parse_mapping(items: Iterable[str]) -> dict[str, str | None]:
    """``NAME=SOURCEFIELD`` items as a dict; raises ValueError for an item without ``=``."""
    out: dict[str, str | None] = {}
    for item in items:
        name, sep, source = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{item!r} is not NAME=SOURCEFIELD (for example code=网格编码)")
        out[name.strip()] = source.strip() or None
    return out


def _mapping_option(ctx, param, values):
    try:
        return parse_mapping(values) or None
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def write_district_dir(district: model.District, out: Path) -> None:
    """Write ``district`` to directory ``out`` atomically.

    The layers are written to a temporary sibling directory that then takes the place of ``out``,
    so a failure never leaves a half-written ``out``. An existing ``out`` must be empty or a
    district directory (it holds a layer file); its other files (a README) are carried over.
    """
    out = Path(out).absolute()
    layer_names = set(model.LAYER_FILES.values())
    existing: list[Path] = []
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out}: exists and is not a directory")
        existing = list(out.iterdir())
        if existing and not any(p.name in layer_names for p in existing):
            raise InputError(
                f"{out}: exists and is not a district directory (it holds none of "
                f"{', '.join(model.LAYER_FILES.values())}); choose a new or empty directory"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    tmp = out.with_name(f".{out.name}.tmp-{tag}")
    tmp.mkdir()  # not mkdtemp: the directory gets the usual permissions
    try:
        district.save(tmp)
        if not out.exists():
            tmp.rename(out)
            return
        for entry in existing:
            if entry.name in layer_names or entry.name.endswith(".tmp"):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, tmp / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
        old = out.with_name(f".{out.name}.old-{tag}")
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _atomic_write(path: Path, write: Callable, encoding: str = "utf-8") -> None:
    """Write a text file through ``write(file)`` into a temporary sibling, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "w", encoding=encoding, newline="") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _print_report(report: _validate.Report, as_json: bool) -> None:
    click.echo(report.to_json(indent=2) if as_json else report.format_text())


def _area_km2(district: model.District) -> float:
    """The district's area in km², measured in EPSG:4549."""
    try:
        territory = district.territory()
    except shapely.errors.GEOSException:  # no outline and overlapping grids: still an answer
        territory = shapely.union_all(district.grids2.geometry.values)
    return float(_crs.area_m2(territory)) / 1e6


# ---------------------------------------------------------------------- the group
class GeogridGroup(click.Group):
    """A click group that turns geogrid's errors into ``error: <message>`` and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GeogridError as exc:
            click.echo(f"error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a path the user gave: missing, not writable, a directory...
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(2)


@click.group(
    cls=GeogridGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="geogrid")
def main():
    """Grid management for a sub-district: boundaries, validation and "which grid is this?".

    Commands reading a district use --data DIR, else $GEOGRID_DATA, else the bundled sample
    (Xianlin, fictional). Exit status: 0 success, 1 data failed validation (or a bulk locate left
    rows without a grid), 2 unusable input.
    """


# ---------------------------------------------------------------------- sample
@main.command("sample")
@click.option(
    "--seed", type=int, default=sample.DEFAULT_SEED, show_default=True, help="Random seed."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    default=Path("boundaries"),
    show_default=True,
    help="District directory to write.",
)
def sample_cmd(seed: int, out: Path):
    """Generate the fictional sample district and write it to DIR."""
    district = sample.generate(seed)
    write_district_dir(district, out)
    area = _area_km2(district)
    click.echo(
        f"Wrote sample district {district.code} {district.name} (seed {seed}) to {out}: "
        f"{len(district.grids1)} first-level grids, {len(district.grids2)} second-level grids, "
        f"{len(district.units)} units, {area:.2f} km²"
    )


# ---------------------------------------------------------------------- info
@main.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(data, as_json: bool):
    """Summarise a district: area, grid and unit counts, residents."""
    path = data_dir(data)
    district = model.District.load(path)
    units = district.units
    categories = Counter(c for c in units["category"] if c is not None)
    residents = int(units["residents"].sum()) if len(units) else 0
    households = int(units["households"].sum()) if len(units) else 0
    facts = {
        "code": district.code,
        "name": district.name,
        "data": str(path),
        "area_km2": round(_area_km2(district), 4),
        "grids1": len(district.grids1),
        "grids2": len(district.grids2),
        "units": len(units),
        "units_by_category": dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        "residents": residents,
        "households": households,
        "sample": district.meta.get("sample") is True,
    }
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    lines = [
        f"District     {facts['code']} {facts['name']}".rstrip(),
        f"Data         {facts['data']}",
        f"Sample data  {'yes (fictional)' if facts['sample'] else 'no'}",
        f"Area         {facts['area_km2']:.2f} km² (EPSG:4549)",
        f"Grids        {facts['grids1']} first-level, {facts['grids2']} second-level",
        f"Units        {facts['units']}",
        *(f"  {cat}: {n}" for cat, n in facts["units_by_category"].items()),
        f"Residents    {residents:,} in {households:,} households (from the units)",
    ]
    click.echo("\n".join(lines))


# ---------------------------------------------------------------------- validate
@main.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--gap-width",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="METRES",
    help="Find narrow gaps and inlets between grids up to this width.",
)
def validate_cmd(path: Path, as_json: bool, gap_width: float):
    """Check a district directory, or one grids file of any format, against the grid rules.

    Exit status 0 when there is no error (notices allowed), 1 on errors, 2 when PATH cannot be
    read.
    """
    district = model.District.load(path) if path.is_dir() else _io.import_district(path)
    report = _validate.validate(district, gap_width_m=gap_width)
    _print_report(report, as_json)
    if not report.ok:
        raise ValidationFailed(report)


# ---------------------------------------------------------------------- import
@main.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write a district directory (with --commit) instead of storing a version in the database.",
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="Database to store the draft in [default: $GEOGRID_DATABASE_URL, else instance/geogrid.sqlite3].",
)
@click.option(
    "--publish",
    is_flag=True,
    help="With --commit into the database: publish the new version at once.",
)
@click.option("--note", default="", help="A note kept with the new version.")
@click.option("--units", multiple=True, metavar="FILE", help="Units (points); repeatable.")
@click.option("--outline", metavar="FILE", help="The district's outline.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    callback=_mapping_option,
    metavar="NAME=SOURCEFIELD",
    help="Read grid attribute NAME from SOURCEFIELD (empty: ignore it); repeatable.",
)
@click.option(
    "--unit-field",
    "unit_fields",
    multiple=True,
    callback=_mapping_option,
    metavar="NAME=SOURCEFIELD",
    help="The same for unit attributes.",
)
@click.option(
    "--src-crs",
    metavar="CRS",
    help="CRS of every file, overriding theirs: EPSG:n, cgcs2000, gcj02, bd09...",
)
@click.option(
    "--level",
    type=click.Choice(["1", "2"]),
    help="Level of grids that have no level field and no 12/15-digit code.",
)
@click.option("--layer", metavar="NAME", help="Layer to read from multi-layer grid files.")
@click.option("--district-code", metavar="CODE", help="Sub-district code (9 digits).")
@click.option("--district-name", metavar="NAME", help="Sub-district name.")
@click.option("--commit", is_flag=True, help="Write DIR; without it this is a dry run.")
def import_cmd(
    sources,
    out: Path | None,
    db_url,
    publish: bool,
    note: str,
    units,
    outline,
    fields,
    unit_fields,
    src_crs,
    level,
    layer,
    district_code,
    district_name,
    commit: bool,
):
    """Import grids (and units, outline) from GIS files, validate them, and with --commit store
    them as a new draft version in the database (publish it with `geogrid publish N`, or at once
    with --publish), or with --out DIR write them as a district directory instead.

    SOURCE files are anything GDAL reads (GeoJSON, GeoPackage, Shapefile or zipped Shapefile,
    CSV...) holding first- and/or second-level grids. Without --commit nothing is written (a dry
    run); with --commit the data is stored only when validation finds no error (a directory is
    replaced as a whole). Exit status 0 when valid, 1 on validation errors (nothing written), 2 on unreadable
    input.

    \b
    Example: grids from AMap (GCJ-02) with Chinese field names:
      geogrid import 网格.shp --units 单位.csv --src-crs gcj02 \\
          --field code=网格编码 --field name=网格名称 --field worker=网格员 \\
          --commit --publish --note "2026 boundaries"
    """
    district = _io.import_district(
        list(sources),
        units=list(units) or None,
        outline=outline,
        fields=fields,
        unit_fields=unit_fields,
        src_crs=src_crs,
        level=int(level) if level else None,
        layer=layer,
        district_code=district_code,
        district_name=district_name,
    )
    click.echo(
        f"Read district {district.code or '(no code)'} {district.name}".rstrip()
        + f": {len(district.grids1)} first-level grids, {len(district.grids2)} second-level "
        f"grids, {len(district.units)} units, outline {'yes' if district.outline else 'no'}"
    )
    report = _validate.validate(district)
    click.echo(report.format_text())
    if not report.ok:
        click.echo(f"Nothing written to {out or 'the database'}: fix the errors first.", err=True)
        raise ValidationFailed(report)
    if out is None:
        import_to_db(district, db_url, commit=commit, publish=publish, note=note)
        return
    if not commit:
        click.echo(f"Dry run: nothing written. Add --commit to write {out}.")
        return
    write_district_dir(district, out)
    click.echo(f"Wrote {out}")


# ---------------------------------------------------------------------- export
@main.command("export")
@click.argument("layer", type=click.Choice(_io.LAYERS))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="File to write (replaced)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_io.FORMATS),
    help="Output format [default: from the suffix of --out].",
)
@data_option
def export_cmd(layer: str, out: Path, fmt, data):
    """Write one layer of a district (outline, grids1, grids2, units) to a GIS file."""
    district = load_district(data)
    path = _io.export_layer(district, layer, out, fmt)
    count = 1 if layer == "outline" else len(getattr(district, layer))
    click.echo(f"Wrote {layer} ({count} feature{'s' if count != 1 else ''}) to {path}")


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


# ---------------------------------------------------------------------- database commands
from . import usecases  # noqa: E402
from .access import cli_actor  # noqa: E402
from .cli_db import COMMANDS, actor, import_to_db, open_store  # noqa: E402
from .db.types import parse_time  # noqa: E402
from .service import Service  # noqa: E402

for _command in COMMANDS:
    main.add_command(_command)

# Commands from other packages (the web service's `serve`), so the core never imports Flask.
for _entry in importlib.metadata.entry_points(group="geogrid.commands"):
    main.add_command(_entry.load(), _entry.name)
