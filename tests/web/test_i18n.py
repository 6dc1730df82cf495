"""Every interface string has its Simplified Chinese translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web/translations/zh/LC_MESSAGES/messages.po"
METHODS = [("*.py", "python"), ("templates/*.html", "jinja2")]


def interface_strings() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = extract_from_dir(ROOT / "web", METHODS, keywords=keywords)
    return {msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in found}


def test_every_string_is_translated_to_chinese():
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    strings = interface_strings()
    assert len(strings) > 100
    missing = sorted(strings - set(translated))
    assert not missing, f"add these to {CATALOG.relative_to(ROOT)} (make translations): {missing}"
    for msgid in strings:
        placeholders = sorted(re.findall(r"%\(\w+\)s", msgid))
        assert sorted(re.findall(r"%\(\w+\)s", translated[msgid])) == placeholders, msgid
        assert re.search(r"[\u4e00-\u9fff]", translated[msgid]) or msgid.isascii(), msgid


def test_no_stale_translations():
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    stale = sorted({m.id for m in catalog if m.id} - interface_strings())
    assert not stale, f"translations of strings no longer used: {stale}"
