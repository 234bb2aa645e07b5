"""The access log of a real server: off by default; ``newsapi serve --access-log`` (or
``NEWSAPI_ACCESS_LOG=true`` for any launcher) writes one line per request with its status,
method, path, time and the model version that answered."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import Server, wait_for

pytestmark = pytest.mark.server
LINE = re.compile(
    r"^INFO:     newsapi\.access: (\d{3}) ([A-Z]+) (\S+) (\d+\.\d) ms model (\S+)$", re.M
)


def traffic(url: str) -> None:
    """One request of each kind: answered by the lane, by a route, refused, unknown."""
    assert httpx.post(f"{url}/prediction", json={"text": "rocket orbit"}).status_code == 200
    texts = {"texts": ["pasta sauce", "football goal"]}
    assert httpx.post(f"{url}/predictions", json=texts).status_code == 200
    assert httpx.post(f"{url}/prediction", json={"txt": "x"}).status_code == 422
    assert httpx.get(f"{url}/no%0Asuch?token=secret").status_code == 404
    assert httpx.get(f"{url}/model").status_code == 200


def logged(server: Server, count: int | None = None) -> list[tuple[str, ...]]:
    """(status, method, path, milliseconds, model) of each access line, probes left out;
    with ``count``, once that many are there (a line is written after its answer is sent)."""

    def lines() -> list[tuple[str, ...]]:
        found = LINE.findall(server.log())
        return [line for line in found if line[2] not in ("/readyz", "/healthz")]

    if count is not None:
        wait_for(lambda: len(lines()) >= count, what=f"{count} access lines")
    return lines()


def test_the_access_log_is_one_line_per_request_with_status_path_time_and_model(
    serve: Callable[..., Server], tiny_model: Artifact
) -> None:
    server = serve("--access-log")
    traffic(server.url)
    version = tiny_model.model_version
    lines = logged(server, 5)
    assert [(status, method, path, model) for status, method, path, _, model in lines] == [
        ("200", "POST", "/prediction", version),
        ("200", "POST", "/predictions", version),
        ("422", "POST", "/prediction", "-"),
        # as the client sent it: no line break reaches the log, no query string
        ("404", "GET", "/no%0Asuch", "-"),
        ("200", "GET", "/model", "-"),
    ]
    assert all(float(took) > 0 for _, _, _, took, _ in lines)
    assert "secret" not in server.log()
    # a long path is cut: the line stays bounded
    assert httpx.get(f"{server.url}/{'a' * 5000}").status_code == 404
    wait_for(lambda: f"GET /{'a' * 199}... " in server.log(), what="a cut path")
    # every line of the log is one of uvicorn's, the project's or an access line
    access_lines = [line for line in server.log().splitlines() if "newsapi.access" in line]
    assert len(access_lines) == len(LINE.findall(server.log()))


def test_no_access_log_by_default_and_the_variable_turns_it_on(
    serve: Callable[..., Server],
) -> None:
    quiet = serve()
    traffic(quiet.url)
    assert "newsapi.access" not in quiet.log()
    loud = serve(NEWSAPI_ACCESS_LOG="true")
    traffic(loud.url)
    assert len(logged(loud, 5)) == 5
    # the option wins over the variable
    off = serve("--no-access-log", NEWSAPI_ACCESS_LOG="true")
    traffic(off.url)
    assert "newsapi.access" not in off.log()
