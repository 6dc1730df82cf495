"""The early-warning rules on hand-made histories: each rule just below and at its threshold, at
the edges of its window, with its settings changed; acknowledgements sticking to a warning until
a new incident joins it; the settings read and refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from geogrid.cli import main
from geogrid.crs.metric import from_metric, to_metric
from geogrid.errors import InputError
from geogrid.incidents import warnings as W
from geogrid.incidents.warnings import OpenIncident, Report, Revisit, Span, WarningSettings

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GRID, OTHER = "320113005007007", "320113005007006"
COMMUNITY = "320113005007"
X0, Y0 = to_metric(118.93, 32.11)
S = WarningSettings()
_ids = iter(range(1, 10**6))


def at(dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    """The WGS-84 point ``dx``, ``dy`` metres (EPSG:4549) from the base point."""
    lon, lat = from_metric(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def report(ago: timedelta, *, grid=GRID, cat="0601", state="closed", dx=0.0, dy=0.0, id=None):
    lon, lat = at(dx, dy)
    return Report(id or next(_ids), grid, COMMUNITY, cat, lon, lat, state, NOW - ago)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# ---------------------------------------------------------------------- repeat
def test_repeat_at_and_below_the_threshold():
    two = [report(days(1)), report(days(10))]
    assert W.repeats(two, NOW, S) == []
    three = [*two, report(days(20))]
    (w,) = W.repeats(three, NOW, S)
    assert w.rule == "repeat" and w.grid_code == GRID and w.category == "0601"
    assert w.incidents == tuple(r.id for r in sorted(three, key=lambda r: r.created_at))
    assert w.severity == W.MEDIUM and w.detail["count"] == 3
    assert w.since == NOW - days(20)
    assert "3 起" in w.explanation["zh"] and "3 incidents" in w.explanation["en"]
    six = three + [report(days(d)) for d in (2, 3, 4)]
    assert W.repeats(six, NOW, S)[0].severity == W.HIGH  # twice the threshold


def test_repeat_window_edges():
    inside = [report(days(1)), report(days(2)), report(days(30))]  # exactly 30 days ago: in
    assert len(W.repeats(inside, NOW, S)) == 1
    outside = [report(days(1)), report(days(2)), report(days(30) + timedelta(seconds=1))]
    assert W.repeats(outside, NOW, S) == []
    future = [report(days(1)), report(days(2)), report(-hours(1))]  # after `now`: not yet
    assert W.repeats(future, NOW, S) == []


def test_repeat_needs_the_same_grid_and_category_and_skips_duplicates():
    mixed = [report(days(1)), report(days(2)), report(days(3), grid=OTHER)]
    assert W.repeats(mixed, NOW, S) == []
    cats = [report(days(1)), report(days(2)), report(days(3), cat="0101")]
    assert W.repeats(cats, NOW, S) == []
    dup = [report(days(1)), report(days(2)), report(days(3), state="merged")]
    assert W.repeats(dup, NOW, S) == []
    cancelled = [report(days(1)), report(days(2)), report(days(3), state="cancelled")]
    assert W.repeats(cancelled, NOW, S) == []
    still_open = [report(days(1), state="dispatched"), report(days(2)), report(days(3))]
    assert len(W.repeats(still_open, NOW, S)) == 1


def test_repeat_settings_changed():
    rows = [report(days(d)) for d in (1, 8, 15)]
    assert len(W.repeats(rows, NOW, S)) == 1
    assert W.repeats(rows, NOW, WarningSettings(repeat_count=4)) == []
    assert W.repeats(rows, NOW, WarningSettings(repeat_days=14)) == []
    assert len(W.repeats(rows[:2], NOW, WarningSettings(repeat_count=2))) == 1


def test_repeat_key_is_stable_while_the_evidence_grows():
    rows = [report(days(d)) for d in (3, 5, 9)]
    (before,) = W.repeats(rows, NOW, S)
    (after,) = W.repeats([*rows, report(hours(1))], NOW, S)
    assert before.key == after.key == f"repeat:{GRID}:0601:20261122"
    assert set(before.incidents) < set(after.incidents)


# ---------------------------------------------------------------------- recurrences
def visit(ago: timedelta, *, reopened: timedelta | None = None, id=None, cat="0601"):
    lon, lat = at()
    return Revisit(
        id or next(_ids), GRID, COMMUNITY, cat, lon, lat, NOW - ago,
        NOW - reopened if reopened is not None else None,
    )  # fmt: skip


def test_recurrence_reopened_after_a_passed_visit():
    v = visit(days(10), reopened=days(2))
    (w,) = W.recurrences([v], [], NOW, S)
    assert w.rule == "recur" and w.incidents == (v.incident_id,) and w.severity == W.HIGH
    assert w.key == f"recur:{v.incident_id}:20261121" and w.detail["reopened"] is True
    assert "重新打开" in w.explanation["zh"]
    assert W.recurrences([visit(days(10))], [], NOW, S) == []  # passed, nothing since


def test_recurrence_by_a_new_report_near_a_revisited_incident():
    v = visit(days(10))
    near = report(days(3), dx=99.0, state="dispatched")
    far = report(days(3), dx=101.0, state="dispatched")
    before = report(days(11), dx=10.0)  # reported before the visit passed: not a comeback
    other_cat = report(days(3), dx=5.0, cat="0101")
    assert W.recurrences([v], [far, before, other_cat], NOW, S) == []
    (w,) = W.recurrences([v], [near, far, before, other_cat], NOW, S)
    assert w.incidents == (v.incident_id, near.id) and w.severity == W.MEDIUM
    assert w.detail == {"reopened": False, "new_reports": 1, "radius_m": 100, "days": 30}
    two = W.recurrences([v], [near, report(days(2), dx=-50.0)], NOW, S)
    assert two[0].severity == W.HIGH
    wider = W.recurrences([v], [far], NOW, WarningSettings(recur_radius_m=150))
    assert wider[0].incidents == (v.incident_id, far.id)


def test_recurrence_window_edges():
    near = report(hours(1), dx=20.0)
    assert len(W.recurrences([visit(days(30))], [near], NOW, S)) == 1
    assert W.recurrences([visit(days(30) + timedelta(seconds=1))], [near], NOW, S) == []
    assert W.recurrences([visit(days(20))], [near], NOW, WarningSettings(recur_days=15)) == []


# ---------------------------------------------------------------------- clusters
def test_cluster_at_and_below_the_threshold():
    four = [report(hours(h), dx=30.0 * h, grid=GRID if h % 2 else OTHER) for h in (1, 2, 3, 4)]
    assert W.clusters(four, NOW, S) == []
    five = [*four, report(hours(5), dx=-40.0)]
    (w,) = W.clusters(five, NOW, S)
    assert w.rule == "cluster" and set(w.incidents) == {r.id for r in five}
    assert w.grid_codes == {GRID, OTHER} and w.detail["grids"] == 2
    assert "跨 2 个网格" in w.explanation["zh"]
    assert w.key == f"cluster:{min(r.id for r in five)}:20261201"


def test_cluster_radius_is_measured_in_metres():
    # five reports on a line: the middle one has the four others within 200 m (and no other)
    rows = [report(hours(1), dx=d) for d in (-199.5, -100.0, 0.0, 100.0, 199.5)]
    (w,) = W.clusters(rows, NOW, S)
    assert len(w.incidents) == 5
    spread = [report(hours(1), dx=d) for d in (-200.5, -100.0, 0.0, 100.0, 200.5)]
    assert W.clusters(spread, NOW, S) == []
    assert len(W.clusters(spread, NOW, WarningSettings(cluster_radius_m=210))) == 1
    north = [report(hours(1), dy=d) for d in (-199.5, -100.0, 0.0, 100.0, 199.5)]
    assert len(W.clusters(north, NOW, S)) == 1


def test_cluster_window_edges_and_settings():
    rows = [report(hours(h), dx=10.0 * k) for k, h in enumerate((1, 2, 3, 4, 72))]
    assert len(W.clusters(rows, NOW, S)) == 1  # exactly 72 h ago: in
    late = [*rows[:4], report(hours(72) + timedelta(seconds=1))]
    assert W.clusters(late, NOW, S) == []
    assert W.clusters(rows, NOW, WarningSettings(cluster_hours=48)) == []
    assert len(W.clusters(rows[:4], NOW, WarningSettings(cluster_count=4))) == 1
    assert W.clusters([*rows[:4], report(hours(1), state="cancelled")], NOW, S) == []


def test_two_far_apart_groups_are_two_warnings_and_chains_join():
    a = [report(hours(1), dx=10.0 * k) for k in range(5)]
    b = [report(hours(1), dx=5000.0 + 10.0 * k) for k in range(5)]
    found = W.clusters(a + b, NOW, S)
    assert sorted(len(w.incidents) for w in found) == [5, 5]
    # a sixth report within reach of the first group's reports joins it
    joined = W.clusters([*a, report(hours(1), dx=230.0)], NOW, S)
    assert len(joined) == 1 and len(joined[0].incidents) == 6


# ---------------------------------------------------------------------- surges
def spans_with(level: dict[int, int], grid=GRID) -> list[Span]:
    """Spans giving ``grid`` ``level[k]`` open incidents at the baseline's sample k days ago."""
    out = []
    for k, n in level.items():
        t = NOW - days(k)
        out += [Span(grid, t - hours(1), t + hours(1), None, None) for _ in range(n)]
    return out


