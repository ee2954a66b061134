"""The OpenAPI document declares what load shedding answers (``api.shedding``): 429 on every
operation the shedding covers and 503 on every operation, each a Problem with ``Retry-After``,
so a client generated from the document knows to wait and retry instead of treating them as
failures. Liveness, readiness and metrics are never shed, so they declare no 429."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import PROBLEM_JSON
from api.main import create_app
from api.shedding import EXEMPT_PATHS
from settings import Settings


def test_shed_answers_are_declared_with_retry_after(settings: Settings) -> None:
    app: FastAPI = create_app(settings)
    document = app.openapi()
    shed, exempt = 0, 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            codes = ("503",) if path in EXEMPT_PATHS else ("429", "503")
            if path in EXEMPT_PATHS:
                assert "429" not in responses, where
                exempt += 1
            else:
                shed += 1
            for code in codes:
                if (path, code) == ("/ready", "503"):
                    continue  # a body of its own naming each failing dependency, never shed
                response = responses[code]
                assert "Retry-After" in response["headers"], f"{where} {code}"
                schema = response["content"][PROBLEM_JSON]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, f"{where} {code}"
    assert shed > 40 and exempt >= 2
