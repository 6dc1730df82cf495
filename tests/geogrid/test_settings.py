"""Settings are read in one place: ``geogrid.settings`` is the only module of ``geogrid/`` and
``web/`` that reads the environment, and it knows every variable the README and config name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geogrid import settings

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for package in ("geogrid", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "geogrid" / "settings.py":
                continue
            source = path.read_text(encoding="utf-8")
            if re.search(r"os\.environ|os\.getenv|getenv\(", source):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_every_variable_the_readme_names_is_known():
    named = set(re.findall(r"GEOGRID_[A-Z0-9_]+", (ROOT / "README.md").read_text("utf-8")))
    tests_only = {n for n in named if n.startswith(("GEOGRID_TEST_", "GEOGRID_CHROMIUM"))}
    assert named - tests_only <= set(settings.CORE) | set(settings.WEB)


def test_blank_is_unset_and_unknown_names_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOGRID_DATA", "  ")
    assert settings.get("GEOGRID_DATA") is None and settings.data_dir() is None
    monkeypatch.setenv("GEOGRID_INSTANCE", str(tmp_path))
    assert settings.database_url() == f"sqlite:///{tmp_path / 'geogrid.sqlite3'}"
    with pytest.raises(KeyError, match="not a geogrid setting"):
        settings.get("GEOGRID_NO_SUCH_THING")
