"""`/api/docs`: Swagger UI served entirely from this server (the assets of the pinned flask-swagger-ui package).

No CDN: air-gapped installs have no network. The page is wired to `/api/openapi.json`; a login from the page
authorizes the following calls (see docs_assets/swagger-init.js).
"""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, render_template_string, send_from_directory, url_for

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = Path(__file__).resolve().parent / "docs_assets"

bp = Blueprint("swagger_ui", __name__, url_prefix="/api/docs")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cron Job Scheduler API</title>
  <link rel="stylesheet" href="{{ url_for('swagger_ui.asset', filename='swagger-ui.css') }}">
  <link rel="icon" type="image/png" href="{{ url_for('swagger_ui.asset', filename='favicon-32x32.png') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ spec_url }}"></div>
  <script src="{{ url_for('swagger_ui.asset', filename='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('swagger_ui.init_script') }}"></script>
</body>
</html>
"""


@bp.route("", strict_slashes=False)
def page() -> str:
    """The interactive documentation page."""
    return render_template_string(PAGE, spec_url=url_for("api-docs.openapi_json"))


@bp.route("/swagger-init.js")
def init_script() -> Response:
    return send_from_directory(ASSETS, "swagger-init.js", mimetype="text/javascript", max_age=300)


@bp.route("/<path:filename>")
def asset(filename: str) -> Response:
    """Swagger UI's own files (JS, CSS, icons)."""
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)


def init_api_docs(app: Flask) -> None:
    app.register_blueprint(bp)
