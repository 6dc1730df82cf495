"""Reporting an incident through the use case (:func:`geogrid.usecases.incidents.report`) on
both backends: the place located, the owner and version recorded, bad input refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, OWNER, OWNER1, POINT, report, table_rows

from geogrid import usecases
from geogrid.access import Actor
from geogrid.crs import from_wgs84
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.errors import Forbidden, InputError


def test_report_incident_records_the_owner_and_version(module_service):
    svc = module_service
    v = svc.store.current_version(DISTRICT)
    start = utcnow()
    inc = report(
        svc, *POINT, category="市容环境", description="井盖缺失", actor="disp", reporter="王女士"
    )
    assert (inc.grid_code, inc.grid1_code, inc.version_id) == (OWNER, OWNER1, v.id)
    assert (inc.lon, inc.lat) == POINT
    assert (inc.state, inc.category, inc.description, inc.reporter) == (
        "reported",
        "市容环境",
        "井盖缺失",
        "王女士",
    )
    assert inc.input in (None, {"x": POINT[0], "y": POINT[1], "crs": "wgs84"})
    assert start <= inc.created_at == inc.updated_at <= utcnow()
    assert [(e["actor"], e["from_state"], e["to_state"], e["note"]) for e in inc.events] == [
        ("disp", None, "reported", "井盖缺失")
    ]
    # the same place given in GCJ-02 (what a phone map reports) lands in the same grid
    gx, gy = from_wgs84(*POINT, "gcj02")
    twin = report(svc, gx, gy, crs="gcj02", category="市容环境", actor="app", channel="app")
    assert (twin.grid_code, twin.grid1_code, twin.version_id) == (OWNER, OWNER1, v.id)
    assert twin.lon == pytest.approx(POINT[0], abs=1e-7)
    assert twin.lat == pytest.approx(POINT[1], abs=1e-7)
    assert twin.input == {"x": gx, "y": gy, "crs": "gcj02"}
    assert twin.channel == "app"
    # as stored: the point geometry is where the incident is
    [row] = [r for r in table_rows(svc.store, t.incidents) if r[0] == twin.id]
    assert store_point(svc.store, twin.id) == (twin.lon, twin.lat)
    assert store_point(svc.store, inc.id) == POINT
    assert row[3] == OWNER
    assert [i.id for i in svc.store.incidents(DISTRICT, grid_code=OWNER)][:2] == [twin.id, inc.id]


def store_point(store, iid):
    import shapely

    with store.engine.connect() as conn:
        geom = conn.execute(sa.select(t.incidents.c.geom).where(t.incidents.c.id == iid)).scalar()
    return shapely.get_x(geom), shapely.get_y(geom)


def test_report_incident_rejects_bad_input(module_service):
    svc = module_service
    before = len(table_rows(svc.store, t.incidents))
    with pytest.raises(InputError):
        report(svc, *POINT, category="x", actor="d", channel="carrier pigeon")
    with pytest.raises(InputError):
        report(svc, *POINT, category="", actor="d")
    with pytest.raises(InputError):
        report(svc, 500.0, 32.11, category="x", actor="d")
    assert len(table_rows(svc.store, t.incidents)) == before


def test_report_incident_needs_a_role_that_may(module_service):
    before = len(table_rows(module_service.store, t.incidents))
    for role in ("planner", "worker"):
        with pytest.raises(Forbidden):
            usecases.incidents.report(
                module_service, Actor("x", role, frozenset({OWNER})), *POINT, category="x"
            )
    assert len(table_rows(module_service.store, t.incidents)) == before
