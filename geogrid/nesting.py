"""How deep JSON values nest: GeoJSON input nesting arrays and objects deeper than
:data:`MAX_DEPTH` levels is refused where it is read (:func:`geogrid.bulk.read_geojson`,
:func:`geogrid.io.read_layer`), because writing such values back (or just printing them)
recurses once per level; a 10 KB body can nest a thousand levels.

>>> too_deep({"a": [1, {"b": 2}]}, 3), too_deep({"a": [1, {"b": [2]}]}, 3)
(False, True)
>>> text_too_deep('{"a": "[[[[", "b": [1]}', 2), text_too_deep('{"a": [[1]]}', 2)
(False, True)
"""

from __future__ import annotations

#: Deepest nesting of arrays and objects accepted in a feature, the feature itself the first level
#: (a Point feature's coordinates are its third, its properties' values its third and deeper).
MAX_DEPTH = 32


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` levels deep (``value`` itself
    the first level when it is one); without recursion, so any depth a parser returned is
    measured."""
    if type(value) not in (dict, list):
        return False
    if limit < 1:
        return True
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        for child in v.values() if type(v) is dict else v:
            t = type(child)
            if t is dict or t is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def text_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays and objects more than ``limit`` levels deep (brackets
    inside strings do not count). For text a parser gave up on, such as a property GDAL typed
    as JSON that was too deep to decode."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False
