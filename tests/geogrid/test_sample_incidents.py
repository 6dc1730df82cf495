"""The sample history of incidents (geogrid.sample.incidents): reproducible, in the grid that
owns each point, each incident's state and dates what its log of workflow steps leaves, and
spread as the sub-district's problems are (categories, seasons, grids, channels)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from geogrid import incidents as wf
from geogrid.crs import to_wgs84
from geogrid.incidents import Incident, default_catalogue
from geogrid.locate import Locator
from geogrid.model import District, default_data_dir
from geogrid.sample.incidents import generate
from geogrid.workdays import BEIJING, deadline, is_workday

END = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
CAT = default_catalogue()


@pytest.fixture(scope="module")
def district() -> District:
    return District.load(default_data_dir())


def history(district, count=4000, seed=11, years=10, end=END):
    return list(generate(district, CAT, count=count, seed=seed, end=end, years=years, version_id=1))


@pytest.fixture(scope="module")
def ten_years(district):
    return history(district)


@pytest.fixture(scope="module")
def last_year(district):
    """A busy single year: enough incidents per day for open and overdue ones at its end."""
    return history(district, count=6000, seed=5, years=1)


def test_the_same_seed_gives_the_same_history(district, ten_years):
    again = history(district)
    assert again == ten_years
    other = history(district, seed=12)
    assert [r for r, _ in other] != [r for r, _ in ten_years]


def test_count_span_and_order(ten_years):
    assert len(ten_years) == 4000
    created = [r["created_at"] for r, _ in ten_years]
    assert created == sorted(created)  # oldest first: ids grow with time
    assert created[0] >= END - timedelta(days=3653) and created[-1] <= END
    years = Counter(c.astimezone(BEIJING).year for c in created)
    assert set(years) == set(range(2016, 2027))
    assert years[2025] > years[2017]  # the method spread: more reports each year
    events = [e for _, es in ten_years for e in es]
    assert max(e["at"] for e in events) <= END
    times = [r[k] for r, _ in ten_years for k in r if k.endswith("_at") and r[k] is not None]
    assert all(t.tzinfo is UTC for t in times + [e["at"] for e in events])


def test_every_incident_lies_in_its_grid(district, ten_years):
    rows = [r for r, _ in ten_years]
    found = Locator(district).locate_many([r["lon"] for r in rows], [r["lat"] for r in rows])
    assert list(found.grid2_codes) == [r["grid_code"] for r in rows]
    assert list(found.grid1_codes) == [r["grid1_code"] for r in rows]
    workers = dict(zip(district.grids2["code"], district.grids2["worker"], strict=True))
    assert all(r["worker"] == workers[r["grid_code"]] for r in rows)
    units = dict(zip(district.units["code"], district.units["grid"], strict=True))
    at_unit = [r for r in rows if r["unit_code"]]
    assert 0.2 < len(at_unit) / len(rows) < 0.4
    assert all(units[r["unit_code"]] == r["grid_code"] for r in at_unit)
    # phones report in GCJ-02: the coordinates as given lead back to the stored point
    given = [r for r in rows if r["input"]]
    assert given and {r["channel"] for r in given} <= {"app", "open311"}
    for r in given[:50]:
        assert r["input"]["crs"] == "gcj02"
        lon, lat = to_wgs84(r["input"]["x"], r["input"]["y"], "gcj02")
        assert abs(lon - r["lon"]) < 1e-6 and abs(lat - r["lat"]) < 1e-6


def replay(row: dict, events: list[dict]) -> None:
    """Check that ``events`` is a log the workflow could have written and leaves ``row``."""
    first, *steps = events
    assert (first["action"], first["from_state"], first["to_state"]) == ("report", None, "reported")
    assert first["at"] == row["created_at"]
    state, recurrences = wf.REPORTED, 0
    for prev, e in zip(events, steps, strict=False):
        assert e["from_state"] == state and e["at"] >= prev["at"]
        target = wf.check_action(state, e["action"])  # refuses an illegal step
        if e["action"] == "revisit":
            passed = e["detail"]["passed"]
            assert e["to_state"] == (wf.REVISITED if passed else wf.DISPATCHED)
        else:
            assert e["to_state"] == target
        if e["to_state"] == wf.DISPATCHED and e["action"] != "dispatch":
            recurrences += 1
            assert e["detail"]["recurrence"] == recurrences
        if e["action"] in ("escalate", "resolve", "cancel") or e["detail"].get("passed") is False:
            assert e["note"]  # the workflow asks for a note
        state = e["to_state"]
    assert row["state"] == state and row["recurrences"] == recurrences
    assert row["updated_at"] == events[-1]["at"]


def test_states_follow_the_event_log(ten_years, last_year):
    for row, events in ten_years + last_year:
        replay(row, events)


def test_dates_and_deadlines_are_the_workflows(ten_years, last_year):
    for row, events in ten_years + last_year:
        cat = CAT.get(row["category"])
        last = {e["action"]: e for e in events}
        state = row["state"]
        if "dispatch" in last:
            dispatched = [e for e in events if e["to_state"] == wf.DISPATCHED][-1]
            assert row["dispatched_at"] == dispatched["at"]
            assert row["due_at"] == deadline(row["dispatched_at"], cat.workdays)
            assert last["dispatch"]["detail"] == {"worker": row["worker"]}
        else:
            assert row["dispatched_at"] is None and row["due_at"] is None
        if "escalate" in last:
            e = last["escalate"]
            assert row["escalated_at"] == e["at"] and row["office"] == cat.office
            assert e["detail"] == {"office": cat.office, "workdays": cat.workdays}
        if state == wf.ESCALATED:
            assert row["office_due_at"] == deadline(row["escalated_at"], cat.workdays)
        if state in (wf.RESOLVED, wf.REVISITED, wf.CLOSED):
            assert row["resolved_at"] == last["resolve"]["at"]
            assert row["revisit_due_at"] == deadline(row["resolved_at"], 3)
        else:
            assert row["resolved_at"] is None and row["revisit_due_at"] is None
        if state in (wf.REVISITED, wf.CLOSED):
            assert row["satisfaction"] == last["revisit"]["detail"]["satisfaction"]
            assert row["revisited_at"] == last["revisit"]["at"]
        else:
            assert row["satisfaction"] is None and row["revisited_at"] is None
        assert (row["closed_at"] is not None) == (state == wf.CLOSED)
        Incident(id=1, **row).to_dict(private=False)  # the application's record takes it


def test_outcomes_as_the_sub_district_reports_them(ten_years):
    states = Counter(r["state"] for r, _ in ten_years)
    assert states[wf.CLOSED] / len(ten_years) > 0.95
    assert 0.005 < states[wf.CANCELLED] / len(ten_years) < 0.03
    sat = Counter(r["satisfaction"] for r, _ in ten_years if r["satisfaction"])
    assert set(sat) == set(wf.SATISFACTION)
    assert 0.93 < sat["satisfied"] / sum(sat.values()) < 0.97  # 满意 above 95 % or so
    again = [r for r, _ in ten_years if r["recurrences"]]
    assert 0.005 < len(again) / len(ten_years) < 0.05
    escalated = [r for r, _ in ten_years if r["escalated_at"]]
    assert 0.05 < len(escalated) / len(ten_years) < 0.3
    assert {r["office"] for r in escalated} <= {c.office for c in CAT}
    late = [r for r, _ in ten_years if r["resolved_at"] and r["resolved_at"] > r["due_at"]]
    assert 0.01 < len(late) / len(ten_years) < 0.15


def test_the_most_recent_are_still_open_and_some_overdue(last_year):
    rows = [r for r, _ in last_year]
    open_ = [r for r in rows if r["state"] in wf.OPEN and r["state"] != wf.REVISITED]
    assert {r["state"] for r in open_} >= {wf.REPORTED, wf.DISPATCHED, wf.HANDLING, wf.RESOLVED}
    recent = [r for r in rows if r["created_at"] > END - timedelta(days=2)]
    assert sum(r["state"] != wf.CLOSED for r in recent) > len(recent) / 2
    old = [r for r in rows if r["created_at"] < END - timedelta(days=120)]
    assert sum(r["state"] in wf.OPEN for r in old) < len(old) * 0.01
    overdue = [r for r in rows if Incident(id=1, **r).overdue(END)]
    assert len(overdue) >= 3
    assert all(r["state"] in wf.RUNNING for r in overdue)


def test_spread_by_category_channel_and_grid(district, ten_years):
    rows = [r for r, _ in ten_years]
    majors = Counter(CAT.get(r["category"]).major for r in rows)
    assert set(majors) == {c.major for c in CAT}
    assert majors.most_common(2)[0][0] in ("市容环境", "街面秩序")
    assert majors["市容环境"] > 4 * majors["信访"]
    channels = Counter(r["channel"] for r in rows)
    assert set(channels) == set(wf.CHANNELS)
    assert channels["patrol"] > channels["phone"] > channels["video"]
    patrol = [r for r in rows if r["channel"] == "patrol"]
    assert all(r["informant_kind"] in wf.INFORMANT_KINDS and r["informant_name"] for r in patrol)
    greening = Counter(r["informant_kind"] for r in patrol if r["category"].startswith("08"))
    assert greening.most_common(1)[0][0] == "greening"  # 绿化队员 report the greening
    for r in rows:
        wf.check_informant(r["informant_kind"], r["informant_name"])
        assert CAT.get(r["category"]).minor in r["description"]
    grids = Counter(r["grid_code"] for r in rows)
    assert len(grids) > 0.95 * len(district.grids2)
    kinds = dict(zip(district.grids2["code"], district.grids2["kind"], strict=True))

    def share(major: str, kind: str) -> float:
        there = [r for r in rows if kinds[r["grid_code"]] == kind]
        return sum(r["category"].startswith(major) for r in there) / len(there)

    assert share("09", "住宅") > 2 * share("09", "产业")  # housing problems where people live
    assert share("04", "商业") > 1.5 * share("04", "住宅")  # street vending where the shops are


def test_seasons_and_working_days(ten_years):
    rows = [r for r, _ in ten_years]

    def month(r):
        return r["created_at"].astimezone(BEIJING).month

    summer = Counter(r["category"][:2] for r in rows if month(r) in (6, 7, 8))
    winter = Counter(r["category"][:2] for r in rows if month(r) in (12, 1, 2))
    assert summer["08"] > 2 * winter["08"]  # greening
    flooding = Counter(month(r) for r in rows if r["category"] == "0504")
    assert flooding[6] + flooding[7] > 5 * (flooding[12] + flooding[1])
    days = Counter(r["created_at"].astimezone(BEIJING).date() for r in rows)
    first = min(days)
    span = [first + timedelta(days=i) for i in range((max(days) - first).days + 1)]
    work = [d for d in span if is_workday(d)]
    off = [d for d in span if not is_workday(d)]
    per_workday = sum(days[d] for d in work) / len(work)
    per_off_day = sum(days[d] for d in off) / len(off)
    assert per_workday > 1.4 * per_off_day


def test_bad_arguments(district):
    with pytest.raises(ValueError, match="aware"):
        next(generate(district, CAT, count=1, end=datetime(2026, 1, 1), version_id=1))
    assert history(district, count=0) == []
