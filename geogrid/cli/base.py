"""What every command shares: where the district is (``--data``, ``$GEOGRID_DATA``), the cached
locator, field mappings, atomic writes, and the ``main`` group that turns geogrid's errors into
``error: <message>`` and an exit code."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import click
import shapely

from .. import crs as _crs
from .. import model, settings
from .. import validate as _validate
from ..errors import GeogridError, InputError
from ..locate import Locator

#: Environment variable naming the district directory used when ``--data`` is not given.
DATA_ENV = "GEOGRID_DATA"


# ---------------------------------------------------------------------- shared helpers
def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The district directory: ``value`` (``--data``), else ``$GEOGRID_DATA``, else the sample."""
    return Path(value or settings.data_dir() or model.default_data_dir())


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
    """A click group that turns geogrid's errors into ``error: <message>`` and an exit code, and
    adds the commands of other packages (entry points ``geogrid.commands``) when first asked for
    its commands: loaded lazily, so that such a package may import :mod:`geogrid.cli` itself."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry in importlib.metadata.entry_points(group="geogrid.commands"):
            if entry.name not in self.commands:
                self.add_command(entry.load(), entry.name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str):
        self._load_plugins()
        return super().get_command(ctx, cmd_name)

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
