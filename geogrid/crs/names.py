"""CRS names: the canonical names geogrid handles itself, their aliases, and EPSG codes parsed
and checked with pyproj."""

from __future__ import annotations

import numbers
import re
from functools import lru_cache

import pyproj

from ..errors import CRSError

#: The canonical names of the systems geogrid handles itself; any other CRS is ``'EPSG:NNNN'``.
CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")


# Keys are lower-cased with spaces, hyphens and underscores removed. The ``*ll`` spellings are
# Baidu's ``coordtype`` values (bd09ll, gcj02ll, wgs84ll); bd09mc (Baidu Mercator) is not accepted.
_ALIASES = {
    "wgs84": "wgs84",
    "wgs84ll": "wgs84",
    "crs84": "wgs84",
    "ogc:crs84": "wgs84",
    "cgcs2000": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "gcj02ll": "gcj02",
    "bd09": "bd09",
    "bd": "bd09",
    "bd09ll": "bd09",
}


_EPSG_ALIASES = {4326: "wgs84", 4490: "cgcs2000"}


_EPSG_RE = re.compile(r"(?:epsg:{0,2}|urn:ogc:def:crs:epsg:[\d.]*:)?(\d{1,6})")


_ACCEPTED = (
    "accepted: 'wgs84' (or WGS-84, EPSG:4326, 4326), 'cgcs2000' (or EPSG:4490), "
    "'gcj02' (or GCJ-02, gcj), 'bd09' (or BD-09, bd), or an EPSG code such as 'EPSG:4549'"
)


def _describe(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@lru_cache(maxsize=512, typed=True)
def _normalize(name) -> tuple[str | None, str | None]:
    """``(canonical, None)`` or ``(None, error message)``; errors are cached too."""
    if isinstance(name, bool):
        return None, f"unknown CRS {name!r}; {_ACCEPTED}"
    if isinstance(name, numbers.Integral):
        code = int(name)
    elif isinstance(name, str):
        key = re.sub(r"[\s_\-]", "", name.lower())
        if key in _ALIASES:
            return _ALIASES[key], None
        match = _EPSG_RE.fullmatch(key)
        if match is None:
            return None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
        code = int(match.group(1))
    else:
        return None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
    if code in _EPSG_ALIASES:
        return _EPSG_ALIASES[code], None
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        return None, f"unknown CRS {_describe(name)}: EPSG has no code {code}; {_ACCEPTED}"
    if not (crs.is_geographic or crs.is_projected):
        return None, (
            f"CRS {_describe(name)} ({crs.name}) is a {crs.type_name}, not a geographic or "
            f"projected CRS; {_ACCEPTED}"
        )
    return f"EPSG:{code}", None


def normalize_crs(name) -> str:
    """The canonical name of a CRS: ``'wgs84'``, ``'cgcs2000'``, ``'gcj02'``, ``'bd09'`` or
    ``'EPSG:NNNN'``.

    Case, spaces, hyphens and underscores do not matter; EPSG codes may be ints, ``'4549'``,
    ``'EPSG:4549'`` or ``'urn:ogc:def:crs:EPSG::4549'``. Anything else raises
    :class:`~geogrid.errors.CRSError` listing the accepted names. Results are cached.

    >>> [normalize_crs(n) for n in ("WGS-84", 4326, "EPSG:4490", "gcj", "BD-09", "epsg:4549")]
    ['wgs84', 'wgs84', 'cgcs2000', 'gcj02', 'bd09', 'EPSG:4549']
    >>> normalize_crs("mars")
    Traceback (most recent call last):
    ...
    geogrid.errors.CRSError: unknown CRS 'mars'; accepted: 'wgs84' (or WGS-84, EPSG:4326, 4326), 'cgcs2000' (or EPSG:4490), 'gcj02' (or GCJ-02, gcj), 'bd09' (or BD-09, bd), or an EPSG code such as 'EPSG:4549'
    """
    try:
        canonical, error = _normalize(name)
    except TypeError:  # unhashable
        canonical, error = None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
    if error is not None:
        raise CRSError(error)
    return canonical


@lru_cache(maxsize=256)
def is_geographic(name: str) -> bool:
    """Whether canonical CRS ``name`` is lon/lat (else x/y in metres).

    >>> is_geographic("gcj02"), is_geographic("EPSG:4549")
    (True, False)
    """
    if name in CRS_NAMES:
        return True
    return pyproj.CRS.from_user_input(name).is_geographic


def axis_names(name: str) -> tuple[str, str]:
    """``("lon", "lat")`` for a geographic CRS, ``("x", "y")`` for a projected one."""
    return ("lon", "lat") if is_geographic(name) else ("x", "y")
