"""Reading a Server-Sent Events stream in tests: from the Flask test client (a thread iterating
the response) or from a real server (a socket), parsed into events."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Event:
    id: int | None
    event: str
    data: dict | str

    @property
    def incident_id(self):
        return self.data["incident_id"]


def parse(block: str) -> Event | None:
    """One event of the stream (None for a comment or a ``retry:`` only)."""
    eid, kind, data = None, "message", []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            eid = int(value)
        elif name == "event":
            kind = value
        elif name == "data":
            data.append(value)
    if not data:
        return None
    text = "\n".join(data)
    try:
        return Event(eid, kind, json.loads(text))
    except ValueError:
        return Event(eid, kind, text)


class _Parser:
    def __init__(self):
        self.buf = ""
        self.events: queue.Queue = queue.Queue()
        self.comments = 0

    def feed(self, data: bytes) -> None:
        self.buf += data.decode()
        while "\n\n" in self.buf:
            block, self.buf = self.buf.split("\n\n", 1)
            ev = parse(block)
            if ev is None:
                self.comments += block.startswith(":")
            else:
                self.events.put(ev)

    def next(self, timeout: float = 20.0) -> Event:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def until(self, check, timeout: float = 20.0) -> list[Event]:
        """Events read until one satisfies ``check`` (included), within ``timeout``."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            ev = self.next(max(deadline - time.monotonic(), 0.01))
            got.append(ev)
            if check(ev):
                return got

    def nothing_more(self, wait: float = 0.6) -> bool:
        """Whether no event comes within ``wait`` seconds."""
        try:
            ev = self.events.get(timeout=wait)
        except queue.Empty:
            return True
        self.events.put(ev)
        return False


class ClientStream(_Parser):
    """A stream read from the Flask test client's response in a thread of its own (the view's
    generator yields keep-alives often when ``live.HEARTBEAT`` is made short)."""

    def __init__(self, client, path="/api/v1/events", headers=None):
        super().__init__()
        self.resp = client.get(path, headers=headers or {}, buffered=False)
        self.status = self.resp.status_code
        self._stop = threading.Event()
        if self.status == 200:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _read(self):
        for chunk in self.resp.response:
            self.feed(chunk)
            if self._stop.is_set():
                break
        self.resp.close()

    def close(self):
        if self.status == 200:
            self._stop.set()
            self._thread.join(10)


class SocketStream(_Parser):
    """A stream read from a real server over a socket (HTTP/1.1, the body until the server
    closes; chunked framing undone if the server chose it)."""

    def __init__(self, port, headers: dict, path="/api/v1/events", host="127.0.0.1"):
        super().__init__()
        self.sock = socket.create_connection((host, port), timeout=30)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            more = self.sock.recv(4096)
            if not more:
                raise AssertionError(f"the server closed the stream: {head!r}")
            head += more
        head, rest = head.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {
            k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)
        }
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.closed = threading.Event()
        self._raw = b""
        self._take(rest)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _take(self, data: bytes) -> None:
        if not self.chunked:
            self.feed(data)
            return
        self._raw += data
        while b"\r\n" in self._raw:
            size_line, after = self._raw.split(b"\r\n", 1)
            size = int(size_line, 16)
            if len(after) < size + 2:
                return
            self.feed(after[:size])
            self._raw = after[size + 2 :]

    def _read(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self._take(data)
        except OSError:
            pass
        self.closed.set()

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()
