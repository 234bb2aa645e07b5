"""``POST /explanation`` and ``POST /v2/models/{name}/explain`` over real HTTP to a real
uvicorn: the explanation of the category ``/prediction`` gives, exact, through the same
request pipeline as every other body."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from newsapi.model.artifact import Artifact, save_artifact
from newsapi.training.pipeline import build_pipeline
from tests.support import ROOT, Server, launch, metric, tiny_corpus, wait_ready

pytestmark = pytest.mark.server

TEXTS = [
    "The rocket, the ROCKET and the moon: launch!",
    "bake the pasta with garlic butter",
    "the striker scored a goal in the match",
]
BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def server(tiny_model: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (every test only reads)."""
    folder = tmp_path_factory.mktemp("explain")
    env = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(folder / "cache"),
        "NEWSAPI_MAX_BODY_BYTES": str(BODY_LIMIT),
        "NEWSAPI_MAX_TEXT_LENGTH": "1000",
    }
    running = launch(folder, env, extra_path=str(ROOT))
    wait_ready(running)
    yield running
    running.stop()


def explain(server: Server, text: str, **fields: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/explanation", json={"text": text, **fields}, timeout=10)


def v2_request(texts: list[str], **fields: Any) -> dict[str, Any]:
    tensor = {"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}
    return {"inputs": [tensor], **fields}


def test_the_explanation_is_of_the_category_prediction_gives_and_adds_up(
    server: Server, tiny_model: Artifact
) -> None:
    for text in TEXTS:
        predicted = httpx.post(f"{server.url}/prediction", json={"text": text}).json()
        response = explain(server, text, top=3)
        assert response.status_code == 200
        body = response.json()
        assert body["category"] == predicted["category"]
        assert body["runner_up"] != body["category"]
        assert body["score"] == "joint_log_likelihood"  # the tiny model is naive Bayes
        assert len(body["terms"]) <= 3
        total = body["bias"] + sum(t["weight"] for t in body["terms"]) + body["rest"]
        assert abs(total - body["difference"]) <= 1e-9
        assert body["model_version"] == tiny_model.model_version
        assert response.headers["x-model-version"] == tiny_model.model_version
        assert response.headers["x-cache"] == "miss"  # computed fresh, always
        for term in body["terms"]:
            assert [text[a:b].lower() for a, b in term["spans"]] == [term["term"]] * len(
                term["spans"]
            )


def test_spans_count_characters_not_bytes(server: Server) -> None:
    text = "é🚀 moon — ROCKET, rocket"
    body = explain(server, text).json()
    spans = {t["term"]: t["spans"] for t in body["terms"]}
    assert [text[a:b] for a, b in spans["rocket"]] == ["ROCKET", "rocket"]
    assert [text[a:b] for a, b in spans["moon"]] == ["moon"]


def test_top_defaults_to_ten_and_zero_lists_none(server: Server) -> None:
    many = "rocket orbit launch nasa astronaut moon recipe oven flour butter garlic football goal"
    assert len(explain(server, many).json()["terms"]) == 10
    assert len(explain(server, many, top=3.0).json()["terms"]) == 3  # JSON Schema's integer
    none = explain(server, many, top=0).json()
    assert none["terms"] == []
    assert none["rest_terms"] == 13
    assert abs(none["bias"] + none["rest"] - none["difference"]) <= 1e-9


def test_explanation_goes_through_the_request_pipeline(server: Server) -> None:
    url = f"{server.url}/explanation"
    wrong_type = httpx.post(
        url, content=b'{"text": "moon"}', headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    assert "Content-Type: application/json" in wrong_type.json()["detail"]
    too_large = httpx.post(url, json={"text": "moon " * BODY_LIMIT})
    assert too_large.status_code == 413
    assert "NEWSAPI_MAX_BODY_BYTES" in too_large.json()["detail"]
    for body, where in [
        ({"text": ""}, ["body", "text"]),
        ({"text": "moon", "top": 101}, ["body", "top"]),
        ({"text": "moon", "top": -1}, ["body", "top"]),
        ({"text": "moon", "top": False}, ["body", "top"]),
        ({"text": "moon", "top": "3"}, ["body", "top"]),
        ({"text": "moon", "top": 2.5}, ["body", "top"]),
        ({"text": "x" * 1001}, ["body", "text"]),
        ({"texts": ["moon"]}, ["body", "text"]),
    ]:
        refused = httpx.post(url, json=body)
        assert refused.status_code == 422, body
        assert refused.json()["detail"][0]["loc"] == where
    invalid = httpx.post(
        url, content=b'{"text": "moo', headers={"content-type": "application/json"}
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["type"] == "json_invalid"
    metrics = httpx.get(f"{server.url}/metrics").text
    requests = "newsapi_http_requests_total"
    assert metric(metrics, requests, route="/explanation", status="415") >= 1
    assert metric(metrics, requests, route="/explanation", status="422") >= 9
    assert "Traceback" not in server.log()


def test_v2_explain_answers_the_same_explanations_as_tensors(
    server: Server, tiny_model: Artifact
) -> None:
    url = f"{server.url}/v2/models/newsgroups/explain"
    response = httpx.post(url, json=v2_request(TEXTS, id="7", parameters={"top": 2}))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "7"
    assert body["model_version"] == tiny_model.model_version
    outputs = {output["name"]: output for output in body["outputs"]}
    assert list(outputs) == ["category", "runner_up", "difference", "explanation"]
    assert all(output["shape"] == [3] for output in outputs.values())
    assert outputs["difference"]["datatype"] == "FP64"
    explained = [json.loads(document) for document in outputs["explanation"]["data"]]
    for text, document, category in zip(TEXTS, explained, outputs["category"]["data"], strict=True):
        assert document == explain(server, text, top=2).json()
        assert document["category"] == category
    one_version = f"{server.url}/v2/models/newsgroups/versions/{tiny_model.model_version}/explain"
    rows = v2_request([TEXTS[0]], outputs=[{"name": "category"}])
    rows["inputs"][0]["shape"] = [1, 1]
    only = httpx.post(one_version, json=rows).json()
    assert [output["name"] for output in only["outputs"]] == ["category"]
    assert only["outputs"][0]["data"] == [explained[0]["category"]]


def test_v2_explain_refuses_as_infer_does(server: Server) -> None:
    base = f"{server.url}/v2/models"
    cases = [
        (f"{base}/other/explain", v2_request(["moon"]), 404, "unknown model 'other'"),
        (f"{base}/newsgroups/versions/0000/explain", v2_request(["moon"]), 404, "no version"),
        (f"{base}/newsgroups/explain", v2_request(["moon"], parameters={"top": 101}), 400, "top"),
        (f"{base}/newsgroups/explain", v2_request(["moon"], outputs=[{"name": "scores"}]), 400,
         "unknown output 'scores'"),
        (f"{base}/newsgroups/explain", {"inputs": [{"name": "text", "shape": [2],
         "datatype": "BYTES", "data": ["moon"]}]}, 400, "shape [2] does not fit 1 texts"),
    ]  # fmt: skip
    for url, body, status, message in cases:
        response = httpx.post(url, json=body)
        assert response.status_code == status, (url, body)
        assert message in response.json()["error"]


def test_a_model_that_cannot_be_explained_exactly_is_refused_with_the_reason(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    corpus = tiny_corpus()
    vectorizer = build_pipeline()[0]
    pipeline = make_pipeline(vectorizer, CalibratedClassifierCV(LinearSVC(), cv=3))
    pipeline.fit(corpus.train_texts, corpus.train_labels)
    artifact = save_artifact(pipeline, corpus.target_names, tmp_path / "calibrated.joblib")
    server = start_server(artifact.path)
    book = explain(server, "rocket")
    assert book.status_code == 422
    assert "calibrated" in book.json()["detail"]
    v2 = httpx.post(f"{server.url}/v2/models/newsgroups/explain", json=v2_request(["rocket"]))
    assert v2.status_code == 400
    assert "without calibrate" in v2.json()["error"]
    assert httpx.post(f"{server.url}/prediction", json={"text": "rocket"}).status_code == 200


def test_the_fast_lane_and_the_route_answer_the_same_bytes(server: Server) -> None:
    """Without a query string the fast lane answers, with one FastAPI's route: both through
    the same handler."""

    def handled(handler: str) -> float:
        text = httpx.get(f"{server.url}/metrics").text
        return metric(text, "newsapi_http_requests_total", route="/explanation", status="200",
                      handler=handler)  # fmt: skip

    before = {handler: handled(handler) for handler in ("lane", "app")}
    body = {"text": "the rocket, the moon and the oven", "top": 4}
    lane = httpx.post(f"{server.url}/explanation", json=body)
    route = httpx.post(f"{server.url}/explanation?via=route", json=body)
    assert lane.content == route.content
    assert lane.headers["x-model-version"] == route.headers["x-model-version"]
    assert {handler: handled(handler) - before[handler] for handler in before} == {
        "lane": 1,
        "app": 1,
    }
