"""The audit log: every change to boundaries, roster, users and tokens leaves a record."""

from __future__ import annotations

import pytest
from geogrid_db_support import DISTRICT, OWNER, sample, with_worker

from geogrid.db.types import utcnow
from geogrid.errors import Conflict


def test_every_change_is_audited_with_actor_and_entity(store):
    start = utcnow()
    d = sample()
    draft = store.create_version(d, actor="planner.li", note="导入")
    assert [(r["actor"], r["action"], r["entity"], r["entity_key"]) for r in store.audit_log()] == [
        ("planner.li", "create", "version", str(draft.id))
    ]
    store.publish(draft.id, actor="chief.wang")
    records = store.audit_log(limit=1000)
    assert (records[0]["actor"], records[0]["action"], records[0]["entity"]) == (
        "chief.wang",
        "publish",
        "version",
    )
    assert records[0]["entity_key"] == str(draft.id)
    # the people the version names entered the roster, each change audited
    assigned = [r for r in records if r["entity"] == "roster"]
    assert len(assigned) == 10 + 10 + 156
    assert {r["actor"] for r in assigned} == {"chief.wang"}
    assert f"{OWNER}/worker" in {r["entity_key"] for r in assigned}

    store.assign(DISTRICT, OWNER, "worker", "王新", "138", actor="disp.zhao")
    user = store.create_user("li.na", "long-enough-pw", "worker", actor="admin.sun")
    token = store.create_token(user.id, "phone", actor="admin.sun")
    tid = store.tokens(user.id)[0]["id"]
    store.revoke_token(tid, actor="admin.qian")
    v2 = store.create_version(with_worker(d, OWNER, "甲", None), actor="planner.li")
    with pytest.raises(Conflict):
        store.publish(draft.id, actor="chief.wang")  # refused: leaves no record
    got = [
        (r["actor"], r["action"], r["entity"], r["entity_key"]) for r in store.audit_log(limit=5)
    ]
    assert got == [
        ("planner.li", "create", "version", str(v2.id)),
        ("admin.qian", "revoke", "token", str(tid)),
        ("admin.sun", "create", "token", str(tid)),
        ("admin.sun", "create", "user", "li.na"),
        ("disp.zhao", "assign", "roster", f"{OWNER}/worker"),
    ]
    newest = store.audit_log(limit=5)
    assert newest[4]["detail"]["name"] == "王新"
    assert newest[3]["detail"]["role"] == "worker"
    assert all(start <= r["at"] <= utcnow() for r in store.audit_log(limit=1000))
    assert token not in str(store.audit_log(limit=1000))
    # filtered by entity, newest first
    assert [r["action"] for r in store.audit_log(entity="version")] == [
        "create",
        "publish",
        "create",
    ]
