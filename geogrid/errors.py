"""Every error geogrid raises on purpose.

The web layer maps them to HTTP statuses and the CLI to exit codes, so that bad input always gets a
clear message and never a traceback:

==================  ===========  =========
class               HTTP status  CLI exit
==================  ===========  =========
InputError          400          2
CRSError            400          2
CoordinateError     400          2
DataError           400          2
NotFound            404          2
Forbidden           403          2
Conflict            409          2
ValidationFailed    422          1
==================  ===========  =========

Exit code 1 means one thing only: the data failed validation. Every other refusal (bad input,
something missing, a role that may not, a stale base) is 2, like a usage error.

>>> issubclass(CoordinateError, InputError)
True
>>> CoordinateError("lat must be a number").http_status
400
"""

from __future__ import annotations


class GeogridError(Exception):
    """Base class of geogrid's own errors."""

    http_status = 500
    exit_code = 1

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(GeogridError, ValueError):
    """Input from a user or another system is wrong; the message says what and where."""

    http_status = 400
    exit_code = 2


class CRSError(InputError):
    """An unknown or unsupported coordinate reference system."""


class CoordinateError(InputError):
    """A coordinate that is not a finite number or lies outside its valid range."""


class DataError(InputError):
    """A data file that cannot be read, or whose content is malformed."""


class NotFound(GeogridError, LookupError):
    """A grid, unit or version that does not exist."""

    http_status = 404
    exit_code = 2


class Forbidden(GeogridError, PermissionError):
    """The caller's role or grid scope does not allow this operation; the message says which."""

    http_status = 403
    exit_code = 2


class ValidationFailed(GeogridError):
    """Boundary data failed validation; ``report`` holds the errors and notices."""

    http_status = 422
    exit_code = 1

    def __init__(self, report):
        self.report = report
        super().__init__(f"validation failed with {len(report.errors)} error(s)")


class Conflict(GeogridError):
    """A change based on a stale state, such as publishing from an outdated base version."""

    http_status = 409
    exit_code = 2
