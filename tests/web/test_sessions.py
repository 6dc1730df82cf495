"""Login sessions live on the server: logging out, a new password or a disabled account ends
them, so a session cookie saved before no longer opens a page or the API. A failed login costs
the same whether the username exists or not."""

from __future__ import annotations

import pytest

from geogrid import accounts
from geogrid.access import cli_actor
from geogrid.usecases import accounts as account_cases


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(site, value: str):
    """A fresh client carrying only a saved session cookie."""
    other = site.client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_saved_before_logout_no_longer_works(make_site, login, csrf_token):
    site = make_site()
    client = login(site.client(), "dispatcher")
    saved = _cookie(client)
    assert _replay(site, saved).get("/").status_code == 200  # the copy works while logged in
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    page = _replay(site, saved).get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    api = _replay(site, saved).get("/api/v1/versions")
    assert api.status_code == 401
    assert api.json["error"]["status"] == 401


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_a_disabled_account_ends_every_session(make_site, login, change):
    site = make_site()
    saved = _cookie(login(site.client(), "planner"))
    if change == "password":
        site.store.set_password("planner", "Another-long-pw-9", actor="admin")
    else:
        site.store.set_active("planner", False, actor="admin")
    assert _replay(site, saved).get("/api/v1/versions").status_code == 401
    if change == "password":  # the new password opens a new session
        assert login(site.client(), "planner", "Another-long-pw-9").get("/").status_code == 200


def test_the_cookie_holds_no_user_number(make_site, login):
    """A session names a server-side session, not the account: a forged cookie with a user's
    id (what Flask-Login kept before) opens nothing."""
    site = make_site()
    client = login(site.client(), "admin")
    with client.session_transaction() as s:
        assert s["_user_id"] != str(site.user_id("admin"))
        s["_user_id"] = str(site.user_id("admin"))
    assert client.get("/api/v1/versions").status_code == 401


def test_unknown_usernames_cost_a_password_check_too(site, monkeypatch):
    checked = []
    real = accounts.verify_password
    monkeypatch.setattr(
        accounts, "verify_password", lambda pw, stored: checked.append(stored) or real(pw, stored)
    )
    assert site.store.authenticate("no-such-user", "whatever-pw") is None
    assert site.store.authenticate("dispatcher", "wrong-password") is None
    assert len(checked) == 2
    assert checked[0] == accounts.dummy_hash()
    assert checked[0].split("$")[:4] == checked[1].split("$")[:4]  # same scrypt parameters


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("        ", "space"),
        (" padded-password", "space"),
        ("x" * 129, "at most 128"),
        ("short", "at least 8"),
        ("password", "most common"),
        ("Password1", "most common"),
        ("my-newbie-pw", "username"),
    ],
)
def test_passwords_the_login_form_could_not_take_or_too_easy_are_refused(make_site, password, says):
    store = make_site().store
    with pytest.raises(accounts.InputError, match=says):
        account_cases.create_user(store, cli_actor("tests"), "newbie", password, "dispatcher")
    with pytest.raises(accounts.InputError, match=says):
        store.set_password("dispatcher" if says != "username" else "newbie", password, actor="t")
    assert "newbie" not in {u.username for u in store.users()}
