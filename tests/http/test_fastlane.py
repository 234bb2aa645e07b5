"""Which path answered, and the rules both paths share, over real HTTP to a real uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.settings import MODEL_FILENAME
from tests.support import Server, explode_on_marker, metric, train_behind

pytestmark = pytest.mark.server
SPACE = "the rocket will launch a satellite into orbit"


def handled(server: Server, route: str, status: str = "200") -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    return {
        handler: metric(text, "newsapi_http_requests_total", route=route, status=status,
                        handler=handler)
        for handler in ("lane", "app")
    }  # fmt: skip


def test_the_metrics_name_the_path_that_answered(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    server = start_server(tiny_model.path)
    plain = httpx.post(f"{server.url}/prediction", json={"text": SPACE})
    assert handled(server, "/prediction") == {"lane": 1, "app": 0}
    # a query string goes to FastAPI's route, which answers the same bytes and headers
    flagged = httpx.post(f"{server.url}/prediction?scores=false", json={"text": SPACE})
    assert handled(server, "/prediction") == {"lane": 1, "app": 1}
    assert flagged.content == plain.content == b'{"category":"space"}'
    assert flagged.headers["x-model-version"] == plain.headers["x-model-version"]
    assert flagged.headers["x-cache"] == "hit"
    # and the errors are the same on both paths
    for path in ("/prediction", "/prediction?scores=false"):
        bad = httpx.post(f"{server.url}{path}", json={"text": ""})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["type"] == "string_too_short"
    assert handled(server, "/prediction", "422") == {"lane": 1, "app": 1}


def test_an_unexpected_error_is_one_log_line_and_a_bare_500(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    model = train_behind(tmp_path / "boom" / MODEL_FILENAME, explode_on_marker)
    server = start_server(model.path)
    before = len(server.log().splitlines())
    paths = ["/prediction", "/prediction?scores=true", "/v2/models/newsgroups/infer"]
    bodies = [{"text": "explode"}, {"text": "explode"},
              {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1],
                           "data": ["explode"]}]}]  # fmt: skip
    for path, body in zip(paths, bodies, strict=True):
        answer = httpx.post(f"{server.url}{path}", json=body)
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/json"
        assert answer.text in ('{"detail":"internal error"}', '{"error":"internal error"}')
    assert handled(server, "/prediction", "500") == {"lane": 1, "app": 1}
    # the server still answers, and logged one line per failed request, no traceback
    assert httpx.post(f"{server.url}/prediction", json={"text": SPACE}).status_code == 200
    new = server.log().splitlines()[before:]
    assert len([line for line in new if "unhandled RuntimeError" in line]) == 3
    assert len(new) == 3, new
    assert "Traceback" not in server.log()
