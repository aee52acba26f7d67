"""/api/docs: Swagger UI served from this server only (air-gapped installs), wired to /api/openapi.json."""
from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_the_docs_page_loads_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-spec-url="/api/openapi.json"' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script>" not in page  # no inline script: the CSP forbids it
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert client.get(asset).status_code == 200, asset


def test_the_init_script_points_at_the_bearer_scheme_and_no_validator(client: FlaskClient) -> None:
    script = client.get("/api/docs/swagger-init.js").get_data(as_text=True)
    assert "bearerAuth" in script and "validatorUrl: null" in script


def test_a_missing_asset_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/docs/nope.js")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not found"


def test_docs_routes_are_not_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert not any(path.startswith("/api/docs") for path in paths)
    assert "/metrics" not in paths
