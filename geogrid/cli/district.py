"""Commands on district data and GIS files: ``sample``, ``info``, ``validate``, ``import``, ``export``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from .. import io as _io
from .. import model, sample
from .. import validate as _validate
from ..errors import InputError, ValidationFailed
from .base import (
    _area_km2,
    _mapping_option,
    _print_report,
    data_dir,
    data_option,
    load_district,
    main,
    write_district_dir,
)
from .db import _service, cli_user, db_option, import_to_db


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
@click.option("--version", "version", type=int, default=None, help="A version in the database.")
@click.option("--draft", "draft", type=int, default=None, help="A draft in the database.")
@db_option
@data_option
def export_cmd(layer: str, out: Path, fmt, version, draft, db_url, data):
    """Write one layer of a district (outline, grids1, grids2, units) to a GIS file: of the
    data folder, or with --version / --draft of the database."""
    if version is not None or draft is not None:
        from ..usecases import exchange

        if fmt == "csv" or (fmt is None and out.suffix.lower() == ".csv"):
            raise InputError("from the database: geojson, gpkg or shp (a .zip)")
        fmt = fmt or {".json": "geojson", ".zip": "shp"}.get(out.suffix.lower(), out.suffix)
        name, blob, _ = exchange.export(
            _service(db_url), cli_user(), version=version, draft=draft, layer=layer, fmt=fmt
        )
        if out.suffix.lower() not in (".geojson", ".json", ".gpkg", ".zip"):
            out = out.with_name(out.name + Path(name).suffix)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(blob)
        click.echo(f"Wrote {layer} of {name.rsplit('-', 1)[0]} to {out}")
        return
    district = load_district(data)
    path = _io.export_layer(district, layer, out, fmt)
    count = 1 if layer == "outline" else len(getattr(district, layer))
    click.echo(f"Wrote {layer} ({count} feature{'s' if count != 1 else ''}) to {path}")
