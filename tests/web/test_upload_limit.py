"""Uploads over ``MAX_CONTENT_LENGTH`` are refused (413) whether or not they say their length.

A chunked upload (``Transfer-Encoding: chunked``, no ``Content-Length``) used to be cut at the
limit without a word under gunicorn: werkzeug's limited stream stops there when the server marks
the input as terminated, and the bulk locate answered 200 with part of the rows. Checked on the
test client (with the environ gunicorn makes) and on a real ``geogrid serve``.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import re
from pathlib import Path

import pytest
from serve_support import Server

LIMIT = 256 * 1024  # bytes: a small MAX_CONTENT_LENGTH, for speed


def csv_body(rows: int) -> bytes:
    lines = ["id,lon,lat"] + [f"{i},118.93,32.11" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


WITHIN = csv_body(8_000)  # about 130 KB
OVER = csv_body(20_000)  # about 340 KB
assert len(WITHIN) < LIMIT < len(OVER)


def answered_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def small_site(make_site):
    return make_site(MAX_CONTENT_LENGTH=LIMIT)


def chunked_post(site, body: bytes):
    """POST ``body`` as a stream without a length, as gunicorn hands a chunked upload to the
    app (``wsgi.input_terminated`` set, no ``CONTENT_LENGTH``)."""
    return site.client().post(
        "/api/v1/locate",
        input_stream=io.BytesIO(body),
        headers={**site.headers("dispatcher"), "Content-Type": "text/csv"},
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )


def test_chunked_upload_over_the_limit_is_413(small_site):
    resp = chunked_post(small_site, OVER)
    assert resp.status_code == 413, resp.get_data(as_text=True)[:200]
    assert resp.get_json()["error"]["status"] == 413
    assert "too large" in resp.get_json()["error"]["message"]


def test_chunked_upload_within_the_limit_answers_every_row(small_site):
    resp = chunked_post(small_site, WITHIN)
    assert resp.status_code == 200
    rows = answered_rows(resp.get_data(as_text=True))
    assert len(rows) == 8_000 and rows[-1]["id"] == "7999"
    assert {r["grid2_code"] for r in rows} == {"320113005007007"}


def test_chunked_upload_of_exactly_the_limit_is_taken(small_site):
    body = WITHIN + b"#" * (LIMIT - len(WITHIN) - 1) + b"\n"
    assert len(body) == LIMIT
    resp = chunked_post(small_site, body)
    assert resp.status_code != 413


def test_upload_with_a_length_over_the_limit_is_413(small_site):
    resp = small_site.client().post(
        "/api/v1/locate", data=OVER, headers=small_site.headers("dispatcher"),
        content_type="text/csv",
    )  # fmt: skip
    assert resp.status_code == 413 and resp.get_json()["error"]["status"] == 413


# ---------------------------------------------------------------------------- on gunicorn
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upload-limit")
    (tmp / "instance").mkdir()
    (tmp / "instance" / "config.py").write_text(f"MAX_CONTENT_LENGTH = {LIMIT}\n")
    # the server runs this checkout's web package (not another one installed in the venv)
    here = str(Path(__file__).resolve().parents[2])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "PYTHONPATH", os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        )
        s = Server(tmp, "--demo")
    try:
        from geogrid.cli_db import open_store

        store = open_store(f"sqlite:///{tmp / 'instance' / 'geogrid.sqlite3'}", upgrade=False)
        user = next(u for u in store.users() if u.role == "dispatcher")
        s.token = store.create_token(user.id, "upload tests", actor="tests")
        store.dispose()
        yield s
    finally:
        s.stop()


def send_chunked(server, body: bytes, chunk: int = 16 * 1024):
    """POST ``body`` with ``Transfer-Encoding: chunked`` and no ``Content-Length``; the status
    and the answer's text."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("POST", "/api/v1/locate")
        conn.putheader("Authorization", f"Bearer {server.token}")
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for i in range(0, len(body), chunk):
                part = body[i : i + chunk]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything: read what it said
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_gunicorn_chunked_upload_over_the_limit_is_413(server):
    status, text = send_chunked(server, OVER)
    assert status == 413, f"{status}: {len(answered_rows(text))} rows answered"
    assert json.loads(text)["error"]["status"] == 413


def test_gunicorn_chunked_upload_within_the_limit_answers_every_row(server):
    status, text = send_chunked(server, WITHIN)
    assert status == 200
    rows = answered_rows(text)
    assert len(rows) == 8_000 and rows[-1]["id"] == "7999"
    assert not any(re.search(r"\S", r["error"] or "") for r in rows)
