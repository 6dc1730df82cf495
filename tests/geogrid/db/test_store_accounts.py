"""Users, passwords and API tokens on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from geogrid_db_support import counts, table_rows

from geogrid.db import schema as t
from geogrid.errors import Conflict, InputError, NotFound

PASSWORD = "仙林-correct-horse"


def test_create_user_and_authenticate(store):
    u = store.create_user("zhang.wei", PASSWORD, "dispatcher", display_name="张伟", actor="admin")
    assert (u.username, u.display_name, u.role, u.active) == (
        "zhang.wei",
        "张伟",
        "dispatcher",
        True,
    )
    w = store.create_user("  li.na ", "another-secret", "worker", grid_code="320113005007007")
    assert (w.username, w.display_name, w.grid_code) == ("li.na", "li.na", "320113005007007")
    assert [x.username for x in store.users()] == ["li.na", "zhang.wei"]
    assert store.user(u.id) == u

    assert store.authenticate("zhang.wei", PASSWORD) == u
    assert store.authenticate("zhang.wei", PASSWORD + "x") is None
    assert store.authenticate("zhang.wei", "") is None
    assert store.authenticate("nobody", PASSWORD) is None
    assert store.authenticate("li.na", PASSWORD) is None  # another user's password

    # only a salted hash is stored, never the password
    with store.engine.connect() as conn:
        hashes = dict(conn.execute(sa.select(t.users.c.username, t.users.c.password_hash)).all())
    assert hashes["zhang.wei"].startswith("scrypt$")
    assert PASSWORD not in hashes["zhang.wei"]
    assert all(PASSWORD not in str(v) for row in table_rows(store, t.users) for v in row)

    store.set_password("zhang.wei", "a-new-password", actor="admin")
    assert store.authenticate("zhang.wei", PASSWORD) is None
    assert store.authenticate("zhang.wei", "a-new-password") == u
    with pytest.raises(NotFound):
        store.set_password("nobody", "a-new-password", actor="admin")


def test_inactive_users_cannot_log_in_or_use_tokens(store):
    u = store.create_user("wang", PASSWORD, "planner")
    token = store.create_token(u.id, "laptop", actor="wang")
    assert store.user_for_token(token) == u
    with store.engine.begin() as conn:  # no API deactivates users yet: do it in SQL
        conn.execute(t.users.update().where(t.users.c.id == u.id).values(active=False))
    assert store.authenticate("wang", PASSWORD) is None
    assert store.user_for_token(token) is None


@pytest.mark.parametrize(
    ("username", "password", "role", "error"),
    [
        ("zhang.wei", "another-secret", "worker", Conflict),  # taken
        ("new", "short", "worker", InputError),  # weak password
        ("new", "", "worker", InputError),
        ("new", "long-enough-pw", "boss", InputError),  # no such role
        ("   ", "long-enough-pw", "worker", InputError),  # no name
        ("x" * 101, "long-enough-pw", "worker", InputError),
    ],
)
def test_create_user_rejects_and_writes_nothing(store, username, password, role, error):
    store.create_user("zhang.wei", PASSWORD, "dispatcher")
    before = counts(store)
    with pytest.raises(error):
        store.create_user(username, password, role)
    assert counts(store) == before
    assert [u.username for u in store.users()] == ["zhang.wei"]


def test_text_the_database_cannot_keep_is_refused_alike_on_both_backends(store):
    """PostgreSQL cannot store a NUL character nor more than a varchar's length; SQLite could.
    Both refuse them the same way, with a clear error, writing nothing."""
    u = store.create_user("zhang.wei", PASSWORD, "dispatcher")
    before = counts(store)
    with pytest.raises(InputError, match=r"NUL characters \(\\x00\): 'a\\x00b'"):
        store.create_token(u.id, "a\x00b", actor="zhang.wei")
    with pytest.raises(InputError, match="NUL"):
        store.create_user("li.na", PASSWORD, "worker", display_name="李\x00娜")
    with pytest.raises(InputError, match="text of 201 characters, longer than the 200 allowed"):
        store.create_user("li.na", PASSWORD, "worker", display_name="李" * 201)
    assert counts(store) == before
    assert store.create_user("li.na", PASSWORD, "worker", display_name="李" * 200).display_name


def test_tokens(store):
    u = store.create_user("zhang.wei", PASSWORD, "dispatcher")
    other = store.create_user("li.na", PASSWORD, "worker")
    token = store.create_token(u.id, "dispatch desk", actor="admin")
    second = store.create_token(u.id, "phone", actor="admin")
    assert token.startswith("ggt_") and len(token) > 40 and token != second
    assert store.user_for_token(token) == u
    assert store.user_for_token(second) == u
    assert store.user_for_token(token + "x") is None
    assert store.user_for_token("") is None
    assert store.tokens(other.id) == []

    # the token itself is stored nowhere, only its hash and a short prefix
    rows = table_rows(store, t.api_tokens)
    assert all(token not in str(v) and second not in str(v) for row in rows for v in row)
    listed = store.tokens(u.id)
    assert [(x["name"], x["prefix"], x["revoked"]) for x in listed] == [
        ("dispatch desk", token[:8], False),
        ("phone", second[:8], False),
    ]
    assert listed[0]["last_used_at"] is not None  # it was used above

    store.revoke_token(listed[0]["id"], actor="admin")
    assert store.user_for_token(token) is None
    assert store.user_for_token(second) == u
    assert [x["revoked"] for x in store.tokens(u.id)] == [True, False]
    with pytest.raises(NotFound):
        store.revoke_token(listed[0]["id"], actor="admin")  # already revoked
    with pytest.raises(NotFound):
        store.revoke_token(9999, actor="admin")
    with pytest.raises(NotFound):
        store.create_token(9999, "ghost", actor="admin")
    assert len(table_rows(store, t.api_tokens)) == 2
