"""The catalogue of incident categories: two levels (大类 / 小类) in the style of the 数字城管
event catalogue, plus 矛盾纠纷 (disputes) and 信访 (petitions). Each category has its deadline in
working days (:mod:`geogrid.workdays`) and the service office that takes it for joint handling
(会办) when the grid worker cannot handle it on the spot.

The default ships as ``catalogue.csv`` beside this module; an administrator edits the copy kept
in the database (seeded from it).

>>> cat = default_catalogue()
>>> c = cat.get("0601")
>>> c.major, c.minor, c.workdays, c.office
('公用设施', '井盖破损缺失', 1, '街道城建中心')
>>> sorted(cat.majors())[:3]
['信访', '公用设施', '其他']
>>> cat.get("9999")
Traceback (most recent call last):
...
geogrid.errors.InputError: unknown incident category '9999' (a 4-digit code of the catalogue, e.g. 0101)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from ..errors import DataError, InputError

#: A category's code: two digits for its major class, two for the minor one.
CODE = re.compile(r"^\d{4}$")
#: Longest deadline a category may have, in working days (about two months).
MAX_WORKDAYS = 40

_DEFAULT = Path(__file__).with_name("catalogue.csv")


@dataclass(frozen=True)
class Category:
    """One minor class (小类) of the catalogue and the major class (大类) it belongs to."""

    code: str
    major: str
    major_en: str
    minor: str
    minor_en: str
    workdays: int
    office: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_category(c: Category) -> Category:
    """Raise :class:`InputError` for a category that cannot be kept (bad code, empty names, a
    deadline outside 1 to :data:`MAX_WORKDAYS` working days, no office)."""
    if not CODE.match(c.code):
        raise InputError(f"a category code has 4 digits (major class, minor class), got {c.code!r}")
    for field in ("major", "minor", "office"):
        if not getattr(c, field).strip():
            raise InputError(f"category {c.code}: {field} is empty")
    if not 1 <= c.workdays <= MAX_WORKDAYS:
        raise InputError(
            f"category {c.code}: a deadline is 1 to {MAX_WORKDAYS} working days, got {c.workdays}"
        )
    return c


class Catalogue:
    """The categories by code, in code order."""

    def __init__(self, categories: Iterable[Category]):
        self._by_code: dict[str, Category] = {}
        for c in categories:
            check_category(c)
            if c.code in self._by_code:
                raise InputError(f"category code {c.code} appears twice")
            self._by_code[c.code] = c
        self._by_code = dict(sorted(self._by_code.items()))

    def __iter__(self):
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise InputError(
                f"unknown incident category {code!r} (a 4-digit code of the catalogue, e.g. 0101)"
            ) from None

    def majors(self) -> dict[str, list[Category]]:
        """The major classes, each with its minor ones."""
        out: dict[str, list[Category]] = {}
        for c in self:
            out.setdefault(c.major, []).append(c)
        return out


def read_catalogue(path: str | Path) -> Catalogue:
    """A catalogue from a CSV file with the columns of ``catalogue.csv``."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        return Catalogue(
            Category(
                code=r["code"].strip(),
                major=r["major"].strip(),
                major_en=r["major_en"].strip(),
                minor=r["minor"].strip(),
                minor_en=r["minor_en"].strip(),
                workdays=int(r["workdays"]),
                office=r["office"].strip(),
            )
            for r in rows
        )
    except (KeyError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: not a category catalogue ({exc})") from None


@cache
def default_catalogue() -> Catalogue:
    """The catalogue geogrid ships (seeded into a new database)."""
    return read_catalogue(_DEFAULT)
