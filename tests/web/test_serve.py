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
