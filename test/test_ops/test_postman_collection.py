"""Postman_Collection.json is the generator's output and has a request with tests for every OpenAPI operation."""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType

from flask.testing import FlaskClient

from src.config import PROJECT_ROOT

METHODS = {"get", "post", "put", "patch", "delete"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("postman_collection", PROJECT_ROOT / "test/e2e/postman_collection.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _requests(collection: dict) -> list[dict]:
    found = []
    for item in collection["item"]:
        found.extend(_requests(item) if "item" in item else [item])
    return found


def _shape(path: str) -> str:
    """/api/jobs/{{jobId}} and /api/jobs/{job_id} (and a literal UUID) both become /api/jobs/{}."""
    path = path.split("?", 1)[0].replace("{{baseUrl}}", "")
    path = re.sub(r"\{\{?[^}]+\}\}?", "{}", path)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{}", path)


def test_the_committed_collection_is_the_generators_output() -> None:
    committed = (PROJECT_ROOT / "Postman_Collection.json").read_text()
    assert committed == _generator().render(), "run .venv/bin/python test/e2e/postman_collection.py"


def test_the_collection_is_postman_v2_1_with_bearer_auth_and_variables() -> None:
    collection = json.loads((PROJECT_ROOT / "Postman_Collection.json").read_text())
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert collection["auth"]["bearer"][0]["value"] == "{{accessToken}}"
    names = {variable["key"] for variable in collection["variable"]}
    assert {"baseUrl", "accessToken", "refreshToken", "jobId", "executionId"} <= names


def test_every_openapi_operation_has_a_request_with_a_status_test(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    collection = json.loads((PROJECT_ROOT / "Postman_Collection.json").read_text())
    covered = set()
    for item in _requests(collection):
        script = "\n".join(item["event"][0]["script"]["exec"])
        assert "pm.response.to.have.status(" in script, item["name"]
        covered.add((item["request"]["method"].lower(), _shape(item["request"]["url"]["raw"])))
    missing = sorted(f"{method.upper()} {path}" for path, operations in spec["paths"].items()
                     for method in operations if method in METHODS and (method, _shape(path)) not in covered)
    assert not missing, f"not in Postman_Collection.json: {missing}"
