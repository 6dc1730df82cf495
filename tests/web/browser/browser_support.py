"""Shared pieces of the browser tests (imported by ``conftest.py`` and the tests): the accounts,
the HTML-named unit and grid, the district the live app serves, and logging in."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import pandas as pd

from geogrid.model import District, default_data_dir

#: Debian's Chromium (another path with GEOGRID_CHROMIUM); playwright never downloads a browser.
CHROMIUM = os.environ.get("GEOGRID_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]

USERNAME, PASSWORD = "diaodu", "map-tests-secret-pw"
XSS_UNIT = "<img src=x onerror=alert(1)>"
XSS_UNIT_CODE = "3201130050070070999"
XSS_GRID = "<img src=x onerror=alert(2)>网格"
XSS_GRID_CODE = "320113005003001"


def browser_district() -> District:
    """The sample with an HTML-named unit (next to 320113005007007's first unit) and grid."""
    d = copy.copy(District.load(default_data_dir()))
    units = d.units
    extra = units[units["grid"] == "320113005007007"].iloc[[0]].copy()
    extra["code"] = XSS_UNIT_CODE
    extra["name"] = XSS_UNIT
    extra["address"] = "南京市栖霞区<b>测试</b>路1号"
    extra["geometry"] = extra.geometry.translate(0.0002, 0.0001)
    d.units = pd.concat([units, extra], ignore_index=True)
    d.grids2 = d.grids2.copy()
    d.grids2.loc[d.grids2["code"] == XSS_GRID_CODE, "name"] = XSS_GRID
    return d


@dataclass
class Live:
    """The app being served: its base URL, site (app, store, service) and district."""

    url: str
    site: object
    district: District


def log_in_as(page, live: Live, username: str, password: str):
    """Log in through the form as ``username`` (landing on the map, not waiting for it)."""
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}/")


def login(page, live: Live, *, lang: str | None = None):
    """Log in through the form and wait until the map is usable and the units are loaded."""
    if lang:
        page.goto(f"{live.url}/lang/{lang}?next=/login")
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    page.wait_for_function("() => document.documentElement.dataset.geogridReady === '1'")
    page.evaluate("window.geogridReady.then(() => window.geogridUnitsReady)")
    return page
