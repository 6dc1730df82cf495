"""Search: find units, grids, roads and addresses by Chinese name, code or pinyin.

A dispatcher types part of a name (``仙鹤``), a code (``320113005001``), or pinyin: initials
(``xhsq`` → 仙鹤社区) or full syllables without tones (``xianhe``). :class:`SearchIndex` answers
in well under a millisecond for the sample district and is built in a fraction of a second; the
service keeps one per boundary version (:meth:`geogrid.service.Service.search_index`).

>>> from geogrid.model import District, default_data_dir
>>> index = SearchIndex.from_district(District.load(default_data_dir()))
>>> [(h.kind, h.code, h.name, h.match) for h in index.search("xhsq", limit=3)]
[('grid1', '320113005001', '仙鹤社区', 'exact'), ('grid1', '320113005003', '学海社区', 'exact'), ('grid2', '320113005001001', '仙鹤社区第01网格', 'prefix')]
>>> index.search("xianhe")[0].name
'仙鹤社区'
>>> hit = index.search("320113005007007")[0]
>>> hit.kind, hit.name, hit.bbox is not None
('grid2', '东阳社区第07网格', True)
>>> hit = index.search("仙林大道310号")[0]
>>> hit.kind, hit.name, hit.address
('address', '仙林大道310号', '南京市栖霞区仙林大道310号')

What is indexed
---------------
``grid1``, ``grid2``
    name, code, pinyin of the name; a point inside the grid and its bounding box;
``road``
    each road named in the unit addresses (``仙林大道``), with the box around its units;
``unit``
    name, code, address, pinyin of the name; its point;
``address``
    each distinct unit address (shown without the city and district, ``仙林大道310号``), with
    its pinyin; the point of its unit (the mean if several units share it).

How a query matches
-------------------
The query is normalised (NFKC, so full-width letters and digits become ASCII; lower case;
spaces and apostrophes removed). It is compared with

* names and addresses as Chinese (or any) substrings;
* codes by prefix only (``320113005001`` finds the community and everything in it);
* pinyin of names and addresses, two ways: initials (``xhsq``) and full syllables without tones
  (``xianhe``, ``xianhesheq``: a full-pinyin match must start at a syllable, and may end inside
  one, as while typing). Letters and digits in a name stay as they are (``第01网格`` → ``d01wg``).

Polyphonic characters (多音字): the reading pypinyin gives in context comes first (its phrase
dictionary: 银行 → yinhang, 长乐 → changle), then every other reading it knows for each character,
so 仙林支行 is found by ``xlzh`` (zhi hang) as well as by the dictionary's ``xlzx``. Combinations
are tried in order of how many characters take another reading (none, one, two, ...) and capped at
:data:`MAX_VARIANTS` spellings per name and style; for initials, readings of a character that share
an initial count once (行 xing/hang/heng → x, h), so the cap rarely bites there.

Ranking
-------
Every hit is ``exact`` (the whole name, code or pinyin equals the query), ``prefix`` or
``substring``; an entry matched several ways keeps its best. Results are ordered by

1. match: exact, then prefix, then substring;
2. kind, on ties: first-level grid, second-level grid, road, unit, address (grids before units);
3. what matched: name, code, pinyin, address;
4. shorter names first, then by name.

>>> [(h.kind, h.name, h.match) for h in index.search("仙林大道", limit=3)]
[('road', '仙林大道', 'exact'), ('address', '仙林大道1号', 'prefix'), ('address', '仙林大道2号', 'prefix')]
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pypinyin import Style, pinyin

from . import crs as _crs
from .model import District

#: Most combinations of heteronym readings indexed per name and pinyin style.
MAX_VARIANTS = 16
#: Default and largest number of results.
DEFAULT_LIMIT = 10
MAX_LIMIT = 50

KINDS = ("grid1", "grid2", "road", "unit", "address")
_KIND_RANK = {k: i for i, k in enumerate(KINDS)}
MATCHES = ("exact", "prefix", "substring")
FIELDS = ("name", "code", "pinyin", "address")
_FIELD_RANK = {f: i for i, f in enumerate(FIELDS)}
_PINYIN_FIELDS = ("initials", "pinyin")
_NONE = 99  # "no match" in the per-entry best-match array
_TOP = "\U0010ffff"  # sorts after every character: q + _TOP bounds the strings starting with q

_STRIP = re.compile(r"[\s'’`]+")
_ALNUM = re.compile(r"[0-9a-z]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAN_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")
#: City, county and district at the start of an address (南京市栖霞区 …).
_ADMIN_PREFIX = re.compile(r"^(?:[^\d]{1,8}?省)?(?:[^\d]{1,8}?市)?(?:[^\d]{1,8}?[区县])?")
#: A road name at the start of a local address: 仙林大道310号 → 仙林大道.
_ROAD = re.compile(r"^(\D+?(?:大道|大街|路|街|巷|道|弄))\d")


def normalize(text: str) -> str:
    """A query or an indexed string as it is compared.

    >>> normalize(" Ｘｈ sq'１ ")
    'xhsq1'
    """
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def local_address(address: str) -> str:
    """An address without its province, city and district.

    >>> local_address("南京市栖霞区仙林大道310号")
    '仙林大道310号'
    """
    rest = _ADMIN_PREFIX.sub("", address, count=1)
    return rest or address


def road_of(address: str) -> str | None:
    """The road an address is on, when it starts with one.

    >>> road_of("南京市栖霞区仙林大道310号"), road_of("仙林湖公园")
    ('仙林大道', None)
    """
    m = _ROAD.match(local_address(address))
    return m.group(1) if m else None


@lru_cache(maxsize=8192)
def _char_readings(ch: str) -> tuple[str, ...]:
    """Every toneless reading of one character."""
    return tuple(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


@lru_cache(maxsize=65536)
def _run_readings(run: str) -> tuple[tuple[str, ...], ...]:
    """For each character of a run of Chinese characters: its reading in context (pypinyin's
    phrases), then its other readings."""
    out = []
    for ch, readings in zip(run, pinyin(run, style=Style.NORMAL, heteronym=True), strict=True):
        every = (*readings, *_char_readings(ch))
        out.append(tuple(dict.fromkeys(normalize(r) for r in every)))
    return tuple(out)


def pinyin_variants(text: str, limit: int = MAX_VARIANTS) -> tuple[list[str], list[str]]:
    """Initials and full-pinyin spellings of ``text``, the phrase-aware reading first.

    Full spellings are syllables joined by spaces (the spaces mark where a match may start).
    Letters and digits in the text are kept whole in both (``KTV``, ``01``).

    >>> pinyin_variants("仙林支行")
    (['xlzx', 'xlqx', 'xlzh', 'xlqh'], ['xian lin zhi xing', 'xian lin qi xing', 'xian lin zhi hang', 'xian lin zhi heng', 'xian lin qi hang', 'xian lin qi heng'])
    >>> pinyin_variants("第01网格（仙林店）")[0][0]
    'd01wgxld'
    >>> pinyin_variants("KTV量贩")[0]
    ['ktvlf']
    """
    positions: list[list[str]] = []  # the readings of each syllable
    is_han: list[bool] = []
    for run in _HAN_RUNS.findall(text):
        if _HAN.match(run):
            for readings in _run_readings(run):
                positions.append(list(readings))
                is_han.append(True)
        else:  # letters and digits stay as they are, other signs are dropped
            for word in _ALNUM.findall(normalize(run)):
                positions.append([word])
                is_han.append(False)
    if not positions:
        return [], []

    def combos(options: list[list[str]], joiner: str) -> list[str]:
        # the first reading everywhere, then one other reading at one place, then at two, ...
        # so that, under the cap, each character's other readings are tried on their own first
        varying = [i for i, o in enumerate(options) if len(o) > 1]
        out = []
        for k in range(len(varying) + 1):
            for where in itertools.combinations(varying, k):
                for alt in itertools.product(*(options[i][1:] for i in where)):
                    pick = [o[0] for o in options]
                    for i, a in zip(where, alt, strict=True):
                        pick[i] = a
                    out.append(joiner.join(pick))
                    if len(out) >= limit:
                        return out
        return out

    inits = [
        list(dict.fromkeys(r[0] for r in p)) if han else p
        for p, han in zip(positions, is_han, strict=True)
    ]
    return combos(inits, ""), combos(positions, " ")


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: what it is, and where to show it (WGS-84 unless converted)."""

    kind: str
    code: str | None
    name: str
    lon: float
    lat: float
    bbox: tuple[float, float, float, float] | None
    match: str
    matched: str
    parent: str | None = None
    category: str | None = None
    address: str | None = None
    grid: str | None = None

    def to_dict(self, crs: str = "wgs84") -> dict:
        """JSON-ready, with the point and box in ``crs`` (WGS-84, GCJ-02 or BD-09)."""
        lon, lat, bbox = self.lon, self.lat, self.bbox
        if _crs.normalize_crs(crs) not in ("wgs84", "cgcs2000"):
            lon, lat = _crs.from_wgs84(lon, lat, crs)
            if bbox is not None:
                xs, ys = _crs.from_wgs84(
                    np.array([bbox[0], bbox[2]], float), np.array([bbox[1], bbox[3]], float), crs
                )
                bbox = (float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1]))
        out = {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "lon": round(float(lon), 7),
            "lat": round(float(lat), 7),
            "bbox": [round(float(v), 7) for v in bbox] if bbox is not None else None,
            "match": self.match,
            "matched": self.matched,
        }
        for key in ("parent", "category", "address", "grid"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class _Field:
    """One searchable text field over all entries, matched with numpy at C speed.

    Every spelling of every entry is one element of ``text`` (``owner`` says whose). A sorted copy
    answers exact and prefix matches by bisection; substrings come from ``numpy.strings.find``. In
    a full-pinyin field a match must start at a syllable, so substrings are tested only where a
    syllable that fits the start of the query begins (an index syllable → spellings, offsets).
    """

    def __init__(self, name: str, rank: int, per_entry: dict[int, list[str]], syllables=False):
        self.name = name
        self.keys = (rank, 4 + rank, 8 + rank)  # exact, prefix, substring (see SearchIndex)
        texts: list[str] = []
        owners: list[int] = []
        at: dict[str, tuple[list[int], list[int]]] = {}
        for entry, variants in per_entry.items():
            for v in variants:
                text = v.replace(" ", "") if syllables else v
                if not text:
                    continue
                if syllables:
                    offset = 0
                    for syl in v.split(" "):
                        where = at.setdefault(syl, ([], []))
                        where[0].append(len(texts))
                        where[1].append(offset)
                        offset += len(syl)
                texts.append(text)
                owners.append(entry)
        self.text = np.array(texts, dtype=str) if texts else np.array([], dtype="U1")
        self.owner = np.array(owners, dtype=np.intp)
        order = sorted(range(len(texts)), key=texts.__getitem__)
        self.sorted_text = [texts[i] for i in order]
        self.sorted_owner = self.owner[np.array(order, dtype=np.intp)]
        self.syllable_at = (
            {s: (np.array(v, np.intp), np.array(o, np.intp)) for s, (v, o) in at.items()}
            if syllables
            else None
        )

    def prefix(self, q: str, best: np.ndarray) -> None:
        """Lower ``best`` (per entry: match rank * 4 + field rank) by exact and prefix matches."""
        texts = self.sorted_text
        i = bisect_left(texts, q)
        k = bisect_right(texts, q, i)
        j = bisect_left(texts, q + _TOP, k)
        if k > i:
            np.minimum.at(best, self.sorted_owner[i:k], self.keys[0])
        if j > k:
            np.minimum.at(best, self.sorted_owner[k:j], self.keys[1])

    def substring(self, q: str, best: np.ndarray) -> None:
        """Lower ``best`` by substring matches."""
        if not len(self.text):
            return
        if self.syllable_at is None:
            hit = np.strings.find(self.text, q) >= 0
            np.minimum.at(best, self.owner[hit], self.keys[2])
            return
        starts = [w for s, w in self.syllable_at.items() if s.startswith(q) or q.startswith(s)]
        if not starts:
            return
        spelling = np.concatenate([w[0] for w in starts])
        offset = np.concatenate([w[1] for w in starts])
        hit = np.strings.startswith(self.text[spelling], q, offset)
        np.minimum.at(best, self.owner[spelling[hit]], self.keys[2])


class SearchIndex:
    """Units, grids, roads and addresses of one district version, searchable."""

    def __init__(self) -> None:
        self.kind: list[str] = []
        self.code: list[str | None] = []
        self.name: list[str] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.bbox: list[tuple | None] = []
        self.extra: list[dict] = []
        self._fields: list[_Field] = []
        self._codes: _Field | None = None
        self._static = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.kind)

    def _add(self, kind, code, name, lon, lat, bbox=None, **extra) -> int:
        self.kind.append(kind)
        self.code.append(code)
        self.name.append(name)
        self.lon.append(float(lon))
        self.lat.append(float(lat))
        self.bbox.append(tuple(float(v) for v in bbox) if bbox is not None else None)
        self.extra.append({k: v for k, v in extra.items() if v is not None})
        return len(self.kind) - 1

    @classmethod
    def from_district(cls, district: District) -> SearchIndex:
        """Index the grids, units and their addresses and roads."""
        idx = cls()
        names: dict[int, list[str]] = {}
        addresses: dict[int, list[str]] = {}
        spoken: dict[int, str] = {}  # entry -> the text whose pinyin is indexed

        for kind, frame in (("grid1", district.grids1), ("grid2", district.grids2)):
            geoms = frame.geometry.values
            points = shapely.point_on_surface(geoms)
            bounds = shapely.bounds(geoms)
            for rec, pt, bb in zip(
                frame[["code", "name", "parent"]].to_dict("records"), points, bounds, strict=True
            ):
                e = idx._add(kind, rec["code"], rec["name"], pt.x, pt.y, bb, parent=rec["parent"])
                names[e] = [normalize(rec["name"])]
                spoken[e] = rec["name"]

        units = district.units
        ulon = shapely.get_x(units.geometry.values) if len(units) else np.array([])
        ulat = shapely.get_y(units.geometry.values) if len(units) else np.array([])
        by_address: dict[str, list[int]] = {}
        by_road: dict[str, list[int]] = {}
        recs = units[["code", "name", "category", "address", "grid"]].to_dict("records")
        for i, rec in enumerate(recs):
            address = rec["address"] or None
            e = idx._add(
                "unit",
                rec["code"],
                rec["name"],
                ulon[i],
                ulat[i],
                category=rec["category"],
                address=address,
                grid=rec["grid"],
            )
            names[e] = [normalize(rec["name"])]
            spoken[e] = rec["name"]
            if address:
                addresses[e] = [normalize(address)]
                by_address.setdefault(address, []).append(i)
                road = road_of(address)
                if road:
                    by_road.setdefault(road, []).append(i)

        for road in sorted(by_road):
            members = by_road[road]
            xs, ys = ulon[members], ulat[members]
            bb = (xs.min(), ys.min(), xs.max(), ys.max())
            e = idx._add("road", None, road, (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2, bb)
            names[e] = [normalize(road)]
            spoken[e] = road
        for address in sorted(by_address):
            members = by_address[address]
            local = local_address(address)
            e = idx._add(
                "address",
                None,
                local,
                ulon[members].mean(),
                ulat[members].mean(),
                address=address,
                grid=recs[members[0]]["grid"] if len(members) == 1 else None,
            )
            names[e] = [normalize(local)]
            addresses[e] = [normalize(address)]
            spoken[e] = local

        initials: dict[int, list[str]] = {}
        full: dict[int, list[str]] = {}
        for e, text in spoken.items():
            ini, ful = pinyin_variants(text)
            initials[e], full[e] = ini, ful

        idx._fields = [
            _Field("name", _FIELD_RANK["name"], names),
            _Field("initials", _FIELD_RANK["pinyin"], initials),
            _Field("pinyin", _FIELD_RANK["pinyin"], full, syllables=True),
            _Field("address", _FIELD_RANK["address"], addresses),
        ]
        idx._codes = _Field(
            "code", _FIELD_RANK["code"], {e: [c] for e, c in enumerate(idx.code) if c}
        )
        # ties: kind, then (after the field, see search) shorter names, then name and code
        n = len(idx.kind)
        by_name = sorted(range(n), key=lambda e: (len(idx.name[e]), idx.name[e], idx.code[e] or ""))
        post = np.empty(n, dtype=np.int64)
        post[np.array(by_name, dtype=np.intp)] = np.arange(n)
        kind = np.array([_KIND_RANK[k] for k in idx.kind], dtype=np.int64)
        idx._static = kind * 4 * n + post
        return idx

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
        """The best ``limit`` entries for ``query`` (empty for an empty query), best first."""
        q = normalize(query)
        if not q or not len(self.kind):
            return []
        limit = max(1, min(int(limit), MAX_LIMIT))
        n = len(self.kind)
        best = np.full(n, _NONE, dtype=np.int64)  # match rank * 4 + field rank; smaller is better
        fields = [f for f in self._fields if q.isascii() or f.name not in _PINYIN_FIELDS]
        for f in fields:
            f.prefix(q, best)
        if q.isdigit():
            self._codes.prefix(q, best)
        if np.count_nonzero(best < _NONE) < limit:  # substrings rank below all the rest
            for f in fields:
                f.substring(q, best)
        found = np.flatnonzero(best < _NONE)
        if not len(found):
            return []
        b = best[found]
        # one integer per entry orders by (match, kind, field, name length, name, code)
        order = (b >> 2) * (4 * len(KINDS) * n) + (b & 3) * n + self._static[found]
        if len(found) > limit:
            part = np.argpartition(order, limit - 1)[:limit]
            found, b, order = found[part], b[part], order[part]
        ranked = np.argsort(order, kind="stable")
        return [self._hit(int(found[i]), int(b[i]) >> 2, int(b[i]) & 3) for i in ranked]

    def _hit(self, e: int, match: int, field_rank: int) -> Hit:
        return Hit(
            kind=self.kind[e],
            code=self.code[e],
            name=self.name[e],
            lon=self.lon[e],
            lat=self.lat[e],
            bbox=self.bbox[e],
            match=MATCHES[match],
            matched=FIELDS[field_rank],
            **self.extra[e],
        )


__all__ = ["SearchIndex", "Hit", "normalize", "pinyin_variants", "local_address", "road_of"]
