"""The database commands of the ``geogrid`` command line, on SQLite and PostGIS."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from geogrid.cli import main
from geogrid.db import Store


def run(*args, ok=True, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def db(db_url):
    run("init-db", "--db", db_url)
    return db_url


def test_init_db_seeds_once(db):
    again = run("init-db", "--db", db)
    assert "already holds district 320113005" in again.output
    versions = json.loads(run("versions", "--db", db, "--json").output)
    assert [(v["number"], v["status"], v["current"]) for v in versions] == [(1, "published", True)]


def test_import_draft_then_publish_and_stale_conflict(db, tmp_path):
    grids = "boundaries/grids_level2.geojson"
    dry = run("import", grids, "--db", db)
    assert "Dry run" in dry.output
    assert len(json.loads(run("versions", "--db", db, "--json").output)) == 1
    run(
        "import",
        grids,
        "--units",
        "boundaries/units.geojson",
        "--db",
        db,
        "--commit",
        "--note",
        "二版",
    )
    run("import", grids, "--db", db, "--commit", "--note", "三版")
    versions = {v["number"]: v for v in json.loads(run("versions", "--db", db, "--json").output)}
    assert versions[2]["status"] == versions[3]["status"] == "draft"
    assert versions[2]["note"] == "二版"
    assert "Version 2 is now current" in run("publish", 2, "--db", db).output
    stale = run("publish", 3, "--db", db, ok=False)
    assert stale.exit_code == 2  # a conflict is a refusal, not a validation failure
    assert "version 2 was published after draft 3 was made from version 1" in stale.output
    assert "Version 3 is now current" in run("publish", 3, "--force", "--db", db).output


def test_invalid_import_stores_nothing(db, tmp_path):
    fc = json.loads(Path("boundaries/grids_level2.geojson").read_text(encoding="utf-8"))
    fc["features"] = fc["features"][1:]  # a grid missing: a gap inside the outline
    broken = tmp_path / "broken.geojson"
    broken.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    result = run(
        "import",
        broken,
        "--outline",
        "boundaries/district.geojson",
        "--db",
        db,
        "--commit",
        ok=False,
    )
    assert result.exit_code == 1 and "gap" in result.output
    assert len(json.loads(run("versions", "--db", db, "--json").output)) == 1


def test_roster_assign_and_locate_as_of(db):
    before = run("locate", "118.93", "32.11", "--db", db, "--json")
    old_worker = json.loads(before.output)["grid2"]["worker"]
    code = json.loads(before.output)["grid2"]["code"]
    # --at takes whole seconds: the next whole second is after the publish, before the change
    second = math.ceil(time.time())
    time.sleep(second - time.time() + 0.01)
    mid = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(second))
    time.sleep(1.1)
    run("assign", code, "worker", "李四", "--phone", "13900000000", "--db", db)
    history = run("roster", code, "--db", db).output
    assert old_worker in history and "李四" in history and "now" in history
    now = json.loads(run("locate", "118.93", "32.11", "--db", db, "--json").output)
    assert now["grid2"]["worker"] == "李四"
    then = json.loads(run("locate", "118.93", "32.11", "--db", db, "--at", mid, "--json").output)
    assert then["grid2"]["worker"] == old_worker
    wrong = run("assign", code, "leader", "王五", "--db", db, ok=False)
    assert wrong.exit_code == 2 and "level-1 grid" in wrong.output
    bad_time = run("locate", "118.93", "32.11", "--db", db, "--at", "yesterday", ok=False)
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output


def test_create_user(db):
    run(
        "create-user",
        "zhang",
        "--role",
        "dispatcher",
        "--name",
        "张调度",
        "--password",
        "s3cret-pass",
        "--db",
        db,
    )
    store = Store(db)
    assert store.authenticate("zhang", "s3cret-pass").display_name == "张调度"
    store.dispose()
    dup = run(
        "create-user",
        "zhang",
        "--role",
        "admin",
        "--password",
        "another-pass",
        "--db",
        db,
        ok=False,
    )
    assert dup.exit_code == 2 and "taken" in dup.output
    weak = run("create-user", "li", "--role", "admin", "--password", "short", "--db", db, ok=False)
    assert weak.exit_code == 2 and "8 characters" in weak.output
    prompted = run(
        "create-user", "wang", "--role", "worker", "--db", db, input="long-enough\nlong-enough\n"
    )
    assert "Created worker wang" in prompted.output


def test_dump_restore_between_databases(db, tmp_path):
    run("assign", "320113005001001", "worker", "赵六", "--db", db)
    dump = tmp_path / "all.gpkg"
    run("dump", dump, "--db", db)
    target = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    restored = run("restore", dump, "--db", target)
    assert "versions 1" in restored.output
    a = json.loads(run("locate", "118.91", "32.10", "--db", db, "--json").output)
    b = json.loads(run("locate", "118.91", "32.10", "--db", target, "--json").output)
    assert a == b
    again = run("restore", dump, "--db", target, ok=False)
    assert again.exit_code == 2 and "not empty" in again.output


def test_changes_go_through_the_use_cases(db, monkeypatch):
    """publish, assign, create-user and import ask the use cases, which check the actor's role:
    with the command line's actor made a grid worker, each is refused with exit status 2."""
    from geogrid.access import Actor
    from geogrid.cli import db as cli_db

    monkeypatch.setattr(cli_db, "cli_user", lambda: Actor("cli:test", "worker", frozenset()))
    grids = "boundaries/grids_level2.geojson"
    for args, what in [
        (("publish", 1), "may not publish a boundary version"),
        (("assign", "320113005007007", "worker", "张三"), "may not change the duty roster"),
        (("create-user", "li", "--role", "dispatcher", "--password", "x" * 12), "manage user"),
        (("import", grids, "--commit"), "may not import a boundary version"),
        (("init-db",), "may not import a boundary version"),
    ]:
        result = run(*args, "--db", db, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert what in result.output, (args, result.output)
    versions = json.loads(run("versions", "--db", db, "--json").output)
    assert len(versions) == 1
