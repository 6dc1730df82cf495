"""A list of incidents as a file a sub-district office opens: CSV (UTF-8 with a byte-order mark,
so Excel reads the Chinese right) or an Excel workbook (openpyxl), with headers in Chinese or
English and times in Beijing time.

>>> sorted(WRITERS)
['csv', 'xlsx']
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from ..errors import InputError
from ..workdays import BEIJING
from .model import PRIVATE
from .rules import CHANNELS, SATISFACTION, STATES

#: (key, Chinese header, English header) of each column, in order.
COLUMNS = [
    ("id", "编号", "No."),
    ("created_at", "上报时间", "Reported"),
    ("state", "状态", "State"),
    ("category", "类别代码", "Category code"),
    ("major", "大类", "Class"),
    ("minor", "小类", "Category"),
    ("description", "问题描述", "Description"),
    ("address", "地址", "Address"),
    ("grid1_code", "社区网格", "Community"),
    ("grid_code", "二级网格", "Grid"),
    ("worker", "网格员", "Grid worker"),
    ("office", "会办部门", "Office"),
    ("channel", "来源", "Channel"),
    ("reporter", "上报人", "Reporter"),
    ("reporter_contact", "联系方式", "Contact"),
    ("due_at", "处置期限", "Due"),
    ("overdue", "超期", "Overdue"),
    ("resolved_at", "办结时间", "Resolved"),
    ("satisfaction", "满意度", "Satisfaction"),
    ("recurrences", "复发次数", "Recurrences"),
    ("closed_at", "结案时间", "Closed"),
    ("lon", "经度", "Longitude"),
    ("lat", "纬度", "Latitude"),
]


def _local(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def rows(incidents, catalogue, *, lang: str, now, within, private: bool = True):
    """The header, then one list of cells per incident; without ``private``, no reporter's name
    or contact (:data:`geogrid.incidents.PRIVATE`)."""
    zh = lang.startswith("zh")
    columns = [c for c in COLUMNS if private or c[0] not in PRIVATE]
    yield [zh_ if zh else en for _, zh_, en in columns]
    for inc in incidents:
        try:
            cat = catalogue.get(inc.category)
            major, minor = (cat.major, cat.minor) if zh else (cat.major_en, cat.minor_en)
        except InputError:
            major = minor = ""
        values = {
            **{k: getattr(inc, k) for k, _, _ in COLUMNS if hasattr(inc, k)},
            "created_at": _local(inc.created_at),
            "due_at": _local(inc.deadline() or inc.due_at),
            "resolved_at": _local(inc.resolved_at),
            "closed_at": _local(inc.closed_at),
            "state": STATES[inc.state] if zh else inc.state,
            "channel": CHANNELS.get(inc.channel, inc.channel) if zh else inc.channel,
            "satisfaction": (SATISFACTION.get(inc.satisfaction, "") if zh else inc.satisfaction)
            or "",
            "overdue": ("是" if zh else "yes") if inc.overdue(now) else "",
            "major": major,
            "minor": minor,
        }
        yield [("" if values[k] is None else values[k]) for k, _, _ in columns]


def to_csv(incidents, catalogue, **kw) -> tuple[bytes, str, str]:
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows(incidents, catalogue, **kw):
        w.writerow([safe_cell(v) for v in r])
    return buf.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", "incidents.csv"


def to_xlsx(incidents, catalogue, **kw) -> tuple[bytes, str, str]:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(v):  # control characters a worksheet cannot hold are left out
        v = safe_cell(v)
        return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("incidents")
    for r in rows(incidents, catalogue, **kw):
        ws.append([cell(v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return buf.getvalue(), kind, "incidents.xlsx"


def safe_cell(value):
    """A cell that a spreadsheet will not run as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


WRITERS = {"csv": to_csv, "xlsx": to_xlsx}


def writer(fmt: str):
    try:
        return WRITERS[fmt]
    except KeyError:
        raise InputError(f"export format: csv or xlsx, got {fmt!r}") from None
