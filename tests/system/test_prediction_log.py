"""The prediction log wired into the endpoints, over real HTTP: a real uvicorn worker with the
log on answers ``/prediction``, ``/predictions`` and V2 inference on both paths (the fast lane,
and the FastAPI routes that a query string or a version path reaches), then stops; the log's
files hold exactly those answers, under the ``X-Request-Id`` each answer carried."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.cache import entry_key
from newsapi.serving.predlog import read_log
from tests.support import CLEAN_EXIT, Server, launch, wait_ready
from tests.support.files import ROOT

pytestmark = pytest.mark.server

V2 = "/v2/models/newsgroups"
V2_BODY = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["orbit"]}]}


def call(server: Server, path: str, body: object, request_id: str | None = None) -> httpx.Response:
    headers = {} if request_id is None else {"X-Request-Id": request_id}
    response = httpx.post(f"{server.url}{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def traffic(server: Server) -> list[tuple[str, str, str, str]]:
    """Requests to the three endpoints on both paths, a cache hit among them; the
    ``(endpoint, request id, text, category)`` each answered text should be logged as."""
    expected = []

    def one(path: str, text: str, endpoint: str, request_id: str | None = None) -> str:
        response = call(server, path, {"text": text}, request_id)
        expected.append((endpoint, response.headers["x-request-id"], text,
                         response.json()["category"]))  # fmt: skip
        return response.headers["x-cache"]

    def many(path: str, texts: list[str], request_id: str | None = None) -> None:
        response = call(server, path, {"texts": texts}, request_id)
        categories = response.json()["categories"]
        rid = response.headers["x-request-id"]
        expected.extend(("predictions", rid, t, c) for t, c in zip(texts, categories, strict=True))

    def infer(path: str, texts: list[str], request_id: str | None = None) -> None:
        body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)],
                            "data": texts}]}  # fmt: skip
        response = call(server, path, body, request_id)
        [output] = response.json()["outputs"]
        rid = response.headers["x-request-id"]
        expected.extend(("v2_infer", rid, t, c) for t, c in zip(texts, output["data"], strict=True))

    one("/prediction", "the rocket will launch a satellite into orbit", "prediction", "client-1")
    assert one("/prediction", expected[-1][2], "prediction") == "hit"  # the same text again
    one("/prediction?scores=true", "a graphics card renders images", "prediction")
    many("/predictions", ["god and religion and faith", "windows on a pc"], "client-2")
    many("/predictions?scores=false", ["windows on a pc", "a new hard drive"])  # FastAPI
    infer(f"{V2}/infer", ["orbit of the moon"], "client-3")
    version = httpx.get(f"{server.url}/model").json()["model_version"]
    infer(f"{V2}/versions/{version}/infer", ["the moon", "jpeg images"])  # FastAPI
    return expected


def start_logging(tmp_path: Path, tiny_model: Artifact, **env: str) -> tuple[Server, Path]:
    folder = tmp_path / "log"
    values = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_PREDICTION_LOG_DIR": str(folder),
        **env,
    }
    server = launch(tmp_path, values, extra_path=str(ROOT))
    wait_ready(server)
    return server, folder


@pytest.mark.parametrize("keep_text", [False, True])
def test_every_answered_text_is_logged_under_its_request_id(
    tiny_model: Artifact, tmp_path: Path, keep_text: bool
) -> None:
    env = {"NEWSAPI_PREDICTION_LOG_TEXT": "true"} if keep_text else {}
    server, folder = start_logging(tmp_path, tiny_model, **env)
    try:
        expected = traffic(server)
        version = httpx.get(f"{server.url}/model").json()["model_version"]
    finally:
        assert server.stop() in CLEAN_EXIT  # stopping writes what was queued
    rows = read_log(folder).to_pylist()
    # the client's own ids came back, the others were made fresh (16 hex digits), all distinct
    ids = [rid for _, rid, _, _ in expected]
    assert {"client-1", "client-2", "client-3"} <= set(ids)
    fresh = {rid for rid in ids if not rid.startswith("client-")}
    assert all(len(rid) == 16 and int(rid, 16) >= 0 for rid in fresh)
    assert len(fresh) == 4
    # exactly those records: endpoint, request id, category, and the text's cache key
    by_digest = {entry_key(version, text): text for _, _, text, _ in expected}
    logged = sorted(
        (row["endpoint"], row["request_id"], by_digest[row["digest"]], row["category"])
        for row in rows
    )
    assert logged == sorted(expected)
    assert {row["model_version"] for row in rows} == {version}
    texts = [row["text"] for row in rows]
    if keep_text:
        assert texts == [by_digest[row["digest"]] for row in rows]
    else:
        assert texts == [None] * len(rows)  # no user text on disk by default


def test_sample_zero_logs_nothing_and_ids_are_still_returned(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    server, folder = start_logging(tmp_path, tiny_model, NEWSAPI_PREDICTION_LOG_SAMPLE="0")
    try:
        expected = traffic(server)
    finally:
        server.stop()
    assert len(expected) == 10
    assert read_log(folder).num_rows == 0


def test_request_id_rules_on_answers_and_errors(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    """Without the log too: sane ids echoed, others replaced, errors of both paths included,
    other paths without one."""
    server = start_server(tiny_model.path)
    url = server.url
    sane = "abc-DEF_123.~!" + "x" * 114  # 128 visible characters
    assert call(server, "/prediction", {"text": "orbit"}, sane).headers["x-request-id"] == sane
    for bad in ["x" * 129, "with space", ""]:
        got = call(server, "/prediction", {"text": "orbit"}, bad).headers["x-request-id"]
        assert got != bad
        assert len(got) == 16
    errors = [
        httpx.post(f"{url}/prediction", json={"text": ""}, headers={"X-Request-Id": "e-1"}),
        httpx.post(f"{url}/predictions?scores=maybe", json={"texts": ["a"]},
                   headers={"X-Request-Id": "e-2"}),
        httpx.post(f"{url}{V2}/infer", json={"inputs": []}, headers={"X-Request-Id": "e-3"}),
        httpx.post(f"{url}/v2/models/other/versions/1/infer", json=V2_BODY,
                   headers={"X-Request-Id": "e-4"}),
    ]  # fmt: skip
    assert [r.status_code for r in errors] == [422, 422, 400, 404]
    assert [r.headers["x-request-id"] for r in errors] == ["e-1", "e-2", "e-3", "e-4"]
    assert "x-request-id" not in httpx.get(f"{url}/healthz").headers
    assert "x-request-id" not in httpx.get(f"{url}/model").headers


def test_a_log_without_pyarrow_refuses_to_start_with_one_line(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    # a pyarrow package whose import fails, first on the server's path: what a server
    # installed without the scoring extra finds
    blocker = tmp_path / "blocker" / "pyarrow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no pyarrow here (the test)')\n")
    env = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_PREDICTION_LOG_DIR": str(tmp_path / "log"),
    }
    server = launch(tmp_path, env, extra_path=os.pathsep.join([str(blocker.parent), str(ROOT)]))
    code = server.process.wait(30)
    log = server.log()
    assert code == 3  # uvicorn's code for a failed start-up (with one worker)
    assert "Traceback" not in log
    [line] = [line for line in log.splitlines() if "newsapi cannot start" in line]
    assert "pyarrow is not installed" in line
    assert "newsapi[scoring]" in line
