"""The incident figures (:mod:`geogrid.incidents.figures`): per grid, community, worker, office,
category or month, over a period of months, for the page, the API, the files and the command
line alike.

Who sees what (rule ``figures``): dispatchers, planners and administrators the whole district;
a grid worker the incidents of their own grid only; a service office user the incidents
escalated to their office only. A worker asking for another grid is refused.

>>> from geogrid.db import Store
>>> from geogrid.service import Service
>>> from geogrid.access import Actor
>>> svc = Service.bootstrap(Store("sqlite://"))
>>> r = figures(svc, Actor("disp", "dispatcher"), by="grid", first="2026-01", last="2026-03")
>>> r["total"]["count"], r["months"][0]["month"], len(r["months"])
(0, '2026-01', 3)
>>> figures(svc, Actor("disp", "dispatcher"), by="street")
Traceback (most recent call last):
...
geogrid.errors.InputError: by: one of grid, community, worker, office, category, month; got 'street'
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from ..access import OFFICE, SYSTEM, Actor
from ..db.figures import reader
from ..db.types import utcnow
from ..errors import InputError
from ..incidents import figures as F
from ..incidents.export import safe_cell
from ..workdays import BEIJING

#: The formats the figures come in (the page and API: JSON; files: CSV, Excel).
FORMATS = ("json", "csv", "xlsx")


def parse_period(first: str | None, last: str | None, today) -> tuple[str, str]:
    """The period asked for (months ``YYYY-MM``): by default the 12 months up to ``last``,
    and ``last`` this month."""
    last = F.parse_month(last, "to") if last else F.month_of_day(today)
    first = F.parse_month(first, "from") if first else F.months_back(last, 12)
    if first > last:
        raise InputError(f"from ({first}) is after to ({last})")
    if len(F.months_between(first, last)) > F.MAX_MONTHS:
        raise InputError(f"a period of at most {F.MAX_MONTHS} months")
    return first, last


def _check_category(category: str | None) -> str | None:
    if category is None or category == "":
        return None
    if not (category.isascii() and category.isdigit() and len(category) in (2, 4)):
        raise InputError(
            f"category: a category's 4-digit code or its class's 2 digits, got {category[:40]!r}"
        )
    return category


def figures(
    svc,
    actor: Actor,
    *,
    by: str = "grid",
    first: str | None = None,
    last: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    whole: bool = False,
    now: datetime | None = None,
) -> dict:
    """The figures of the incidents ``actor`` may see, reported from month ``first`` to
    ``last`` (default: the last 12 months; with ``whole``, from the first incident's month to
    this one), grouped ``by``, optionally of one ``category`` (code or class) or one ``grid``
    (a worker asking for another grid's is refused): ``{by, from, to, category, grid, scope,
    total, groups: [...], months: [...]}``, each group and month with its
    figures (:meth:`geogrid.incidents.figures.Sums.figures`) and its key and names."""
    actor.require("figures")
    if by not in F.GROUPINGS:
        raise InputError(f"by: one of {', '.join(F.GROUPINGS)}; got {str(by)[:40]!r}")
    category = _check_category(category)
    today = (now or utcnow()).astimezone(BEIJING).date()
    store = svc.store
    if whole:
        oldest = reader(store).oldest(svc.district_code)
        last = F.month_of_day(today)
        first = F.month_of(oldest) if oldest else last
    else:
        first, last = parse_period(first, last, today)
    grids = actor.scope
    if grid:  # one grid's figures: a worker may ask for their own only
        actor.require_grid(grid)
        grids = frozenset({grid})
    office = (actor.office or "") if actor.role == OFFICE else None
    got = reader(store).figures(
        svc.district_code, by, first, last, category=category, grids=grids, office=office
    )
    names = _names(svc, by)
    groups = [
        {"key": k, "name": names(k), **fig}
        for k, fig in sorted(got["groups"].items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
    empty = F.Sums().figures([])
    months = [{"month": m, **got["months"].get(m, empty)} for m in F.months_between(first, last)]
    scope = (
        {"grids": sorted(grids)} if grids is not None else {"office": office} if office is not None else {}
    )  # fmt: skip
    return {
        "by": by,
        "from": first,
        "to": last,
        "category": category,
        "grid": grid or None,
        "scope": scope,
        "total": got["total"],
        "groups": groups,
        "months": months,
    }


def warm(svc) -> None:
    """Read the whole history's per-month sums for the district-wide views the figures page
    opens with (by grid, and by month), so that a fresh process's first page does not pay for
    them (``geogrid serve`` runs this in each worker as it starts)."""
    for by in ("grid", "month"):
        figures(svc, SYSTEM, by=by, whole=True)


def _names(svc, by: str):
    """key → {"zh", "en"} names of the groups of ``by``."""
    none = {"zh": "（无）", "en": "(none)"}
    if by in ("grid", "community"):
        _, loc = svc.current()
        frame = loc.district.grids2 if by == "grid" else loc.district.grids1
        table = dict(zip(frame["code"], frame["name"], strict=True))
        return lambda k: {"zh": table.get(k, k), "en": table.get(k, k)} if k else none
    if by == "category":
        cats = {c.code: c for c in svc.store.catalogue(inactive=True)}

        def cat(k):
            c = cats.get(k)
            if c is None:
                return {"zh": k, "en": k} if k else none
            return {"zh": f"{c.major} / {c.minor}", "en": f"{c.major_en} / {c.minor_en}"}

        return cat
    if by == "office":
        return lambda k: {"zh": k, "en": k} if k else {"zh": "（未会办）", "en": "(not escalated)"}
    return lambda k: {"zh": k, "en": k} if k else none


# ---------------------------------------------------------------------- files
_BY_WORDS = {
    "grid": ("二级网格", "Grid"),
    "community": ("社区网格", "Community"),
    "worker": ("网格员", "Grid worker"),
    "office": ("会办部门", "Office"),
    "category": ("类别", "Category"),
    "month": ("月份", "Month"),
}


def table(report: dict, lang: str = "zh") -> list[list]:
    """The groups of ``report`` as rows (a header first, a total last): the key, its name,
    then every figure of :data:`~geogrid.incidents.figures.FIGURES` (rates as shares 0..1)."""
    zh = lang.startswith("zh")
    word = _BY_WORDS[report["by"]][0 if zh else 1]
    head = [f"{word}{'代码' if zh else ' code'}", word]
    head += [z if zh else e for _, z, e, _ in F.FIGURES]
    lang_key = "zh" if zh else "en"
    out = [head]
    for g in report["groups"]:
        out.append([g["key"] or "", g["name"][lang_key], *(g[k] for k, *_ in F.FIGURES)])
    out.append(["", "合计" if zh else "Total", *(report["total"][k] for k, *_ in F.FIGURES)])
    return out


def to_csv(report: dict, lang: str = "zh") -> tuple[bytes, str, str]:
    """CSV, UTF-8 with a byte-order mark (Excel then reads the Chinese right); rates as shares."""
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in table(report, lang):
        w.writerow(["" if v is None else safe_cell(v) for v in r])
    return buf.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", _file_name(report, "csv")


def to_xlsx(report: dict, lang: str = "zh") -> tuple[bytes, str, str]:
    """An Excel workbook: a bold header row, rates formatted as percentages, hours with one
    decimal, the total in the last row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    formats = {"int": "0", "rate": "0.0%", "hours": "0.0"}
    kinds = [None, None, *(kind for *_, kind in F.FIGURES)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("figures")
    ws.freeze_panes = "C2"
    rows = table(report, lang)
    bold = Font(bold=True)
    for i, r in enumerate(rows):
        cells = []
        for v, kind in zip(r, kinds, strict=True):
            v = safe_cell(v)
            c = WriteOnlyCell(
                ws, value=ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
            )
            if i == 0 or i == len(rows) - 1:
                c.font = bold
            if i and kind:
                c.number_format = formats[kind]
            cells.append(c)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return buf.getvalue(), kind, _file_name(report, "xlsx")


def _file_name(report: dict, ext: str) -> str:
    return f"figures-{report['by']}-{report['from']}-{report['to']}.{ext}"


WRITERS = {"csv": to_csv, "xlsx": to_xlsx}


def export(svc, actor: Actor, fmt: str, *, lang: str = "zh", **kw) -> tuple[bytes, str, str]:
    """:func:`figures` as a file: (bytes, media type, file name); ``fmt`` csv or xlsx."""
    if fmt not in WRITERS:
        raise InputError(f"format: json, csv or xlsx, got {str(fmt)[:40]!r}")
    return WRITERS[fmt](figures(svc, actor, **kw), lang)
