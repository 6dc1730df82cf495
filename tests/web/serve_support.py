"""A real ``geogrid serve`` (gunicorn, several workers and threads) on loopback, and a load
generator for it: used by the serve tests, the stress test and ``bench/serve_bench.py``."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

GEOGRID = Path(sys.executable).with_name("geogrid")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``geogrid serve`` with ``args`` (2 workers unless ``--workers`` is given), started and
    waited for until it answers ``/healthz``; its output goes to a log file."""

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
        """Stop gunicorn as an operator does: SIGTERM to the arbiter, which stops its workers
        (signalling the whole group at once raced the arbiter under load: a worker killed by
        the signal logs "was sent SIGTERM!", read as a crash); the group is killed only if it
        does not stop."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._out.close()


def call_api(base: str, token: str, method: str, path: str, body=None):
    """``(status, JSON answer)`` of an API request with a token, a JSON ``body`` if given."""
    req = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


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


@dataclass
class Load:
    """What :func:`hammer` measured: one latency (seconds) per answered request, the failures."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


def hammer(base: str, paths, *, clients: int, requests: int, headers=None, check=None) -> Load:
    """``clients`` threads at once, each with its own keep-alive connection, each sending
    ``requests`` GETs, cycling through ``paths`` from its own offset. ``check(path, status,
    body)`` returns what is wrong with an answer, or None; a failed request is counted, never
    retried. Bounded: every request has a 30 s timeout."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    paths = list(paths)
    load, lock = Load(), threading.Lock()
    go = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, bad = [], []
        go.wait()
        for i in range(requests):
            path = paths[(n * requests + i) % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers or {})
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                bad.append(f"{path}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
            wrong = check(path, resp.status, body) if check else None
            if wrong:
                bad.append(f"{path}: {wrong}")
        conn.close()
        with lock:
            load.latencies += mine
            load.failures += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    load.elapsed = time.perf_counter() - t0
    return load


def worker_crashes(log: str) -> list[str]:
    """The lines of a gunicorn log that say a worker died (a signal, an abnormal exit, a
    timeout) or that a request raised."""
    return re.findall(
        r"^.*(?:was sent SIG\w+|exited with code|WORKER TIMEOUT|Traceback|Fatal Python).*$",
        log,
        re.M,
    )