def opens(n: int, overdue: int = 0, grid=GRID) -> list[OpenIncident]:
    lon, lat = at()
    return [OpenIncident(next(_ids), grid, COMMUNITY, lon, lat, k < overdue) for k in range(n)]


def test_surge_of_open_incidents_above_mean_plus_k_sd_and_min():
    usual = spans_with({k: 2 for k in range(1, 57)})  # always 2 open: mean 2, sd 0
    assert W.surges(opens(4), usual, NOW, S) == []  # 2 above: below surge_min 3
    (w,) = W.surges(opens(5), usual, NOW, S)
    assert w.rule == "surge" and w.key == f"surge:{GRID}:open" and w.detail["count"] == 5
    assert w.detail["mean"] == 2 and w.detail["sd"] == 0 and w.severity == W.MEDIUM
    assert W.surges(opens(5), usual, NOW, WarningSettings(surge_min=4)) == []
    # a grid whose level varies: mean 2, sd 2 (0 and 4 alternate); 2 + 2 × 2 = 6 is the limit
    varied = spans_with({k: 0 if k % 2 else 4 for k in range(1, 57)})
    assert W.surges(opens(6), varied, NOW, S) == []
    assert len(W.surges(opens(7), varied, NOW, S)) == 1
    assert W.surges(opens(7), varied, NOW, WarningSettings(surge_sd=2.6)) == []


