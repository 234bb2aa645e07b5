"""newsapi.client against a real server (uvicorn, real HTTP), and the edge cases of retrying
through httpx's own transports: the app in the same process, and a scripted server."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from newsapi.client import ApiError, AsyncClient, Client
from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact
from newsapi.settings import Settings
from tests.support import ROOT, Server, free_port, launch, metric, wait_ready

TOKEN = "client-token-0123"
TEXTS = [f"{words} {n}" for n in range(9) for words in (
    "the rocket will launch a satellite into orbit",
    "bake the pasta with garlic butter",
    "the striker scored a goal in the match",
)]  # fmt: skip
BATCH = 10
BODY_LIMIT = 2000


@pytest.fixture(scope="module")
def server(tiny_model: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, with small limits so that batches must be split."""
    folder = tmp_path_factory.mktemp("client")
    env = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(folder / "cache"),
        "NEWSAPI_MAX_BATCH_SIZE": str(BATCH),
        "NEWSAPI_MAX_BODY_BYTES": str(BODY_LIMIT),
        "NEWSAPI_ADMIN_TOKEN": TOKEN,
    }
    running = launch(folder, env, extra_path=str(ROOT))
    wait_ready(running)
    yield running
    running.stop()


def requests(server: Server, route: str, status: str) -> float:
    return metric(httpx.get(f"{server.url}/metrics").text, "newsapi_http_requests_total",
                  route=route, status=status)  # fmt: skip


def test_the_client_answers_what_the_routes_answer(server: Server, tiny_model: Artifact) -> None:
    with Client(server.url, token=TOKEN) as client:
        assert client.ready()
        one = client.predict(TEXTS[0])
        raw = httpx.post(f"{server.url}/prediction", json={"text": TEXTS[0]})
        assert one.category == raw.json()["category"]
        assert one.model_version == tiny_model.model_version
        scored = client.scores(TEXTS[1])
        assert scored.category == client.predict(TEXTS[1]).category
        assert sum(scored.scores.values()) == pytest.approx(1, abs=1e-5)
        explained = client.explain("the rocket, the ROCKET", top=2)
        assert explained.category == client.predict("the rocket, the ROCKET").category
        assert len(explained.terms) <= 2
        total = explained.bias + sum(t.weight for t in explained.terms) + explained.rest
        assert abs(total - explained.difference) <= 1e-9
        rocket = next(t for t in explained.terms if t.term == "rocket")
        assert rocket.spans == [(4, 10), (16, 22)]
        info = client.model()
        assert info.model_version == tiny_model.model_version
        assert info.categories == tiny_model.target_names
        reloaded = client.reload()
        assert reloaded.model_version == tiny_model.model_version
        assert not reloaded.changed


def test_predict_many_splits_by_the_servers_batch_limit_and_keeps_the_order(
    server: Server,
) -> None:
    before = requests(server, "/predictions", "200")
    with Client(server.url) as client:
        many = client.predict_many(TEXTS)
        assert [p.category for p in many] == [client.predict(t).category for t in TEXTS]
        scored = client.scores(TEXTS)
        assert [s.category for s in scored] == [p.category for p in many]
    # 27 texts in calls of at most 10 (the limit read from the schema), twice
    assert requests(server, "/predictions", "200") - before == 2 * 3


def test_a_call_refused_as_too_large_is_split_in_two(server: Server) -> None:
    """Each text is small, but ten of them pass the body limit (413): halves go instead."""
    texts = [f"{'garlic butter oven ' * 12}{n}" for n in range(BATCH)]  # 2,300 bytes
    before = requests(server, "/predictions", "413")
    with Client(server.url) as client:
        split = client.predict_many(texts)
        assert [p.category for p in split] == [client.predict(t).category for t in texts]
    assert requests(server, "/predictions", "413") - before >= 1


def test_an_error_carries_the_status_and_the_message_and_a_4xx_is_sent_once(
    server: Server,
) -> None:
    before = requests(server, "/prediction", "422")
    with Client(server.url, retries=5) as client:
        with pytest.raises(ApiError) as empty:
            client.predict("")
        assert empty.value.status == 422
        assert empty.value.message == "body.text: String should have at least 1 character"
        with pytest.raises(ApiError) as too_long:
            client.explain("moon", top=1000)
        assert too_long.value.status == 422
        assert "top" in too_long.value.message
    assert requests(server, "/prediction", "422") - before == 1
    with Client(server.url, token="wrong") as intruder, pytest.raises(ApiError) as refused:
        intruder.reload()
    assert refused.value.status == 403
    assert refused.value.message == "the bearer token is not valid"


