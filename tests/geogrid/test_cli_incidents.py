"""``geogrid incident``: the same use cases from the command line, on both backends."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from click.testing import CliRunner

from geogrid.cli import main


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(db_url):
    run("init-db", "--db", db_url)
    return db_url


def test_report_act_list_show_and_export(db, tmp_path):
    made = json.loads(run("incident", "report", 118.93, 32.11, "--category", "0601",
                          "--description", "井盖缺失", "--dispatch", "--json", "--db", db).output)  # fmt: skip
    assert made["state"] == "dispatched" and made["grid_code"] == "320113005007007"
    iid = made["id"]
    refused = run("incident", "act", iid, "close", "--db", db, code=2)
    assert "cannot close an incident that is dispatched (allowed now: accept" in refused.output
    run("incident", "act", iid, "accept", "--db", db)
    run("incident", "act", iid, "resolve", "--note", "已补装", "--db", db)
    shown = run(
        "incident", "act", iid, "revisit", "--passed", "--satisfaction", "satisfied", "--db", db
    )
    assert "revisited" in shown.output and "next: close" in shown.output
    listed = run("incident", "list", "--state", "revisited", "--db", db).output
    assert f"#{iid}" in listed and "1 of 1 shown" in listed
    assert "0 of 0 shown" in run("incident", "list", "--state", "closed", "--db", db).output
    log = run("incident", "show", iid, "--db", db).output
    assert [w for w in ("report", "accept", "resolve", "revisit") if w in log] == [
        "report", "accept", "resolve", "revisit"
    ]  # fmt: skip
    out = tmp_path / "incidents.csv"
    run("incident", "list", "--export", out, "--db", db)
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == 2 and "井盖缺失" in rows[1]
    xlsx = tmp_path / "incidents.xlsx"
    run("incident", "list", "--export", xlsx, "--db", db)
    assert openpyxl.load_workbook(xlsx).active.max_row == 2


@pytest.mark.parametrize(
    "args, words",
    [
        (("report", 118.5, 32.0, "--category", "0601"), "outside the district"),
        (("report", 118.93, 32.11, "--category", "9999"), "unknown incident category"),
        (("report", "abc", 32.11, "--category", "0601"), "x"),
        (("show", 12345), "no incident 12345"),
        (("act", "x", "accept"), "no incident 'x'"),
        (("list", "--state", "lost"), "unknown state"),
        (("list", "--export", "out.pdf"), "csv or xlsx"),
    ],
)
def test_bad_input_exits_2_with_a_message(db, args, words):
    result = run("incident", *args, "--db", db, code=2)
    assert "error:" in result.output and words in result.output
