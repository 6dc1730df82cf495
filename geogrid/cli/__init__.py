"""The ``geogrid`` command line: sample data, district info, validation, import, export, locate.

Commands that read a district take ``--data DIR``; without it they use ``$GEOGRID_DATA``, else the
bundled sample (:func:`data_dir` is the one place that decides). Exit codes, for every command:

==  ===========================================================================================
0   success
1   the data failed validation (``validate``, ``import``), or a bulk ``locate`` left rows
    without a grid
2   unusable input: a usage error, an unreadable file, a bad coordinate, an unknown CRS
==  ===========================================================================================

A :class:`~geogrid.errors.GeogridError` raised anywhere below a command becomes
``error: <message>`` on stderr and the error's ``exit_code`` (:class:`GeogridGroup`), never a
traceback. A new command is a function decorated with ``@main.command()`` in the module of its
group (:mod:`.district`: sample, info, validate, import, export; :mod:`.locating`: locate;
:mod:`.db`: the database commands; :mod:`.incidents`: incident, sample-incidents; :mod:`.warnings`: incident warnings, acknowledge; :mod:`.planning`:
draft, rollback; :mod:`.figures`: figures); it reads the district with :func:`load_district` (or
:func:`get_locator`) and lets geogrid's errors propagate. Commands of other packages (the web
service's ``serve``) come from the ``geogrid.commands`` entry points, loaded when the group
first lists or looks up its commands, so the core never imports Flask.

Field mappings are parsed from ``NAME=SOURCEFIELD`` options; an empty source field ignores the
attribute:

>>> parse_mapping(["code=网格编码", " name = 网格名称 ", "kind="])
{'code': '网格编码', 'name': '网格名称', 'kind': None}
>>> parse_mapping(["code"])
Traceback (most recent call last):
...
ValueError: 'code' is not NAME=SOURCEFIELD (for example code=网格编码)
"""

from __future__ import annotations

from .base import (
    DATA_ENV,
    GeogridGroup,
    data_dir,
    data_option,
    get_locator,
    load_district,
    main,
    parse_mapping,
    write_district_dir,
)
from .db import COMMANDS, actor, db_option, import_to_db, open_store, shown_url
from .district import export_cmd, import_cmd, info, sample_cmd, validate_cmd
from .figures import figures_cmd
from .incidents import incident_group
from .locating import locate_cmd
from .planning import draft_group, rollback_cmd
from .warnings import acknowledge_cmd, warnings_cmd

for _command in COMMANDS:
    main.add_command(_command)

__all__ = [
    "COMMANDS",
    "DATA_ENV",
    "GeogridGroup",
    "acknowledge_cmd",
    "actor",
    "data_dir",
    "data_option",
    "db_option",
    "draft_group",
    "export_cmd",
    "figures_cmd",
    "get_locator",
    "import_cmd",
    "import_to_db",
    "incident_group",
    "info",
    "load_district",
    "locate_cmd",
    "main",
    "open_store",
    "parse_mapping",
    "rollback_cmd",
    "sample_cmd",
    "shown_url",
    "validate_cmd",
    "warnings_cmd",
    "write_district_dir",
]
