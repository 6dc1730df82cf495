"""A small history of 16 incidents with every case the figures distinguish, and the figures
counted by hand (tests/geogrid/test_figures.py checks the pure computation against them,
tests/geogrid/db/test_figures_db.py the database's and tests/web/test_figures_api.py the API's).

Grid A (东阳社区第07网格, worker 周俊峰 but one incident reassigned to 李四), grid B (仙鹤社区第01网格,
worker 王晨), categories 0601 and 0504, offices 城管执法中队 and 市政中心, January and February 2026
(Beijing months). Handling hours are whole numbers so that the sums are easy to check:

====  =====  ====  ======  ==========  ==================================================
 no.  grid   cat.  month   state       what it tests
====  =====  ====  ======  ==========  ==================================================
  1   A      0601  Jan     closed      on time (10 h, deadline 72 h), visit 满意
  2   A      0601  Jan     closed      late (30 h, deadline 24 h), visit 基本满意
  3   A      0601  Jan     closed      escalated to O1: late by due_at, on time by the
                                       office's deadline (50 h, office 100 h), visit 不满意
  4   A      0601  Jan     resolved    escalated to O1, late even by the office's deadline
                                       (60 h, office 40 h); worker 李四; no visit yet
  5   A      0601  Jan     cancelled   left out of every rate
  6   A      0601  Jan     closed      failed visit, re-dispatched (recurrence), then 5 h and
                                       a passed visit 满意
  7   B      0601  Jan     closed      on time (20 h), visit 满意
  8   B      0504  Jan     merged      left out of every rate
  9   B      0504  Jan     handling    counted, not resolved
 10   A      0601  Feb     closed      reported 00:30 on 1 February Beijing time (still 31
                                       January in UTC): a February incident; 8 h, 基本满意
 11   A      0601  Feb     dispatched  visit passed 满意, closed, then reopened (recurrence)
 12   B      0504  Feb     closed      escalated to 市政中心, on time by the office's deadline
                                       (40 h, office 48 h, due 24 h), visit 不满意
 13   B      0504  Feb     cancelled   after a failed visit (recurrence): still left out
 14   B      0504  Feb     revisited   resolved exactly at the deadline (24 h: on time),
                                       visit 满意, not yet closed
 15   A      0601  Feb     dispatched  failed visit (recurrence), not resolved again
 16   A      0601  Mar     closed      00:00 on 1 March Beijing time: outside Jan–Feb
====  =====  ====  ======  ==========  ==================================================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geogrid.incidents import Incident

DISTRICT = "320113005"
A, A1 = "320113005007007", "320113005007"
B, B1 = "320113005001001", "320113005001"
W_A, W_B, W_OTHER = "周俊峰", "王晨", "李四"
O1, O2 = "城管执法中队", "市政中心"
POINT = (118.93, 32.11)
FIRST, LAST = "2026-01", "2026-02"

H = timedelta(hours=1)


def _at(day: int, month: int = 1, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


#: (grid, category, reported at, state, handling hours, deadline hours, office deadline hours,
#:  recurrences, visits [(passed, satisfaction)], worker override, office)
_CASES = [
    (A, "0601", _at(5), "closed", 10, 72, None, 0, [(True, "satisfied")], None, None),
    (A, "0601", _at(6), "closed", 30, 24, None, 0, [(True, "fair")], None, None),
    (A, "0601", _at(7), "closed", 50, 24, 100, 0, [(True, "dissatisfied")], None, O1),
    (A, "0601", _at(8), "resolved", 60, 24, 40, 0, [], W_OTHER, O1),
    (A, "0601", _at(9), "cancelled", None, 24, None, 0, [], None, None),
    (A, "0601", _at(10), "closed", 5, 72, None, 1, [(False, None), (True, "satisfied")], None, None),
    (B, "0601", _at(11), "closed", 20, 72, None, 0, [(True, "satisfied")], None, None),
    (B, "0504", _at(12), "merged", None, 24, None, 0, [], None, None),
    (B, "0504", _at(13), "handling", None, 24, None, 0, [], None, None),
    (A, "0601", datetime(2026, 1, 31, 16, 30, tzinfo=UTC), "closed", 8, 72, None, 0, [(True, "fair")], None, None),
    (A, "0601", _at(3, 2), "dispatched", None, 72, None, 1, [(True, "satisfied")], None, None),
    (B, "0504", _at(4, 2), "closed", 40, 24, 48, 0, [(True, "dissatisfied")], None, O2),
    (B, "0504", _at(5, 2), "cancelled", None, 24, None, 1, [(False, None)], None, None),
    (B, "0504", _at(6, 2), "revisited", 24, 24, None, 0, [(True, "satisfied")], None, None),
    (A, "0601", _at(7, 2), "dispatched", None, 72, None, 1, [(False, None)], None, None),
    (A, "0601", datetime(2026, 2, 28, 16, 0, tzinfo=UTC), "closed", 6, 72, None, 0, [(True, "satisfied")], None, None),
]  # fmt: skip


def records(version_id: int) -> list[tuple[dict, list[dict]]]:
    """The history as ``Store.insert_incidents`` takes it: (columns, log) per incident."""
    out = []
    for n, (grid, cat, created, state, hours, due_h, office_h, rec, visits, worker, office) in enumerate(_CASES, 1):  # fmt: skip
        dispatched = created + H
        resolved = dispatched + hours * H if hours is not None else None
        events = [_ev(created, "report", None, "reported"), _ev(dispatched, "dispatch", "reported", "dispatched")]  # fmt: skip
        t = dispatched + H
        for passed, sat in visits:
            events.append(_ev(t, "resolve", "dispatched", "resolved"))
            detail = {"passed": passed, **({"satisfaction": sat} if sat else {})}
            events.append(_ev(t + H, "revisit", "resolved", "revisited" if passed else "dispatched", detail))  # fmt: skip
            t += 2 * H
        if office:
            events.append(_ev(t, "escalate", "dispatched", "escalated", {"office": office}))
        events.append(_ev(t + H, _LAST_STEP[state], None, state))
        row = {
            "district_code": DISTRICT, "version_id": version_id, "grid_code": grid,
            "grid1_code": A1 if grid == A else B1, "lon": POINT[0], "lat": POINT[1], "input": None,
            "category": cat, "description": f"case {n}", "channel": "phone", "reporter": None,
            "state": state, "created_at": created, "created_by": "disp",
            "updated_at": t + H, "due_at": dispatched + due_h * H,
            "closed_at": t + H if state == "closed" else None, "reporter_contact": None,
            "informant_kind": None, "informant_name": None, "address": None, "unit_code": None,
            "worker": worker or (W_A if grid == A else W_B), "office": office,
            "dispatched_at": dispatched, "escalated_at": dispatched + H if office else None,
            "office_due_at": dispatched + office_h * H if office_h else None,
            "resolved_at": resolved, "revisit_due_at": None, "revisited_at": None,
            "satisfaction": None, "recurrences": rec, "merged_into": None, "media_url": None,
        }  # fmt: skip
        out.append((row, events))
    return out


#: The step that left each incident in its state (none of them a return visit).
_LAST_STEP = {"closed": "close", "resolved": "resolve", "cancelled": "cancel", "merged": "merge",
              "handling": "accept", "dispatched": "reopen", "revisited": "close"}  # fmt: skip


def _ev(at, action, from_state, to_state, detail=None) -> dict:
    return {"at": at, "actor": "disp", "from_state": from_state, "to_state": to_state,
            "note": "", "action": action, "detail": detail or {}}  # fmt: skip


def incidents(version_id: int = 1) -> list[Incident]:
    """The history as :class:`Incident` objects with their logs (ids 1..16)."""
    return [
        Incident(id=n, **row, events=[dict(e, id=i) for i, e in enumerate(events)])
        for n, (row, events) in enumerate(records(version_id), 1)
    ]


def fig(count, counted, closed, resolved, on_time, recurrent, visits, passed, rated,
        satisfied, hours) -> dict:  # fmt: skip
    """The figures expected of hand-counted numbers (``hours``: the handling times)."""

    def r(a, b):
        return a / b if b else None

    hours = sorted(hours)
    p90 = hours[-(-9 * len(hours) // 10) - 1] if hours else None  # ⌈0.9·n⌉-th smallest
    return {
        "count": count, "counted": counted, "closed": closed, "closure_rate": r(closed, counted),
        "resolved": resolved, "on_time": on_time, "on_time_rate": r(on_time, resolved),
        "visits": visits, "visits_passed": passed, "revisit_pass_rate": r(passed, visits),
        "recurrent": recurrent, "recurrence_rate": r(recurrent, counted),
        "rated": rated, "satisfied": satisfied, "satisfaction_rate": r(satisfied, rated),
        "handled": len(hours), "handling_mean_h": sum(hours) / len(hours) if hours else None,
        "handling_p90_h": p90,
    }  # fmt: skip


# ---------------------------------------------------------------------- counted by hand
TOTAL = fig(15, 12, 7, 9, 7, 3, 11, 9, 9, 7, [10, 30, 50, 60, 5, 20, 8, 40, 24])
GRID = {
    A: fig(9, 8, 5, 6, 4, 3, 8, 6, 6, 5, [10, 30, 50, 60, 5, 8]),
    B: fig(6, 4, 2, 3, 3, 0, 3, 3, 3, 2, [20, 40, 24]),
}
COMMUNITY = {A1: GRID[A], B1: GRID[B]}
WORKER = {
    W_A: fig(8, 7, 5, 5, 4, 3, 8, 6, 6, 5, [10, 30, 50, 5, 8]),
    W_OTHER: fig(1, 1, 0, 1, 0, 0, 0, 0, 0, 0, [60]),
    W_B: GRID[B],
}
OFFICE = {
    O1: fig(2, 2, 1, 2, 1, 0, 1, 1, 1, 0, [50, 60]),
    O2: fig(1, 1, 1, 1, 1, 0, 1, 1, 1, 0, [40]),
    None: fig(12, 9, 5, 6, 5, 3, 9, 7, 7, 7, [10, 30, 5, 20, 8, 24]),
}
CATEGORY = {
    "0601": fig(10, 9, 6, 7, 5, 3, 9, 7, 7, 6, [10, 30, 50, 60, 5, 20, 8]),
    "0504": fig(5, 3, 1, 2, 2, 0, 2, 2, 2, 1, [40, 24]),
}
MONTH = {
    "2026-01": fig(9, 7, 5, 6, 4, 1, 6, 5, 5, 4, [10, 30, 50, 60, 5, 20]),
    "2026-02": fig(6, 5, 2, 3, 3, 2, 5, 4, 4, 3, [8, 40, 24]),
}
BY = {
    "grid": GRID,
    "community": COMMUNITY,
    "worker": WORKER,
    "office": OFFICE,
    "category": CATEGORY,
    "month": MONTH,
}
