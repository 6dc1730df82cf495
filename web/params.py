"""Request parameters: text, whole numbers, numbers, CRS names, coordinates, boxes, times, yes/no.

Each is parsed here once per request and handed on as a plain value; a bad one raises
:class:`~geogrid.errors.InputError` (400 with a message naming the parameter). A leaf: imports
nothing from ``web``.
"""

from __future__ import annotations

import numpy as np
from flask import request

from geogrid import crs as _crs
from geogrid.db.types import parse_time
from geogrid.errors import InputError
from geogrid.usecases.locating import Point

#: Largest whole number a parameter may be (version numbers are 32-bit in the database).
MAX_INT = 2**31 - 1
#: Map systems an answer can be converted to for display.
DISPLAY_CRS = _crs.CRS_NAMES

BOOL = {"1": True, "true": True, "yes": True, "on": True}
BOOL.update({"0": False, "false": False, "no": False, "off": False})


def text(name: str, *aliases: str, required: bool = False) -> str | None:
    """A query parameter, stripped (or the first of its aliases given); blank counts as absent."""
    for key in (name, *aliases):
        value = request.args.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    if required:
        also = f" (or {', '.join(aliases)})" if aliases else ""
        raise InputError(f"missing query parameter {name}{also}")
    return None


def integer(name: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
    value = text(name)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {value[:40]!r}") from None
    if number < lo or (hi is not None and number > hi):
        limits = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InputError(f"{name} must be {limits}, got {value[:40]}")
    return number


def number(name: str, default: float, lo: float, hi: float) -> float:
    value = text(name)
    if value is None:
        return default
    found = _crs.parse_coordinate(value, name)
    if not lo <= found <= hi:
        raise InputError(f"{name} must be between {lo:g} and {hi:g}, got {found:g}")
    return found


def flag(name: str, default: bool = False) -> bool:
    """A yes/no parameter (1/0, true/false, yes/no, on/off)."""
    value = text(name)
    if value is None:
        return default
    try:
        return BOOL[value.lower()]
    except KeyError:
        raise InputError(f"{name} must be true or false, got {value[:40]!r}") from None


def coordinate(name: str, alias: str) -> float:
    """A coordinate parameter (``lon`` or its alias ``x``), named as the caller named it."""
    used = name if text(name) is not None else alias
    return _crs.parse_coordinate(text(name, alias, required=True), used)


def crs(name: str = "crs", default: str | None = "wgs84") -> str | None:
    """An input CRS, by its canonical name (any spelling :func:`geogrid.crs.normalize_crs` takes)."""
    value = text(name)
    if value is None:
        return default
    return _crs.normalize_crs(value)


def display_crs(name: str, default: str | None) -> str | None:
    """A map system to show an answer in (one of :data:`DISPLAY_CRS`)."""
    value = text(name)
    if value is None:
        return default
    canonical = _crs.normalize_crs(value)
    if canonical not in DISPLAY_CRS:
        raise InputError(
            f"{name} must be one of {', '.join(DISPLAY_CRS)} (a map's lon/lat system), got {value[:40]!r}"
        )
    return canonical


def point() -> Point:
    """The point of a locate request (``lon``/``x``, ``lat``/``y`` in ``crs``), parsed and
    converted to WGS-84 once; the use case and the locator take it as it is."""
    return Point.of(coordinate("lon", "x"), coordinate("lat", "y"), crs("crs", "wgs84"))


def at(name: str = "at"):
    """A moment (``at``: ISO 8601) or None for now."""
    return parse_time(text(name), name)


def bbox(name: str = "bbox"):
    """``minlon,minlat,maxlon,maxlat`` in WGS-84, or None."""
    value = text(name)
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InputError("bbox must be minlon,minlat,maxlon,maxlat (WGS-84)")
    names = ("minlon", "minlat", "maxlon", "maxlat")
    box = [_crs.parse_coordinate(p, n) for p, n in zip(parts, names, strict=True)]
    _crs.check_coordinates(np.array(box[0::2]), np.array(box[1::2]), "wgs84")
    if box[0] > box[2] or box[1] > box[3]:
        raise InputError("bbox must be minlon,minlat,maxlon,maxlat with min <= max")
    return box


def json_object(allowed: set[str] | None = None, *, empty_ok: bool = False) -> dict:
    """The request's JSON object body (an empty body is ``{}`` with ``empty_ok``); with
    ``allowed``, any other field is an error (a misspelt field is refused, not dropped)."""
    if empty_ok and not request.get_data():
        return {}
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object")
    return only_fields(data, allowed) if allowed is not None else data


def only_fields(data: dict, allowed: set[str]) -> dict:
    """``data`` if it has no field but ``allowed`` ones, else :class:`InputError` naming one."""
    unknown = set(data) - allowed
    if unknown:
        raise InputError(
            f"unknown field {sorted(map(str, unknown))[0]!r} (fields: {', '.join(sorted(allowed))})"
        )
    return data
