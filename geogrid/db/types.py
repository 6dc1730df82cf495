"""Column types shared by both backends: geometry, UTC timestamps and checked text.

``Geometry`` is a PostGIS ``geometry(<type>, 4326)`` column on PostgreSQL, so reports and checks
can run in SQL (``ST_Covers``, ``ST_Area(geom::geography)``) with GiST indexes, and a WKB ``BLOB``
on SQLite. Python code always sees shapely geometries in WGS-84 lon/lat.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import shapely
from sqlalchemy import DateTime, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, UserDefinedType

from ..errors import InputError

SRID = 4326


class Geometry(UserDefinedType):
    """A shapely geometry stored as PostGIS geometry (SRID 4326) or as WKB on SQLite."""

    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry"):
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw):
        return f"geometry({self.geometry_type},{SRID})"

    def bind_expression(self, bindvalue):
        return _FromWKB(bindvalue)

    def column_expression(self, col):
        expr = _AsWKB(col)
        expr.type = self  # so that result_processor turns the WKB into shapely
        return expr

    def bind_processor(self, dialect):
        def process(value):
            return None if value is None else shapely.to_wkb(value)

        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            return None if value is None else shapely.from_wkb(bytes(value))

        return process


@compiles(Geometry, "sqlite")
def _geometry_sqlite(type_, compiler, **kw):
    return "BLOB"


class _FromWKB(FunctionElement):
    inherit_cache = True
    name = "st_geomfromwkb"


@compiles(_FromWKB)
def _from_wkb_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_FromWKB, "postgresql")
def _from_wkb_pg(element, compiler, **kw):
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


class _AsWKB(FunctionElement):
    inherit_cache = True
    name = "st_asbinary"


@compiles(_AsWKB)
def _as_wkb_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_AsWKB, "postgresql")
def _as_wkb_pg(element, compiler, **kw):
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive, in UTC)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: geogrid stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Str(TypeDecorator):
    r"""Text that both backends keep alike: PostgreSQL refuses NUL characters and text longer than
    a ``varchar``'s length, SQLite would keep either. Such a value is an
    :class:`~geogrid.errors.InputError` on both, before it reaches the database.

    >>> Str(5).process_bind_param("网格\x00", None)
    Traceback (most recent call last):
    ...
    geogrid.errors.InputError: text may not contain NUL characters (\x00): '网格\x00'
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, str):
            if "\x00" in value:
                raise InputError(f"text may not contain NUL characters (\\x00): {value[:40]!r}")
            if self.impl.length is not None and len(value) > self.impl.length:
                raise InputError(
                    f"text of {len(value)} characters, longer than the {self.impl.length} "
                    f"allowed here: {value[:40]!r}…"
                )
        return value


class LongStr(Str):
    """:class:`Str` without a length limit (``TEXT``)."""

    impl = Text
    cache_ok = True


def aware(when: datetime | None, what: str = "time") -> datetime | None:
    """``when`` unchanged if it carries a time zone; :class:`InputError` if it does not (a
    naive time is ambiguous: UTC? Beijing time?)."""
    if when is not None and (not isinstance(when, datetime) or when.tzinfo is None):
        raise InputError(f"{what} must be a datetime with a time zone, got {when!r}")
    return when


#: Local times people type are Beijing time.
BEIJING = timezone(timedelta(hours=8))


def parse_time(value: str | None, name: str = "time") -> datetime | None:
    """An ISO 8601 time (``2026-05-01``, ``2026-05-01T08:30``, with or without an offset) as an
    aware UTC datetime; times without an offset are Beijing time (UTC+8). ``name`` is what the
    error message calls the value.

    >>> parse_time("2026-05-01T08:30").isoformat()
    '2026-05-01T00:30:00+00:00'
    >>> parse_time("2026-05-01T08:30Z").hour
    8
    """
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=BEIJING)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError(
            f"{name} must be an ISO 8601 time such as 2026-05-01T08:30 (Beijing time) or "
            f"2026-05-01T00:30Z, got {value[:60]!r}"
        ) from None


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


__all__ = ["SRID", "Geometry", "LongStr", "Str", "UTCDateTime", "aware", "parse_time", "utcnow"]
