"""The HTTP API on a small model, through the app's real lifespan."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact
from newsapi.settings import Settings
from tests.support import metric, train_tiny

SPACE = "the rocket will launch a satellite into orbit"


def test_importing_the_app_touches_no_disk(tmp_path: Path) -> None:
    settings = Settings.of(model_path=tmp_path / "nothing.joblib", cache_dir=tmp_path / "cache")
    app = create_app(settings)
    assert app.state.classifier is None
    assert list(tmp_path.iterdir()) == []


def test_prediction_contract_is_the_books(client: TestClient, tiny_model: Artifact) -> None:
    response = client.post("/prediction", json={"text": SPACE})
    assert response.status_code == 200
    assert response.content == b'{"category":"space"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-model-version"] == tiny_model.model_version
    assert response.headers["x-cache"] == "miss"
    again = client.post("/prediction", json={"text": SPACE})
    assert again.json() == {"category": "space"}
    assert again.headers["x-cache"] == "hit"


def test_scores_are_opt_in(client: TestClient) -> None:
    body = client.post("/prediction?scores=true", json={"text": SPACE}).json()
    assert body["category"] == "space"
    assert set(body["scores"]) == {"cooking", "space", "sport"}
    assert abs(sum(body["scores"].values()) - 1) < 1e-3
    assert max(body["scores"], key=body["scores"].__getitem__) == "space"
    # an explicit false goes through the FastAPI route and answers the same bytes
    plain = client.post("/prediction?scores=false", json={"text": SPACE})
    assert plain.content == b'{"category":"space"}'


def test_scores_refused_for_models_without_probabilities(
    client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    svc = train_tiny(tmp_path / "svc" / "m.joblib", classifier="linear_svc")
    client = client_for(svc.path)
    assert client.post("/prediction", json={"text": SPACE}).json() == {"category": "space"}
    response = client.post("/prediction?scores=1", json={"text": SPACE})
    assert response.status_code == 422
    assert "LinearSVC" in response.json()["detail"]


def test_predictions_keep_order(client: TestClient) -> None:
    texts = [SPACE, "bake the pasta with garlic butter", "the striker scored a goal", SPACE]
    response = client.post("/predictions", json={"texts": texts})
    assert response.status_code == 200
    assert response.json() == {"categories": ["space", "cooking", "sport", "space"]}
    assert response.headers["x-cache"] == "miss"
    assert client.post("/predictions", json={"texts": texts}).headers["x-cache"] == "hit"
    scored = client.post("/predictions?scores=true", json={"texts": texts[:2]}).json()
    assert scored["categories"] == ["space", "cooking"]
    assert len(scored["scores"]) == 2


@pytest.mark.parametrize(
    ("body", "where", "kind"),
    [
        ({}, ["body", "text"], "missing"),
        ({"text": ""}, ["body", "text"], "string_too_short"),
        ({"text": 42}, ["body", "text"], "string_type"),
        ({"text": None}, ["body", "text"], "string_type"),
        ({"text": "x" * 1001}, ["body", "text"], "string_too_long"),
        ([1, 2], ["body"], "model_type"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(
    client_for: Callable[..., TestClient],
    tiny_model: Artifact,
    body: object,
    where: list[str],
    kind: str,
) -> None:
    client = client_for(tiny_model.path, max_text_length=1000)
    response = client.post("/prediction", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (where, kind)
    assert error["msg"]
    assert "input" not in error  # a 20,000-character text is not echoed back


def test_invalid_json_and_wrong_content_type(client: TestClient) -> None:
    response = client.post(
        "/prediction",
        content=b'{"text": "unterminated',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    response = client.post(
        "/prediction", content=b"text=hello", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_batch_limit(client_for: Callable[..., TestClient], tiny_model: Artifact) -> None:
    client = client_for(tiny_model.path, max_batch_size=3)
    assert client.post("/predictions", json={"texts": [SPACE] * 3}).status_code == 200
    response = client.post("/predictions", json={"texts": [SPACE] * 4})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "too_long"
    assert client.post("/predictions", json={"texts": []}).status_code == 422


def test_oversized_body_gets_413(
    client_for: Callable[..., TestClient], tiny_model: Artifact
) -> None:
    client = client_for(tiny_model.path, max_body_bytes=1000)
    response = client.post("/prediction", json={"text": "word " * 400})
    assert response.status_code == 413

    def chunks() -> object:  # no content-length: the limit holds while streaming
        for _ in range(100):
            yield b"x" * 100

    response = client.post(
        "/prediction", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_model_info(client: TestClient, tiny_model: Artifact) -> None:
    info = client.get("/model").json()
    assert info["model_version"] == tiny_model.model_version
    assert info["categories"] == ["cooking", "space", "sport"]
    assert info["metrics"]["accuracy"] >= 0.9
    assert info["parameters"]["classifier"] == "multinomial_nb"
    assert info["created_at"] == tiny_model.manifest["created_at"]


def test_probes_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"detail": "alive"}
    assert client.get("/readyz").status_code == 200
    client.post("/prediction", json={"text": SPACE})
    client.post("/prediction", json={"text": SPACE})
    client.post("/predictions", json={"texts": [SPACE, "a goal in the match"]})
    text = client.get("/metrics").text
    assert metric(text, "newsapi_http_requests_total", route="/prediction", status="200") == 2
    assert 'newsapi_cache_hits_total{tier="memory"} 2.0' in text
    assert 'newsapi_cache_misses_total{tier="memory"} 2.0' in text
    # the lone short text is computed on the event loop, the /predictions miss in the thread
    assert 'newsapi_predictions_total{endpoint="inline"} 1.0' in text
    assert 'newsapi_predictions_total{endpoint="model"} 1.0' in text
    assert "newsapi_model_batch_size_count 2.0" in text
    assert 'newsapi_http_request_duration_seconds_count{route="/predictions"} 1.0' in text


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths) >= {"/prediction", "/predictions", "/cache", "/admin/reload", "/model",
                          "/healthz", "/readyz", "/metrics"}  # fmt: skip
    prediction = paths["/prediction"]["post"]
    ref = prediction["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rpartition("/")[2]]
    assert schema["properties"]["text"]["maxLength"] == 100_000
    assert {"200", "413", "415", "422"} <= set(prediction["responses"])
    assert "X-Model-Version" in prediction["responses"]["200"]["headers"]
    assert prediction["parameters"][0]["name"] == "scores"


def test_cache_clear_is_open_without_token(client: TestClient) -> None:
    client.post("/prediction", json={"text": SPACE})
    assert client.delete("/cache").status_code == 204
    assert client.post("/prediction", json={"text": SPACE}).headers["x-cache"] == "miss"


def test_admin_token(
    client_for: Callable[..., TestClient], tiny_model: Artifact, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(tiny_model.path, admin_token="s3cret-token")
    for method, path in (("DELETE", "/cache"), ("POST", "/admin/reload")):
        missing = client.request(method, path)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        assert "s3cret" not in wrong.text
    right = {"Authorization": "Bearer s3cret-token"}
    assert client.delete("/cache", headers=right).status_code == 204
    assert client.post("/admin/reload", headers=right).json()["changed"] is False
    assert "s3cret" not in caplog.text
    assert "NEWSAPI_ADMIN_TOKEN is not set" not in caplog.text


def test_open_admin_routes_are_warned_about(
    client_for: Callable[..., TestClient], tiny_model: Artifact, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        client_for(tiny_model.path)
    assert "NEWSAPI_ADMIN_TOKEN is not set" in caplog.text


def test_model_info_names_no_server_path(
    client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    from newsapi.model.artifact import save_artifact

    corpus = str(tmp_path / "private" / "own.csv")
    tiny = train_tiny(tmp_path / "m" / "model.joblib")
    own = save_artifact(
        tiny.pipeline, tiny.target_names, tiny.path,
        parameters={"dataset": corpus}, dataset={"source": "csv", "path": corpus},
    )  # fmt: skip
    info = client_for(own.path).get("/model").json()
    assert info["parameters"]["dataset"] == "own.csv"
    assert info["dataset"]["path"] == "own.csv"
    assert str(tmp_path) not in json.dumps(info)


def test_model_that_cannot_predict_is_refused(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    from sklearn.pipeline import make_pipeline

    from newsapi.model.artifact import save_artifact
    from newsapi.training.pipeline import build_pipeline

    unfitted = make_pipeline(*[step for _, step in build_pipeline().steps])
    path = save_artifact(unfitted, ["a", "b"], tmp_path / "m" / "model.joblib").path
    app = create_app(settings_for(path))
    with pytest.raises(Exception, match="loads but cannot predict"), TestClient(app):
        pass


def test_missing_model_refuses_to_start(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    app = create_app(settings_for(tmp_path / "absent.joblib"))
    with pytest.raises(Exception, match="does not exist; run `make train`"), TestClient(app):
        pass
