"""``POST /feedback`` over real HTTP, on a real uvicorn worker with the prediction log on: by
request id (held by the writer, and already in a file) and by text, the admin token, each 4xx
naming what was wrong, the live accuracy gauges, and the feedback files once it stops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.cache import entry_key
from newsapi.serving.predlog import read_log
from newsapi.serving.predlog.feedback import read_feedback
from tests.support import CLEAN_EXIT, Server, metric, wait_for

pytestmark = pytest.mark.server

TOKEN = "feedback-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def post(server: Server, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/feedback", json=body, headers=AUTH if headers is None else headers
    )


def predict(server: Server, text: str) -> tuple[str, str]:
    """The request id and the answer of ``/prediction``."""
    response = httpx.post(f"{server.url}/prediction", json={"text": text})
    assert response.status_code == 200
    return response.headers["x-request-id"], response.json()["category"]


@pytest.fixture
def logging_server(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> tuple[Server, Path]:
    folder = tmp_path / "log"
    server = start_server(
        tiny_model.path,
        NEWSAPI_PREDICTION_LOG_DIR=str(folder),
        NEWSAPI_PREDICTION_LOG_FILE_SECONDS="1",
        NEWSAPI_ADMIN_TOKEN=TOKEN,
    )
    return server, folder


def test_feedback_by_request_id_and_by_text_is_recorded(
    logging_server: tuple[Server, Path], tiny_model: Artifact
) -> None:
    server, folder = logging_server
    version = tiny_model.model_version
    # right after its answer: the record is still in the writer's queue or memory
    fresh, answer = predict(server, "the rocket will orbit the moon")
    assert answer == "space"
    response = post(server, {"request_id": fresh, "label": "space"})
    assert response.status_code == 201, response.text
    assert response.json() == {"label": "space", "request_id": fresh, "model_version": version,
                               "category": "space"}  # fmt: skip
    # an older one, once its file is written (a file every second here)
    old, answer = predict(server, "garlic butter and pasta sauce")
    wait_for(lambda: old in read_log(folder).column("request_id").to_pylist(), what="its file")
    response = post(server, {"request_id": old, "label": "sport"})  # the model said cooking
    assert response.status_code == 201, response.text
    assert answer == "cooking"
    assert response.json()["category"] == "cooking"
    # by text: the served model's answer to it is the one labelled
    response = post(server, {"text": "a football match and its referee", "label": "sport"})
    assert response.status_code == 201, response.text
    assert response.json() == {"label": "sport", "request_id": None, "model_version": version,
                               "category": "sport"}  # fmt: skip
    text = httpx.get(f"{server.url}/metrics").text
    assert metric(text, "newsapi_prediction_window_feedback", model_version=version) == 3
    assert metric(text, "newsapi_prediction_window_accuracy", model_version=version) == 2 / 3
    assert server.stop() in CLEAN_EXIT
    records = sorted(read_feedback(folder).to_pylist(), key=lambda r: r["time"])
    assert [(r["request_id"], r["label"], r["category"], r["model_version"]) for r in records] == [
        (fresh, "space", "space", version),
        (old, "sport", "cooking", version),
        (None, "sport", "sport", version),
    ]
    assert records[2]["text"] == "a football match and its referee"
    assert records[2]["digest"] == entry_key(version, "a football match and its referee")
    assert records[0]["digest"] == entry_key(version, "the rocket will orbit the moon")
    assert records[0]["text"] is None  # the log keeps no text by default, nor does feedback
    assert "Traceback" not in server.log()


def test_each_refusal_names_what_was_wrong(logging_server: tuple[Server, Path]) -> None:
    server, _ = logging_server
    request_id, _ = predict(server, "the shuttle launch")
    cases: list[tuple[object, int, str]] = [
        ({"request_id": request_id, "label": "sci.med"}, 422,
         "unknown label 'sci.med': the served model's categories are cooking, space, sport"),
        ({"request_id": "never-seen", "label": "space"}, 404,
         "request 'never-seen' is not in the prediction log"),
        ({"request_id": request_id, "text": "x", "label": "space"}, 422,
         "send exactly one of request_id and text"),
        ({"label": "space"}, 422, "send exactly one of request_id and text"),
        ({"text": "x", "label": "space", "weight": 2}, 422, "Extra inputs are not permitted"),
        ({"text": "", "label": "space"}, 422, "at least 1 character"),
        ({"request_id": None, "label": "space"}, 422, "request_id must be a string"),
    ]  # fmt: skip
    for body, status, message in cases:
        response = post(server, body)
        assert response.status_code == status, (body, response.text)
        assert message in response.text, (body, response.text)
    # one id, several texts: which one the label is for cannot be told
    many = httpx.post(f"{server.url}/predictions", json={"texts": ["orbit", "pasta"]},
                      headers={"X-Request-Id": "two-texts"})  # fmt: skip
    assert many.status_code == 200
    response = post(server, {"request_id": "two-texts", "label": "space"})
    assert response.status_code == 422
    assert "request 'two-texts' logged 2 different texts" in response.json()["detail"]


def test_the_admin_token_is_required(logging_server: tuple[Server, Path]) -> None:
    server, _ = logging_server
    body = {"text": "orbit", "label": "space"}
    assert post(server, body, headers={}).status_code == 401
    wrong = post(server, body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert post(server, body).status_code == 201


def test_without_the_prediction_log_feedback_is_refused(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    server = start_server(tiny_model.path)
    response = httpx.post(f"{server.url}/feedback", json={"text": "orbit", "label": "space"})
    assert response.status_code == 409
    assert "feedback needs the prediction log: set NEWSAPI_PREDICTION_LOG_DIR" in response.text


def test_the_feedback_folder_stays_under_its_bound(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    """Each file written removes the oldest ones beyond NEWSAPI_PREDICTION_LOG_FEEDBACK_BYTES
    (a file of one record is about 2 KiB: the bound keeps one or two)."""
    folder = tmp_path / "log" / "feedback"
    limit = 5000
    server = start_server(
        tiny_model.path,
        NEWSAPI_PREDICTION_LOG_DIR=str(tmp_path / "log"),
        NEWSAPI_PREDICTION_LOG_FILE_SECONDS="0.1",
        NEWSAPI_PREDICTION_LOG_FEEDBACK_BYTES=str(limit),
    )
    names: set[str] = set()
    for written in range(1, 6):
        body = {"text": f"the rocket number {written}", "label": "space"}
        assert httpx.post(f"{server.url}/feedback", json=body).status_code == 201

        def counted(n: int = written) -> bool:
            exposition = httpx.get(f"{server.url}/metrics").text
            return metric(exposition, "newsapi_feedback_records_total") == n

        wait_for(counted, what="the feedback file")
        files = list(folder.glob("feedback-*.parquet"))
        assert sum(path.stat().st_size for path in files) <= limit
        names |= {path.name for path in files}
    assert len(names) == 5  # one file per record, here
    assert len(list(folder.glob("feedback-*.parquet"))) < 5  # the oldest ones removed
    assert read_feedback(tmp_path / "log").column("text").to_pylist()[-1] == "the rocket number 5"
