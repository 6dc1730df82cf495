"""Checking coordinates from user input: parsing one number, and finiteness and lon/lat ranges
of numbers or arrays in a given CRS."""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from ..errors import CoordinateError
from .names import _describe, axis_names, is_geographic, normalize_crs

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


_NON_FINITE_WORDS = {"nan", "inf", "infinity"}


def parse_coordinate(value, name: str = "value") -> float:
    """A coordinate from user input (a string, int or float) as a finite float.

    Raises :class:`~geogrid.errors.CoordinateError` naming ``name`` otherwise. Ranges are not
    checked here: that depends on the CRS, see :func:`check_coordinates`.

    >>> parse_coordinate(" 118.93 ", "lon"), parse_coordinate(32, "lat")
    (118.93, 32.0)
    >>> parse_coordinate("abc", "lon")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lon must be a number, got 'abc'
    >>> parse_coordinate("nan", "lat")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat must be a finite number, got 'nan'
    """
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_RE.fullmatch(text):
            number = float(text)
        elif text.lower().lstrip("+-") in _NON_FINITE_WORDS:
            number = math.nan
        else:
            raise CoordinateError(f"{name} must be a number, got {_describe(value)}")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            number = math.inf
    else:
        raise CoordinateError(f"{name} must be a number, got {_describe(value)}")
    if not math.isfinite(number):
        raise CoordinateError(f"{name} must be a finite number, got {_describe(value)}")
    return number


def _index(flat_index: int, shape: tuple) -> int | tuple:
    if len(shape) <= 1:
        return flat_index
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def _object_array(value) -> np.ndarray:
    array = np.empty(np.shape(value), dtype=object)
    array[...] = value
    return array


def _check_values(value, name: str, bounds: tuple[float, float] | None):
    """Raise CoordinateError unless ``value`` is a finite number (or array of them) in bounds."""
    if type(value) is float or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        number = float(value)
        if not math.isfinite(number):
            raise CoordinateError(f"{name} {number!r} is not a finite number")
        if bounds is not None and not bounds[0] <= number <= bounds[1]:
            raise CoordinateError(f"{name} {number!r} is out of range [{bounds[0]}, {bounds[1]}]")
        return ()
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise CoordinateError(f"{name} {_describe(value)} is not a number")
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested sequences
        raise CoordinateError(f"{name} must be a number or an array of numbers") from None
    if array.dtype.kind in "OUS":  # objects or strings: find the elements that are not numbers
        # from a list, numpy has turned mixed numbers and strings into strings: start again
        array = array.astype(object) if isinstance(value, np.ndarray) else _object_array(value)
        flat = array.ravel()
        bad = [
            i for i, v in enumerate(flat) if not isinstance(v, numbers.Real) or isinstance(v, bool)
        ]
        if bad:
            raise CoordinateError(
                f"{name} has {len(bad)} of {flat.size} values that are not numbers, "
                f"the first at index {_index(bad[0], array.shape)} ({_describe(flat[bad[0]])})"
            )
        array = array.astype(np.float64)
    elif array.dtype.kind not in "iuf":
        raise CoordinateError(f"{name} must be numbers, got an array of {array.dtype}")
    flat = array.ravel()
    if flat.size:  # the common case in two fast passes: min and max (NaN makes both NaN)
        lo, hi = float(flat.min()), float(flat.max())
        finite = math.isfinite(lo) and math.isfinite(hi)
        if finite and (bounds is None or (bounds[0] <= lo and hi <= bounds[1])):
            return array.shape
    bad = ~np.isfinite(flat)
    problem = "that are not finite numbers"
    if not bad.any() and bounds is not None:
        bad = (flat < bounds[0]) | (flat > bounds[1])
        problem = f"out of range [{bounds[0]}, {bounds[1]}]"
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise CoordinateError(
            f"{name} has {int(bad.sum())} of {flat.size} values {problem}, "
            f"the first at index {_index(first, array.shape)} ({float(flat[first])!r})"
        )
    return array.shape


def check_coordinates(x, y, crs="wgs84") -> None:
    """Raise :class:`~geogrid.errors.CoordinateError` unless ``x``, ``y`` are valid in ``crs``.

    Numbers or arrays of numbers must be finite; in a geographic CRS (wgs84, cgcs2000, gcj02,
    bd09, geographic EPSG codes) lon must lie in [-180, 180] and lat in [-90, 90]. Projected
    coordinates are only checked for finiteness. Arrays report how many values are bad and the
    index of the first.

    >>> check_coordinates(118.93, 32.11)
    >>> check_coordinates(118.93, 95.0)
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat 95.0 is out of range [-90, 90]
    >>> check_coordinates([118.93, 118.94], [32.11, float("nan")], "gcj02")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat has 1 of 2 values that are not finite numbers, the first at index 1 (nan)
    >>> check_coordinates(399011.0, float("inf"), "EPSG:4549")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: y inf is not a finite number
    """
    name = normalize_crs(crs)
    xname, yname = axis_names(name)
    geographic = is_geographic(name)
    xshape = _check_values(x, xname, (-180, 180) if geographic else None)
    yshape = _check_values(y, yname, (-90, 90) if geographic else None)
    names = f"{xname} and {yname}"
    try:
        if xshape and yshape:
            np.broadcast_shapes(xshape, yshape)
    except ValueError:
        raise CoordinateError(f"{names} have different shapes {xshape} and {yshape}") from None
