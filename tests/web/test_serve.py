"""``geogrid serve``: the README's run command, as a real gunicorn server with several workers."""

from __future__ import annotations

import json
import re

import pytest
from serve_support import Server, login


@pytest.fixture
def serve(tmp_path, monkeypatch):
    # the instance folder holds the SQLite file; keep it inside the test's own tmp_path
    monkeypatch.setenv("GEOGRID_INSTANCE", str(tmp_path / "instance"))
    servers = []

    def start(*args):
        s = Server(tmp_path, *args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def test_demo_run_prints_passwords_once_and_serves_with_several_workers(serve):
    first = serve("--demo")
    assert first.health == {"status": "ok", "district": "320113005", "version": 1}
    accounts = dict(
        re.findall(r"^\s+(diaodu|guihua|wangge|admin)\s+\w+\s+(\S+)$", first.output(), re.M)
    )
    assert set(accounts) == {"diaodu", "guihua", "wangge", "admin"}
    assert len(re.findall(r"Booting worker", first.output())) == 2
    status, opener = login(first.base, "diaodu", accounts["diaodu"])
    assert status == 200
    page = opener.open(first.base + "/").read().decode()
    assert "网格化管理" in page and "/vendor/leaflet/leaflet.js" in page
    answer = json.loads(opener.open(first.base + "/api/v1/locate?lon=118.93&lat=32.11").read())
    assert answer["grid2"]["code"] == "320113005007007"
    assert login(first.base, "diaodu", "wrong-password")[0] == 401
    first.stop()

    again = serve("--demo")  # the same database: no new accounts, no passwords shown
    assert "Demo accounts" not in again.output()
    assert login(again.base, "diaodu", accounts["diaodu"])[0] == 200


def test_without_demo_no_account_is_created(serve):
    s = serve()
    assert "Demo accounts" not in s.output() and "password" not in s.output().lower()
    assert login(s.base, "admin", "anything-at-all")[0] == 401


def test_gunicorns_own_refusals_are_json_like_the_apps(serve):
    """A request line over gunicorn's limit never reaches the app: gunicorn answers 414 itself,
    in the API's JSON error format (not its HTML page)."""
    import http.client

    s = serve()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("GET", "/api/v1/locate?lon=118.93&lat=32.11&pad=" + "x" * 10_000)
    resp = conn.getresponse()
    assert resp.status == 414
    assert resp.getheader("Content-Type") == "application/json"
    body = json.loads(resp.read())
    assert body["error"]["status"] == 414
    assert body["error"]["message"].startswith("URI Too Long")
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.putrequest("GET", "/healthz")
    for n in range(120):  # gunicorn's limit_request_fields is 100
        conn.putheader(f"X-Filler-{n}", "1")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 431
    assert json.loads(resp.read())["error"]["status"] == 431
