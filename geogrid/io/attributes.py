"""Field mapping and attribute values: which source column each of our fields is read from, codes
and phones as exact text, grid levels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import model
from ..errors import DataError, InputError
from .schema import _LEVELS, _MAX_EXACT_FLOAT, SHAPEFILE_NAMES


def _check_mapping(mapping, names, what: str) -> dict:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise InputError(f"{what} must be a mapping of our field names to the source's")
    for key, value in mapping.items():
        if key not in names:
            raise InputError(f"{what}: unknown field {key!r}; expected one of {', '.join(names)}")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{what}: source field for {key!r} must be a name, not {value!r}")
    return dict(mapping)


def resolve_fields(path: Path, frame: gpd.GeoDataFrame, names, mapping: dict) -> dict:
    """Our field name -> the source column it is read from (names without a source left out)."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    folded: dict[str, str] = {}
    for col in columns:
        folded.setdefault(str(col).casefold(), col)
    source = {}
    for name in names:
        if name in mapping:
            wanted = mapping[name]
            if wanted is None:
                continue
            col = wanted if wanted in columns else folded.get(wanted.casefold())
            if col is None:
                raise DataError(
                    f"{path}: no field {wanted!r} (mapped to {name!r}); "
                    f"the file has fields: {', '.join(map(str, columns)) or 'none'}"
                )
            source[name] = col
            continue
        for candidate in (name, SHAPEFILE_NAMES.get(name)):
            if candidate and candidate.casefold() in folded:
                source[name] = folded[candidate.casefold()]
                break
    return source


def feature_records(path: Path, frame: gpd.GeoDataFrame, source: dict, names):
    """``(record, geometry)`` per feature, every one of ``names`` present (None when missing)."""
    values = {name: frame[col].tolist() for name, col in source.items()}
    for i, geom in enumerate(frame.geometry):
        rec = {}
        for name in names:
            raw = values[name][i] if name in values else None
            if name == "level":
                rec[name] = raw  # parsed by grid_level, which knows the feature
            elif name in model.INT_COLUMNS:
                rec[name] = _integer(raw, f"{path}: feature {i}, field {source.get(name)!r}")
            else:
                rec[name] = _text(raw, f"{path}: feature {i}, field {source.get(name)!r}")
        yield rec, geom


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(value, where: str) -> str | None:
    """A field value as text: integers (even when stored as float) as their exact digits."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if value.is_integer():
            if abs(value) >= _MAX_EXACT_FLOAT:
                raise DataError(
                    f"{where}: the number {value:.17g} is too large to be exact as a "
                    "floating-point field; store codes as text"
                )
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text or None


def _integer(value, where: str) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(float(text)) if float(text).is_integer() else _not_int(value, where)
        except ValueError:
            pass
    return _not_int(value, where)


def _not_int(value, where: str):
    raise DataError(f"{where}: expected a whole number, got {value!r}")


def _parse_level(value) -> int | None:
    """1 or 2 from 1/2, "1"/"2", "一级"/"二级"; None for anything else."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer | float | np.floating):
        return int(value) if float(value) in (1.0, 2.0) else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LEVELS:
            return _LEVELS[text]
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number in (1.0, 2.0) else None
    return None


def grid_level(rec: dict, default: int | None, where: str) -> int:
    raw = rec.pop("level")
    if not _missing(raw) and not (isinstance(raw, str) and not raw.strip()):
        level = _parse_level(raw)
        if level is None:
            raise DataError(f"{where}: level {raw!r} is not 1 or 2 (一级/二级)")
        return level
    if default is not None:
        return default
    by_length = {12: 1, 15: 2}.get(len(rec["code"]))
    if by_length is None:
        raise DataError(
            f"{where}: no level field, and a {len(rec['code'])}-character code is neither a "
            "12-digit first-level nor a 15-digit second-level code; pass level= or map the level field"
        )
    return by_length
