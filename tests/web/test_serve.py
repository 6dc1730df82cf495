"""``geogrid serve``: the README's run command, as a real gunicorn server with several workers."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

GEOGRID = Path(sys.executable).with_name("geogrid")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp_path: Path, *args: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "GEOGRID_INSTANCE": str(tmp_path / "instance")}
        env.pop("GEOGRID_DATABASE_URL", None)
        self.log = tmp_path / f"serve-{self.port}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [str(GEOGRID), "serve", "--port", str(self.port), "--workers", "2", *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    self.health = json.loads(r.read())
                    break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start:\n{self.log.read_text()}") from None
                time.sleep(0.3)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        self._out.close()


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


def login(base: str, username: str, password: str):
    # browsers treat http://127.0.0.1 as a secure context and send the session's Secure cookie
    policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    jar = http.cookiejar.CookieJar(policy)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "username": username, "password": password}
    ).encode()
    try:
        resp = opener.open(base + "/login", data)
    except urllib.error.HTTPError as exc:
        return exc.code, opener
    return resp.status, opener


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
