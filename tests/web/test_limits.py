"""Throttling of password and token guesses: 429 once the failures of an account at an address,
or of an address, reach their limit, without locking the right user out from elsewhere."""

from __future__ import annotations


def _post_login(client, csrf_token, username, password, addr):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": addr},
    )


def test_thirty_wrong_passwords_get_429_but_the_user_logs_in_from_elsewhere(
    make_site, csrf_token, passwords
):
    site = make_site()
    attacker = site.client()
    statuses = [
        _post_login(attacker, csrf_token, "dispatcher", f"wrong-{i}", "203.0.113.9").status_code
        for i in range(30)
    ]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    refused = _post_login(
        attacker, csrf_token, "dispatcher", passwords["dispatcher"], "203.0.113.9"
    )
    assert refused.status_code == 429  # not even the right password from the guessing address
    assert int(refused.headers["Retry-After"]) > 0
    assert 'href="/login"' in refused.get_data(as_text=True)  # not logged in: back to the form
    assert "Wait a few minutes" in refused.get_data(as_text=True) or "稍候" in refused.get_data(
        as_text=True
    )
    user = site.client()
    ok = _post_login(user, csrf_token, "dispatcher", passwords["dispatcher"], "198.51.100.4")
    assert ok.status_code == 302
    assert user.get("/").status_code == 200


def test_one_address_trying_many_accounts_is_throttled(make_site, csrf_token):
    site = make_site(LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes")
    client = site.client()
    statuses = [
        _post_login(client, csrf_token, f"user{i}", "nope-nope", "203.0.113.10").status_code
        for i in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2


def test_successful_logins_are_not_counted(make_site, csrf_token, passwords):
    site = make_site(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    for _ in range(6):
        client = site.client()
        ok = _post_login(client, csrf_token, "planner", passwords["planner"], "192.0.2.1")
        assert ok.status_code == 302


def test_wrong_tokens_get_429_and_good_callers_elsewhere_are_served(make_site):
    site = make_site(TOKEN_LIMIT_PER_ADDRESS="10 per 15 minutes")
    client = site.client()
    bad = {"Authorization": "Bearer not-a-real-token"}
    far = {"REMOTE_ADDR": "203.0.113.20"}
    statuses = [
        client.get("/api/v1/grids", headers=bad, environ_overrides=far).status_code
        for _ in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2
    refused = client.get("/api/v1/grids", headers=bad, environ_overrides=far)
    assert refused.status_code == 429
    assert refused.json["error"]["status"] == 429
    assert "wrong API token" in refused.json["error"]["message"]
    assert int(refused.headers["Retry-After"]) > 0
    near = {"REMOTE_ADDR": "198.51.100.30"}
    good = client.get("/api/v1/grids", headers=site.headers("dispatcher"), environ_overrides=near)
    assert good.status_code == 200
    # the search endpoint and the OGC API are throttled the same way (one count), the OGC API
    # answering with its exception document
    assert client.get("/api/v1/search?q=a", headers=bad, environ_overrides=far).status_code == 429
    ogc = client.get("/ogc/collections", headers=bad, environ_overrides=far)
    assert ogc.status_code == 429 and ogc.json["code"] == "TooManyRequests"


def test_good_tokens_are_never_counted(make_site):
    site = make_site(TOKEN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    client = site.client()
    for _ in range(6):
        assert client.get("/api/v1/grids", headers=site.headers("worker")).status_code == 200