def test_the_async_client_gives_the_same_answers(server: Server) -> None:
    async def ask() -> tuple[list[str], list[str], float]:
        async with AsyncClient(server.url) as client:
            assert await client.ready()
            singles = await asyncio.gather(*(client.predict(text) for text in TEXTS))
            many = await client.predict_many(TEXTS)
            explained = await client.explain(TEXTS[0])
            total = explained.bias + sum(t.weight for t in explained.terms) + explained.rest
            return (
                [p.category for p in singles],
                [p.category for p in many],
                (total - explained.difference),
            )

    singles, many, gap = asyncio.run(ask())
    assert singles == many
    assert abs(gap) <= 1e-9


def test_the_client_waits_for_a_server_that_is_starting(
    tiny_model: Artifact, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Started and asked at once: refused connections are retried until it listens."""
    env = {"NEWSAPI_MODEL_PATH": str(tiny_model.path), "NEWSAPI_CACHE_DIR": str(tmp_path / "c")}
    starting = launch(tmp_path, env, extra_path=str(ROOT))
    try:
        with (
            caplog.at_level(logging.INFO, logger="newsapi.client"),
            Client(starting.url, retries=60, backoff=0.05) as client,
        ):
            assert not client.ready()  # no retries for this question
            assert client.predict(TEXTS[0]).category
        assert "ConnectError; try 2 of 61" in caplog.text
    finally:
        starting.stop()


def test_nothing_listening_is_not_ready_and_raises_after_the_retries() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0) as client:
        assert not client.ready()
        with pytest.raises(httpx.ConnectError):
            client.predict("moon")


# -- edge cases through httpx's transports ---------------------------------------------------------
def test_the_app_in_process_without_its_model_is_a_503_retried_then_raised(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    """httpx's ASGI transport runs no lifespan: the real app answers 503, model not loaded."""
    settings = Settings.of(model_path=tiny_model.path, cache_dir=tmp_path / "cache")
    app = httpx.ASGITransport(app=create_app(settings))
    calls: list[str] = []

    class Counted(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            return await app.handle_async_request(request)

    async def ask() -> ApiError:
        async with AsyncClient("http://app", retries=2, backoff=0, transport=Counted()) as c:
            try:
                await c.predict("moon")
            except ApiError as exc:
                return exc
        raise AssertionError("answered without a model")

    error = asyncio.run(ask())
    assert (error.status, error.message) == (503, "the model is not loaded")
    assert calls == ["/prediction"] * 3


Answers = list[httpx.Response | Exception]


def scripted(answers: Answers) -> Callable[[httpx.Request], httpx.Response]:
    """A transport handler that gives these answers in turn (an exception is raised)."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle


OK = httpx.Response(200, json={"category": "space"}, headers={"x-model-version": "v1"})


@pytest.mark.parametrize(
    "retry_after", ["0", email.utils.formatdate(0, usegmt=True)], ids=["seconds", "http-date"]
)
def test_a_503s_retry_after_is_honoured(retry_after: str, caplog: pytest.LogCaptureFixture) -> None:
    """The backoff would wait 30 s; Retry-After says now (0 s, or a date long past)."""
    busy = httpx.Response(503, json={"detail": "busy"}, headers={"retry-after": retry_after})
    transport = httpx.MockTransport(scripted([busy, OK]))
    with (
        caplog.at_level(logging.INFO, logger="newsapi.client"),
        Client("http://scripted", retries=1, backoff=30, transport=transport) as client,
    ):
        assert client.predict("moon").category == "space"
    assert "POST /prediction: 503; try 2 of 2 in 0.0 s" in caplog.text


def test_connection_errors_are_retried_and_4xx_never() -> None:
    refused = httpx.ConnectError("refused")
    answers: Answers = [refused, refused, OK]
    with Client("http://scripted", retries=2, backoff=0,
                transport=httpx.MockTransport(scripted(answers))) as client:  # fmt: skip
        assert client.predict("moon").model_version == "v1"
    assert answers == []
    limited = httpx.Response(429, json={"detail": "slow down"}, headers={"retry-after": "0"})
    answers = [limited, OK]
    transport = httpx.MockTransport(scripted(answers))
    with (
        Client("http://scripted", retries=3, backoff=0, transport=transport) as client,
        pytest.raises(ApiError) as refusal,
    ):
        client.predict("moon")
    assert (refusal.value.status, refusal.value.message) == (429, "slow down")
    assert answers == [OK]  # asked once


def test_v2_style_errors_and_bodies_that_are_not_json_keep_their_message() -> None:
    answers: Answers = [
        httpx.Response(400, json={"error": "unknown output 'x'"}),
        httpx.Response(502, text="<html>bad gateway</html>"),
    ]
    with Client("http://scripted", transport=httpx.MockTransport(scripted(answers))) as client:
        with pytest.raises(ApiError, match="400: unknown output 'x'"):
            client.predict("moon")
        with pytest.raises(ApiError, match="502: <html>bad gateway</html>"):
            client.predict("moon")
