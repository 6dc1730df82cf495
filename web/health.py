"""Health check for load balancers and monitoring: ``GET /healthz``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from .services import service

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the current version when the database answers, 503 otherwise."""
    try:
        version, _ = service().current()
    except (sa.exc.SQLAlchemyError, LookupError) as exc:
        return jsonify(status="error", error=str(exc).splitlines()[0]), 503
    return jsonify(status="ok", district=version.district_code, version=version.number)
