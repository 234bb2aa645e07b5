"""schemathesis against the app's own OpenAPI schema: every route (the book's and the Open
Inference Protocol's), generated cases, over real HTTP to a real server."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from newsapi.model.artifact import Artifact
from tests.support import Server

EXAMPLES_PER_ROUTE = 30  # per route and generation mode; enough to reach every documented status
TOKEN = "schema-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.server
def test_every_route_conforms_to_the_schema(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    """No 5xx, and every response (status, headers, body) is what the schema documents."""
    server = start_server(
        tiny_model.path,
        NEWSAPI_MAX_TEXT_LENGTH="2000",
        NEWSAPI_MAX_BATCH_SIZE="50",
        NEWSAPI_ADMIN_TOKEN=TOKEN,  # schemathesis also checks that bad credentials are refused
    )
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    # every operation of the schema is valid: the book's and the 9 of V2
    assert len(operations) == len(results) >= 17
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        if mode is schemathesis.GenerationMode.NEGATIVE and not (
            len(operation.body) or len(operation.query)
        ):
            continue  # nothing to get wrong in a request that takes no input

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def conforms(case: Any) -> None:
            case.call_and_validate(base_url=server.url, headers=AUTH)

        conforms()
    assert "Traceback" not in server.log()