def test_surge_of_overdue_incidents():
    usual = [Span(GRID, NOW - days(60), None, NOW - days(60), None)] * 6  # 6 open, 6 late
    assert [w.detail["measure"] for w in W.surges(opens(6, overdue=6), usual, NOW, S)] == []
    # usually 6 open, none overdue: 4 of the 6 overdue now is a surge of overdue ones only
    calm = [Span(GRID, NOW - days(60), None, None, None)] * 6
    (w,) = W.surges(opens(6, overdue=4), calm, NOW, S)
    assert w.detail["measure"] == "overdue" and w.key == f"surge:{GRID}:overdue"
    assert len(w.incidents) == 4 and w.severity == W.HIGH
    assert W.surges(opens(6, overdue=2), calm, NOW, S) == []


def test_surge_baseline_window_edges():
    # a busy spell 57+ days ago is outside 8 weeks: the usual level is 0
    old = spans_with({k: 10 for k in range(57, 70)})
    assert len(W.surges(opens(3), old, NOW, S)) == 1
    # the same spell inside the baseline raises the usual level
    recent = spans_with({k: 10 for k in range(1, 57)})
    assert W.surges(opens(3), recent, NOW, S) == []
    assert W.surges(opens(3), recent, NOW, WarningSettings(surge_weeks=1)) == []
    assert len(W.surges(opens(3), spans_with({k: 10 for k in range(8, 57)}), NOW,
                        WarningSettings(surge_weeks=1))) == 1  # fmt: skip


def test_levels_count_open_and_overdue_at_each_moment():
    t0 = NOW - days(3)
    spans = [
        W.span_of(GRID, "closed", t0 - days(1), t0 + hours(1), t0, t0 - hours(2), None, t0 + hours(1)),
        W.span_of(GRID, "cancelled", t0 - days(1), None, t0 - hours(1), t0 - hours(5), None, None),
        W.span_of(GRID, "dispatched", t0 - days(1), None, t0, t0 + hours(5), None, None),
        W.span_of(OTHER, "escalated", t0 - days(1), None, t0, t0 - hours(9), t0 + hours(5), None),
    ]  # fmt: skip
    opened, late = W.levels(spans, [t0, t0 + hours(6)], [GRID, OTHER])
    assert opened.tolist() == [[2, 1], [1, 1]]  # closed at +1 h; cancelled at -1 h
    assert late.tolist() == [[1, 1], [0, 1]]  # office deadline +5 h; handling one +5 h


# ---------------------------------------------------------------------- everything, acks
def test_evaluate_runs_every_rule_and_rejects_unknown_ones():
    rows = [report(hours(h), dx=5.0 * h) for h in (1, 2, 3, 4, 5)]
    inputs = W.Inputs(NOW, rows, [], opens(5), [])
    assert [w.rule for w in W.evaluate(inputs, S)] == ["repeat", "cluster", "surge"]
    assert [w.rule for w in W.evaluate(inputs, S, rules=("cluster",))] == ["cluster"]
    with pytest.raises(ValueError, match="unknown warning rule"):
        W.evaluate(inputs, S, rules=("bogus",))


