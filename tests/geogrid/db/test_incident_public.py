"""Reading incidents from outside the sub-district (what Open311 builds on), on SQLite and
PostGIS: the anonymous reader sees every incident but only its public fields and may do nothing
else; lists by incident numbers, lists with each incident's log and photos; the step that ended
a problem for its reporter, and whether it still counts."""

from __future__ import annotations

import pytest
from geogrid_db_support import OWNER, POINT

from geogrid import incidents as wf
from geogrid import usecases
from geogrid.access import PUBLIC_READER, Actor
from geogrid.errors import Forbidden, InputError, NotFound
from geogrid.incidents.query import IncidentQuery

U = usecases.incidents
DISP = Actor("disp", "dispatcher")
WORKER = Actor("zhou", "worker", frozenset({OWNER}))


def reported(svc, **kw):
    return U.report(
        svc,
        DISP,
        *POINT,
        category="0202",
        description="占道摆摊",
        reporter="王女士",
        reporter_contact="13800001111",
        informant_kind="greening",
        informant_name="李绿化",
        **kw,
    )


def resolved(svc, note="已清理"):
    inc = reported(svc, dispatch=True)
    U.act(svc, WORKER, inc.id, "accept", note="马上去 (13800001111)")
    return U.act(svc, WORKER, inc.id, "resolve", note=note)


def test_the_anonymous_reader_sees_every_incident_without_who_reported_it(module_service):
    svc = module_service
    inc = resolved(svc)
    seen = U.get(svc, PUBLIC_READER, inc.id)
    assert (seen.id, seen.state, seen.description, seen.grid_code) == (
        inc.id,
        "resolved",
        "占道摆摊",
        OWNER,
    )
    assert (seen.reporter, seen.reporter_contact, seen.informant_name, seen.created_by) == (
        None,
        None,
        None,
        "",
    )
    text = repr(seen)
    for secret in ("王女士", "13800001111", "李绿化", "'zhou'", "'disp'"):
        assert secret not in text
    # the closing step's note is the public answer; the others' notes are gone
    assert [e["note"] for e in seen.events] == ["", "", "已清理"]  # report, accept, resolve
    _, listed = U.search(svc, PUBLIC_READER, IncidentQuery(ids=(inc.id,)), details=True)
    assert listed == [seen]
    # a dispatcher still sees everything
    assert U.get(svc, DISP, inc.id).reporter == "王女士"


@pytest.mark.parametrize(
    "call",
    [
        lambda svc, i: U.report(svc, PUBLIC_READER, *POINT, category="0202"),
        lambda svc, i: U.act(svc, PUBLIC_READER, i, "dispatch"),
        lambda svc, i: U.add_photos(svc, PUBLIC_READER, i, [b"x"]),
        lambda svc, i: U.save_category(svc, PUBLIC_READER, None),
        lambda svc, i: U.reassign(svc, PUBLIC_READER, i, worker="x", note="n"),
    ],
)
def test_the_anonymous_reader_changes_nothing(module_service, call):
    inc = reported(module_service)
    with pytest.raises(Forbidden, match="anonymous reader may not"):
        call(module_service, inc.id)


def test_lists_by_incident_numbers_stay_within_a_workers_grid(module_service):
    svc = module_service
    a, b = reported(svc), reported(svc)
    elsewhere = U.report(svc, DISP, 118.95, 32.1, category="0202")
    assert elsewhere.grid_code != OWNER
    ids = (a.id, b.id, elsewhere.id, 10**12)
    _, found = U.search(svc, DISP, IncidentQuery(ids=ids, limit=10))
    assert {i.id for i in found} == {a.id, b.id, elsewhere.id}
    _, mine = U.search(svc, WORKER, IncidentQuery(ids=ids, limit=10))
    assert {i.id for i in mine} == {a.id, b.id}
    assert IncidentQuery.parse({"id": f"{a.id},{b.id}"}).ids == (a.id, b.id)
    assert IncidentQuery.parse({"id": f"{a.id},{b.id}"}).to_args() == {"id": f"{a.id},{b.id}"}
    with pytest.raises(InputError, match="id: up to 1000 incident numbers"):
        IncidentQuery.parse({"id": "1,two"})
    for number in (10**12, 0, -1, "x"):
        with pytest.raises(NotFound):
            U.get(svc, DISP, number)


def test_a_list_with_details_has_each_log_and_merged_incidents(module_service):
    svc = module_service
    target = reported(svc)
    dup = reported(svc, merge_into=target.id)  # answers the target
    assert dup.id == target.id
    other = resolved(svc)
    _, plain = U.search(svc, DISP, IncidentQuery(ids=(target.id, other.id)))
    assert all(i.events == [] for i in plain)
    _, full = U.search(svc, DISP, IncidentQuery(ids=(target.id, other.id)), details=True)
    assert {i.id: i for i in full} == {
        target.id: svc.store.incident(target.id),
        other.id: svc.store.incident(other.id),
    }
    assert svc.store.incident(target.id).merged  # the merged report is listed on the target


def test_the_closing_step_counts_while_the_problem_stays_over(module_service):
    svc = module_service
    inc = resolved(svc, note="已清理")
    assert inc.state in wf.DONE and inc.closing_step()["note"] == "已清理"
    inc = U.act(svc, WORKER, inc.id, "revisit", passed=True, satisfaction="满意", note="回访")
    inc = U.act(svc, DISP, inc.id, "close", note="结案")
    assert inc.closing_step()["note"] == "已清理"  # the answer, not the sub-district's own steps
    inc = U.act(svc, DISP, inc.id, "reopen", note="又摆摊了")
    assert inc.state not in wf.DONE and inc.closing_step() is None
    inc = U.act(svc, DISP, inc.id, "cancel", note="重复上报")
    assert inc.closing_step()["note"] == "重复上报"
    assert U.get(svc, PUBLIC_READER, inc.id).events[-1]["note"] == "重复上报"
