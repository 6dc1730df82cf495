"""The API's documentation: the OpenAPI document and the Swagger UI page."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..openapi import spec_for
from ..responses import json_response
from . import bp


@bp.get("/openapi.json")
def openapi_json():
    """This API's OpenAPI 3 document, generated from the code.
    ---
    get:
      tags: [documentation]
      summary: The OpenAPI document
      security: []
      responses:
        200:
          description: OpenAPI 3.1 document
          content:
            application/json:
              schema: {type: object}
    """
    doc = spec_for(current_app._get_current_object())
    doc = {**doc, "servers": [{"url": request.script_root or "/"}]}
    resp = json_response(doc)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/docs")
def docs():
    """The API documentation page (Swagger UI), for logged-in users.
    ---
    get:
      tags: [documentation]
      summary: Interactive documentation (HTML)
      security: [{sessionCookie: []}]
      responses:
        200:
          description: The page
          content:
            text/html:
              schema: {type: string}
        302:
          description: Not logged in; redirect to the login page
    """
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    return render_template("api_docs.html", spec_url=url_for("api.openapi_json"))