def test_an_acknowledgement_sticks_until_a_new_incident_joins():
    rows = [report(days(d)) for d in (5, 9, 12)]
    (w,) = W.repeats(rows, NOW, S)
    ack = {"rule": "repeat", "subject": w.subject, "incidents": list(w.incidents),
           "actor": "disp", "at": NOW, "note": "已排查", "key": w.key}  # fmt: skip
    (seen,) = W.acknowledged([w], [ack])
    assert seen.acknowledged == {"by": "disp", "at": NOW, "note": "已排查", "key": w.key}
    # the oldest leaves the window: two left, below the threshold; a fourth makes it 3 again
    # with one incident the acknowledgement did not see: it comes back
    later = NOW + days(19)
    (back,) = W.repeats([*rows, report(-days(18))], later, S)
    assert W.acknowledged([back], [ack])[0].acknowledged is None
    # four acknowledged, then the first ages out: three left, all seen, still acknowledged
    four = [*rows, report(days(1))]
    (w4,) = W.repeats(four, NOW, S)
    ack4 = {**ack, "incidents": list(w4.incidents)}
    (fewer,) = W.repeats(four, NOW + days(19), S)
    assert len(fewer.incidents) == 3 and fewer.key != w4.key
    assert W.acknowledged([fewer], [ack4])[0].acknowledged is not None
    other = {**ack, "subject": f"{OTHER}:0601"}
    assert W.acknowledged([w], [other])[0].acknowledged is None


def test_a_worker_sees_warnings_touching_their_grid_with_their_incidents_only():
    rows = [report(hours(h), dx=5.0 * h, grid=GRID if h < 3 else OTHER) for h in (1, 2, 3, 4, 5)]
    (w,) = W.clusters(rows, NOW, S)
    mine = w.within(frozenset({GRID}))
    assert len(mine.incidents) == 2 and set(mine.incident_grids) == {GRID}
    assert w.within(frozenset({"320113005001001"})) is None


# ---------------------------------------------------------------------- settings
def test_settings_are_read_and_checked(monkeypatch):
    monkeypatch.setenv("GEOGRID_WARN_REPEAT_COUNT", "4")
    monkeypatch.setenv("GEOGRID_WARN_CLUSTER_RADIUS_M", "150.5")
    s = WarningSettings.from_settings()
    assert s.repeat_count == 4 and s.cluster_radius_m == 150.5 and s.surge_weeks == 8
    monkeypatch.setenv("GEOGRID_WARN_REPEAT_COUNT", "2.5")
    with pytest.raises(InputError, match="GEOGRID_WARN_REPEAT_COUNT must be a whole number"):
        WarningSettings.from_settings()
    monkeypatch.setenv("GEOGRID_WARN_REPEAT_COUNT", "1")
    with pytest.raises(InputError, match="GEOGRID_WARN_REPEAT_COUNT must be a number from 2"):
        WarningSettings.from_settings()
    monkeypatch.delenv("GEOGRID_WARN_REPEAT_COUNT")
    monkeypatch.setenv("GEOGRID_WARN_SURGE_SD", "lots")
    with pytest.raises(InputError, match="GEOGRID_WARN_SURGE_SD"):
        WarningSettings.from_settings()


def test_a_bad_setting_stops_the_command_line_with_exit_2(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOGRID_WARN_CLUSTER_HOURS", "0")
    result = CliRunner().invoke(
        main, ["incident", "list", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}"]
    )
    assert result.exit_code == 2, result.output
    assert "GEOGRID_WARN_CLUSTER_HOURS must be a number from 1" in result.output


def test_the_command_line_lists_and_acknowledges(tmp_path):
    db = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    run = lambda *a: CliRunner().invoke(main, [*map(str, a), "--db", db])  # noqa: E731
    assert run("init-db").exit_code == 0
    for _ in range(3):
        assert run("incident", "report", 118.93, 32.11, "--category", "0601").exit_code == 0
    listed = run("incident", "warnings", "--rule", "repeat", "--json")
    (w,) = json.loads(listed.output)
    assert w["rule"] == "repeat" and len(w["incidents"]) == 3
    refused = run("incident", "acknowledge", w["key"], "--note", " ")
    assert refused.exit_code == 2 and "a note" in refused.output
    done = run("incident", "acknowledge", w["key"], "--note", "已安排排查")
    assert done.exit_code == 0 and "acknowledged" in done.output
    assert "0 warnings (active)" in run("incident", "warnings", "--rule", "repeat").output
    acked = run("incident", "warnings", "--rule", "repeat", "--view", "acknowledged").output
    assert "acknowledged by" in acked and "已安排排查" in acked
