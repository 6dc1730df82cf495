"""``geogrid draft`` and ``geogrid rollback``: the planning use cases from the command line, on
both backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geogrid.cli import main

MERGE = json.dumps({"kind": "merge", "codes": ["320113005007007", "320113005007006"]})


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(db_url):
    run("init-db", "--db", db_url)
    return db_url


def test_a_draft_from_the_command_line(db, tmp_path):
    made = json.loads(run("draft", "new", "合并", "--json", "--db", db).output)
    did = made["draft"]["id"]
    assert made["draft"]["revision"] == 0 and made["base"]["number"] == 1
    edit = tmp_path / "merge.json"
    edit.write_text(MERGE, encoding="utf-8")
    out = run("draft", "edit", did, f"@{edit}", "--revision", 0, "--db", db).output
    assert "retired 320113005007006" in out and "155 grids" in out
    stale = run("draft", "edit", did, MERGE, "--revision", 0, "--db", db, code=2).output
    assert "has changed since revision 0" in stale
    assert "needs codes" in run("draft", "edit", did, '{"kind": "merge"}', "--revision", 1,
                                "--db", db, code=2).output  # fmt: skip
    assert "not JSON" in run("draft", "edit", did, "{", "--revision", 1, "--db", db, code=2).output
    assert "(undone)" in run("draft", "undo", did, "--db", db).output
    assert "155 grids" in run("draft", "redo", did, "--db", db).output
    impact = run("draft", "impact", did, "--db", db).output
    assert "13 units and 0 open incidents change grid" in impact
    assert "rev 3" in run("draft", "list", "--db", db).output
    assert "version 2: 13 units" in run("draft", "publish", did, "-m", "合并", "--db", db).output
    assert run("draft", "list", "--db", db).output == ""
    assert "published" in run("draft", "list", "--all", "--db", db).output
    back = run("rollback", 1, "-m", "恢复", "--db", db).output
    assert "version 1 is current again as version 3" in back
    assert "current version already" in run("rollback", 3, "-m", "x", "--db", db, code=2).output
